// Package autostart turns "start Clawgate at login" on and off the way each desktop expects: an XDG
// autostart entry on Linux and the BSDs, a LaunchAgent on macOS, a command file in the Startup folder
// on Windows. It writes only its own file and reads nothing else.
package autostart

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Entry is one platform's start-at-login file for the executable at Exe.
type Entry struct {
	// Path is the file that, present, makes the desktop start Clawgate at login.
	Path string
	// Exe is the absolute path of the clawgate binary to start.
	Exe string
}

// ForUser returns the entry for the current user and this platform, starting exe.
func ForUser(exe string) (Entry, error) {
	path, err := entryPath()
	if err != nil {
		return Entry{}, fmt.Errorf("start at login: %w", err)
	}
	return Entry{Path: path, Exe: exe}, nil
}

// Enabled reports whether the entry exists.
func (e Entry) Enabled() bool {
	_, err := os.Stat(e.Path)
	return err == nil
}

// Enable writes the entry (replacing an older one, which may name another binary).
func (e Entry) Enable() error {
	if !filepath.IsAbs(e.Exe) {
		return fmt.Errorf("start at login: %q is not an absolute path", e.Exe)
	}
	if err := os.MkdirAll(filepath.Dir(e.Path), 0o755); err != nil {
		return fmt.Errorf("start at login: %w", err)
	}
	tmp := e.Path + ".tmp"
	if err := os.WriteFile(tmp, content(e.Exe), 0o644); err != nil {
		return fmt.Errorf("start at login: %w", err)
	}
	if err := os.Rename(tmp, e.Path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("start at login: %w", err)
	}
	return nil
}

// Disable removes the entry; an entry that is not there is not an error.
func (e Entry) Disable() error {
	if err := os.Remove(e.Path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("start at login: %w", err)
	}
	return nil
}
