package appid

import (
	"os"
	"os/exec"
)

// Register does nothing on macOS: the bundle's Info.plist names the app.
func Register(id, name, icon string) error { return nil }

// Notify shows a notification through osascript with app as its title when this binary is not
// inside an app bundle, and reports whether it did; inside a bundle Fyne's own notification
// already carries the bundle's name.
func Notify(app, title, body string) bool {
	exe, err := os.Executable()
	if err != nil || bundled(exe) {
		return false
	}
	return exec.Command("osascript", "-e", appleScript(app, title, body)).Start() == nil
}
