package app

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/clawgate/clawgate/app/autostart"
)

// loginEntry is the start-at-login entry for the running binary.
func loginEntry() (autostart.Entry, error) {
	exe, err := os.Executable()
	if err == nil {
		exe, err = filepath.EvalSymlinks(exe)
	}
	if err != nil {
		return autostart.Entry{}, fmt.Errorf("start at login: find this program: %w", err)
	}
	return autostart.ForUser(exe)
}

// StartAtLogin reports whether the desktop starts Clawgate at login.
func (a *App) StartAtLogin() bool {
	e, err := loginEntry()
	return err == nil && e.Enabled()
}

// SetStartAtLogin makes the desktop start this binary at login, or stop doing so.
func (a *App) SetStartAtLogin(on bool) error {
	e, err := loginEntry()
	if err != nil {
		return err
	}
	if on {
		err = e.Enable()
	} else {
		err = e.Disable()
	}
	if err == nil {
		a.log.Info("start at login", "on", on, "entry", e.Path)
	}
	return err
}
