package main

import (
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

// The icons committed in assets/ are the ones this program draws: a change to the drawing (or a
// hand-edited PNG) shows here until `make icons` is run and its output committed. Pixels are
// compared, not bytes, so a change in Go's PNG encoder does not matter.
func TestAssetsAreWhatGeniconsDraws(t *testing.T) {
	for _, ic := range icons() {
		t.Run(ic.name, func(t *testing.T) {
			got := render(ic.size, ic.layers)
			f, err := os.Open(filepath.Join("..", "..", "assets", ic.name))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			want, err := png.Decode(f)
			if err != nil {
				t.Fatal(err)
			}
			if want.Bounds() != got.Bounds() {
				t.Fatalf("assets/%s is %v, genicons draws %v", ic.name, want.Bounds(), got.Bounds())
			}
			if n := differing(got, want); n > 0 {
				t.Errorf("assets/%s: %d pixels differ from what genicons draws (run make icons)", ic.name, n)
			}
		})
	}
}

func differing(a, b image.Image) int {
	n := 0
	r := a.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			ar, ag, ab, aa := a.At(x, y).RGBA()
			br, bg, bb, ba := b.At(x, y).RGBA()
			if aa != ba || (aa != 0 && (ar != br || ag != bg || ab != bb)) {
				n++
			}
		}
	}
	return n
}

// write stores an icon as a PNG that decodes to what render drew, and reports a failure.
func TestWriteRoundTrips(t *testing.T) {
	dir := t.TempDir()
	ic := icons()[1]
	path := filepath.Join(dir, ic.name)
	img := render(ic.size, ic.layers)
	if err := write(path, img); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	back, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if n := differing(img, back); n > 0 {
		t.Errorf("%d pixels changed through write and decode", n)
	}
	if err := write(filepath.Join(dir, "no", "such", "folder.png"), img); err == nil {
		t.Error("write into a missing folder did not fail")
	}
}
