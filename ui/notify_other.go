//go:build !linux

package ui

import "fyne.io/fyne/v2"

// platformNotifier is Fyne's own notification, which on macOS and Windows carries the app's name.
func platformNotifier(a fyne.App) func(title, body string) {
	return func(title, body string) { a.SendNotification(fyne.NewNotification(title, body)) }
}
