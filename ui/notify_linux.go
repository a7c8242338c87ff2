package ui

import (
	"context"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"github.com/godbus/dbus/v5"
)

// platformNotifier sends notifications over D-Bus itself (org.freedesktop.Notifications), because
// Fyne sends its app id (dev.clawgate.app) as the application name, which daemons show as the
// sender. Where no session bus answers it falls back to Fyne's own.
func platformNotifier(a fyne.App) func(title, body string) {
	var (
		once sync.Once
		conn *dbus.Conn
		icon string
	)
	return func(title, body string) {
		once.Do(func() {
			c, err := dbus.SessionBusPrivateNoAutoStartup()
			if err == nil && c.Auth(nil) == nil && c.Hello() == nil {
				conn = c
			} else if c != nil {
				c.Close()
			}
			icon = iconFile()
		})
		if conn == nil {
			a.SendNotification(fyne.NewNotification(title, body))
			return
		}
		// Off the caller's goroutine (the Fyne one): a slow daemon must not stall the ui.
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			obj := conn.Object("org.freedesktop.Notifications", "/org/freedesktop/Notifications")
			call := obj.CallWithContext(ctx, "org.freedesktop.Notifications.Notify", 0, appName, uint32(0), icon, title, body,
				[]string{}, map[string]dbus.Variant{}, int32(-1))
			if call.Err != nil {
				fyne.LogError("notification not shown", call.Err)
			}
		}()
	}
}
