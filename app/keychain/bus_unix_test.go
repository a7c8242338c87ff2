//go:build (dragonfly && cgo) || (freebsd && cgo) || linux || netbsd || openbsd

package keychain

import (
	"os"
	"testing"
)

func TestHaveSessionBus(t *testing.T) {
	withBus := t.TempDir()
	if err := os.WriteFile(withBus+"/bus", nil, 0o600); err != nil {
		t.Fatal(err)
	}
	withFile := t.TempDir()
	if err := os.WriteFile(withFile+"/dbus-session", []byte("DBUS_SESSION_BUS_ADDRESS=unix:path=/x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := t.TempDir()
	tests := []struct {
		name, address, dir string
		want               bool
	}{
		{"address set", "unix:path=/run/user/1000/bus", empty, true},
		{"no address, user bus socket", "", withBus, true},
		{"no address, dbus-session file", "", withFile, true},
		{"no address, nothing", "", empty, false},
		{"autolaunch is not a bus", "autolaunch:", empty, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := haveSessionBus(tt.address, tt.dir); got != tt.want {
				t.Errorf("haveSessionBus(%q, %s) = %v, want %v", tt.address, tt.dir, got, tt.want)
			}
		})
	}
}
