// Package appid makes notifications carry the app's name on the platforms that do not take it
// from the notification itself. Linux daemons show the name the sender passes (the ui passes
// "Clawgate" over D-Bus). Windows labels a toast with the DisplayName registered for the
// AppUserModelID it was sent under (Fyne sends under its app id), and without one shows the id or
// PowerShell's name: Register records it. macOS labels a notification with the sending bundle's
// name: inside Clawgate.app (make package) that is "Clawgate", but a bare binary can only notify
// through osascript, whose notifications are Script Editor's: Notify then puts the app's name in
// the title and the notification's title in the subtitle.
package appid

import (
	"path/filepath"
	"strings"
)

// bundled says whether exe runs from inside a macOS app bundle (X.app/Contents/MacOS/exe).
func bundled(exe string) bool {
	dir := filepath.Dir(exe)
	return filepath.Base(dir) == "MacOS" && filepath.Base(filepath.Dir(dir)) == "Contents" &&
		strings.HasSuffix(filepath.Dir(filepath.Dir(dir)), ".app")
}

// appleScript is the osascript line that shows body under the app's name, with title below it.
func appleScript(app, title, body string) string {
	return `display notification ` + quote(body) + ` with title ` + quote(app) + ` subtitle ` + quote(title)
}

// quote is s as an AppleScript string literal.
func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}
