//go:build !linux

package ui

import (
	"fyne.io/fyne/v2"

	"github.com/clawgate/clawgate/app/appid"
)

// platformNotifier is Fyne's own notification, named "Clawgate" the platform's way (app/appid):
// on Windows the toast's AppUserModelID (Fyne sends the app id) is registered with the name and
// icon; on macOS a binary outside Clawgate.app notifies through osascript with the name as title.
func platformNotifier(a fyne.App) func(title, body string) {
	if err := appid.Register(appID, appName, iconFile()); err != nil {
		fyne.LogError("notifications will not carry the app's name", err)
	}
	return func(title, body string) {
		if !appid.Notify(appName, title, body) {
			a.SendNotification(fyne.NewNotification(title, body))
		}
	}
}
