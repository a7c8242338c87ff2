package ui

import (
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/godbus/dbus/v5"
)

// busTimeout bounds the session bus probe so a wedged bus delays start-up by a second, not forever.
const busTimeout = time.Second

// trayAvailable reports whether a tray can be set up. On Linux and the BSDs the tray is a D-Bus
// StatusNotifierItem: without a session bus systray cannot register and crashes on shutdown, so
// the tray is only used when a session bus answers. macOS and Windows always have one.
func trayAvailable() bool {
	switch runtime.GOOS {
	case "darwin", "windows":
		return true
	}
	return probeSessionBus(busTimeout) == nil
}

// probeSessionBus connects to the session bus the way systray will (DBUS_SESSION_BUS_ADDRESS, else
// /run/user/<uid>/bus), authenticates and says Hello. It never auto-launches a bus: godbus would
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
		done <- nil
	}()
	select {
	case err := <-done:
		return err
	case <-time.After(timeout):
		return errors.New("session bus did not answer")
	}
}
