//go:build !darwin && !windows

package autostart

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestXDGAutostart(t *testing.T) {
	cfg := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", cfg)
	e, err := ForUser("/home/u/.local/bin/clawgate")
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(cfg, "autostart", "clawgate.desktop"); e.Path != want {
		t.Fatalf("path %q, want %q", e.Path, want)
	}
	if e.Enabled() {
		t.Fatal("enabled before Enable")
	}
	if err := e.Enable(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(e.Path)
	if err != nil || !e.Enabled() || !strings.Contains(string(data), "\nExec=\"/home/u/.local/bin/clawgate\"\n") ||
		!strings.HasPrefix(string(data), "[Desktop Entry]\nType=Application\n") {
		t.Fatalf("entry %q (%v)", data, err)
	}
	if err := e.Disable(); err != nil || e.Enabled() {
		t.Fatalf("Disable: %v, still enabled %v", err, e.Enabled())
	}
	if err := e.Disable(); err != nil {
		t.Errorf("second Disable: %v", err)
	}
	if err := (Entry{Path: e.Path, Exe: "clawgate"}).Enable(); err == nil {
		t.Error("a relative path was accepted")
	}
}

func TestExecQuoting(t *testing.T) {
	got := string(content("/opt/my apps/claw$gate"))
	if !strings.Contains(got, "Exec=\"/opt/my apps/claw\\$gate\"\n") {
		t.Errorf("content %q", got)
	}
}
