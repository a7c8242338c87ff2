package ui

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
)

// startBus runs a private dbus-daemon for the test and returns its address.
func startBus(t *testing.T) string {
	t.Helper()
	cmd := exec.Command("dbus-daemon", "--session", "--nofork", "--nopidfile", "--print-address=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start dbus-daemon (make deps installs it): %v", err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("read bus address: %v", err)
	}
	return strings.TrimSpace(line)
}

func TestProbeSessionBus(t *testing.T) {
	t.Run("a live bus without a tray host", func(t *testing.T) {
		t.Setenv("DBUS_SESSION_BUS_ADDRESS", startBus(t))
		if err := probeSessionBus(5 * time.Second); !errors.Is(err, errNoWatcher) {
			t.Fatalf("probe = %v, want %v", err, errNoWatcher)
		}
	})
	t.Run("a live bus with a tray host", func(t *testing.T) {
		t.Setenv("DBUS_SESSION_BUS_ADDRESS", startBus(t))
		conn, err := dbus.ConnectSessionBus()
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if reply, err := conn.RequestName(watcherName, dbus.NameFlagDoNotQueue); err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
			t.Fatalf("own %s: %v %v", watcherName, reply, err)
		}
		if err := probeSessionBus(5 * time.Second); err != nil {
			t.Fatalf("probe: %v", err)
		}
	})
	t.Run("no address", func(t *testing.T) {
		t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
		// godbus falls back to the systemd user bus socket; where there is one, the probe finds it.
		_, err := os.Stat(fmt.Sprintf("/run/user/%d/bus", os.Getuid()))
		userBus := err == nil
		start := time.Now()
		if err := probeSessionBus(5 * time.Second); (err == nil) != userBus {
			t.Fatalf("probe = %v with no address (user bus socket present: %v)", err, userBus)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("probe took %v; with no bus it must fail at once", d)
		}
	})
	t.Run("autolaunch is not a bus", func(t *testing.T) {
		if _, err := os.Stat(fmt.Sprintf("/run/user/%d/bus", os.Getuid())); err == nil {
			t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
		} else {
			t.Setenv("DBUS_SESSION_BUS_ADDRESS", "autolaunch:")
		}
		if err := probeSessionBus(5 * time.Second); err == nil {
			t.Fatal("probe succeeded without a bus")
		}
	})
	t.Run("a socket that never answers times out", func(t *testing.T) {
		sock := filepath.Join(t.TempDir(), "mute")
		l, err := net.Listen("unix", sock)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				t.Cleanup(func() { c.Close() })
			}
		}()
		t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path="+sock)
		start := time.Now()
		if err := probeSessionBus(300 * time.Millisecond); err == nil {
			t.Fatal("probe succeeded against a mute socket")
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("probe took %v; the timeout is 300ms", d)
		}
	})
}
