package assets

import (
	"bytes"
	"image/png"
	"testing"
)

func TestIconsDecode(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		size int
	}{
		{"icon", Icon, 256},
		{"ok", TrayOK, 64},
		{"warn", TrayWarn, 64},
		{"blocked", TrayBlocked, 64},
		{"paused", TrayPaused, 64},
		{"error", TrayError, 64},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img, err := png.Decode(bytes.NewReader(tt.data))
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			b := img.Bounds()
			if b.Dx() != tt.size || b.Dy() != tt.size {
				t.Fatalf("size %dx%d, want %dx%d", b.Dx(), b.Dy(), tt.size, tt.size)
			}
			// Corners are transparent (a disc or rounded square) and the centre is opaque.
			if _, _, _, a := img.At(0, 0).RGBA(); a != 0 {
				t.Errorf("corner alpha %d, want 0", a)
			}
			if _, _, _, a := img.At(tt.size/2, tt.size/2).RGBA(); a != 0xffff {
				t.Errorf("centre alpha %d, want opaque", a)
			}
		})
	}
}
