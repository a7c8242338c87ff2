//go:build (dragonfly && cgo) || (freebsd && cgo) || linux || netbsd || openbsd

package keychain

import (
	"fmt"
	"os"
	"path/filepath"
)

// sessionBusCheck fails when no session bus can be found. Without it godbus would run dbus-launch,
// which starts a dbus-daemon that outlives Clawgate, and often a keyring daemon on that bus that
// cannot be unlocked: a stray process per run for an error we can report straight away.
func sessionBusCheck() error {
	runtimeDir := fmt.Sprintf("/run/user/%d", os.Getuid())
	if haveSessionBus(os.Getenv("DBUS_SESSION_BUS_ADDRESS"), runtimeDir) {
		return nil
	}
	return &unavailableError{reason: "no D-Bus session bus: DBUS_SESSION_BUS_ADDRESS is not set and " + runtimeDir + "/bus does not exist"}
}

// haveSessionBus mirrors godbus's discovery minus its autolaunch: the address from the
// environment, else the systemd user bus socket, else the file some distributions write its
// address to.
func haveSessionBus(address, runtimeDir string) bool {
	if address != "" && address != "autolaunch:" {
		return true
	}
	for _, f := range []string{"bus", "dbus-session"} {
		if _, err := os.Stat(filepath.Join(runtimeDir, f)); err == nil {
			return true
		}
	}
	return false
}
