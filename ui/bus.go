package ui

import (
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/godbus/dbus/v5"
)

// watcherName is the StatusNotifier host's well-known name: a tray icon is drawn only when
// someone owns it (KDE, the GNOME AppIndicator extension, waybar, ...).
const watcherName = "org.kde.StatusNotifierWatcher"

// busTimeout bounds the session bus probe so a wedged bus delays start-up by a second, not forever.
const busTimeout = time.Second

// trayHost says why no tray can be shown, nil when one can. On Linux and the BSDs the tray is a
// D-Bus StatusNotifierItem: without a session bus systray cannot register and crashes on shutdown,
// and without a StatusNotifierWatcher on it (stock GNOME) nobody draws the icon. macOS and Windows
// always have a tray.
func trayHost() error {
	switch runtime.GOOS {
	case "darwin", "windows":
		return nil
	}
	return probeSessionBus(busTimeout)
}

// probeSessionBus connects to the session bus the way systray will (DBUS_SESSION_BUS_ADDRESS, else
// /run/user/<uid>/bus), authenticates, says Hello and asks whether a tray host owns its name. It never auto-launches a bus: godbus would
// start a dbus-daemon that outlives us, and systray would then register with a bus nobody watches.
func probeSessionBus(timeout time.Duration) error {
	done := make(chan error, 1)
	go func() {
		conn, err := dbus.SessionBusPrivateNoAutoStartup()
		if err != nil {
			done <- fmt.Errorf("dial session bus: %w", err)
			return
		}
		defer conn.Close()
		if err := conn.Auth(nil); err != nil {
			done <- fmt.Errorf("session bus auth: %w", err)
			return
		}
		if err := conn.Hello(); err != nil {
			done <- fmt.Errorf("session bus hello: %w", err)
			return
		}
		var has bool
		if err := conn.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, watcherName).Store(&has); err != nil {
			done <- fmt.Errorf("ask the session bus for a tray host: %w", err)
			return
		}
		if !has {
			done <- errNoWatcher
			return
		}
		done <- nil
	}()
	select {
	case err := <-done:
		return err
	case <-time.After(timeout):
		return errors.New("session bus did not answer")
	}
}
