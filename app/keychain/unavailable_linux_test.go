package keychain

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestUnavailable runs a client in a child process against three broken setups and checks every
// Store call reports ErrUnavailable, says why and how to fix it, and never prints the secret.
func TestUnavailable(t *testing.T) {
	for _, tool := range []string{"dbus-daemon", "gnome-keyring-daemon"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found (%v); %s", tool, err, howToRun)
		}
	}
	tests := []struct {
		name    string
		address func(t *testing.T) string
		reason  string
	}{
		{"no session bus", func(t *testing.T) string {
			return "unix:path=" + filepath.Join(t.TempDir(), "no-such-bus")
		}, "no D-Bus session bus is reachable"},
		{"bus without a Secret Service", func(t *testing.T) string {
			return startBus(t, false)
		}, "has no Secret Service"},
		{"Secret Service without an unlocked keyring", func(t *testing.T) string {
			return startBus(t, true)
		}, "no unlocked default keyring"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			results := runChildWith(t, tt.address(t))
			if len(results) != 6 {
				t.Fatalf("child reported %d calls, want 6: %+v", len(results), results)
			}
			for _, r := range results {
				if !r.Unavailable {
					t.Errorf("%s: err = %q, want ErrUnavailable", r.Op, r.Err)
				}
				for _, want := range []string{tt.reason, "gnome-keyring or KeePassXC", "os.environ/VAR"} {
					if !strings.Contains(r.Err, want) {
						t.Errorf("%s: error %q does not say %q", r.Op, r.Err, want)
					}
				}
				if strings.Contains(r.Err, childSecret) {
					t.Errorf("%s: error leaks the secret: %q", r.Op, r.Err)
				}
			}
		})
	}
}

// runChildWith re-executes this test binary as a keychain client on the given bus address.
func runChildWith(t *testing.T, address string) []childResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0])
	cmd.Env = append(withoutEnv(os.Environ(), "DBUS_SESSION_BUS_ADDRESS", childEnv, "GORACE"),
		"DBUS_SESSION_BUS_ADDRESS="+address, childEnv+"=1",
		// A -race binary otherwise sleeps a second at exit.
		"GORACE=atexit_sleep_ms=0")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child: %v\nstdout: %s\nstderr: %s", err, out, stderr.String())
	}
	var results []childResult
	if err := json.Unmarshal(out, &results); err != nil {
		t.Fatalf("child output %q: %v", out, err)
	}
	return results
}

func withoutEnv(env []string, names ...string) []string {
	var out []string
next:
	for _, kv := range env {
		for _, n := range names {
			if strings.HasPrefix(kv, n+"=") {
				continue next
			}
		}
		out = append(out, kv)
	}
	return out
}

// startBus starts a private session bus and returns its address. With keyring, the bus can
// activate gnome-keyring for org.freedesktop.secrets, as a desktop's bus does, but the daemon has
// no login keyring and nobody to answer its unlock prompt; without, nothing provides the name.
// Everything the bus and the daemon write stays in a temporary HOME.
func startBus(t *testing.T, keyring bool) string {
	t.Helper()
	// A short folder of its own: the socket path must fit in sun_path's 108 bytes.
	dir, err := os.MkdirTemp("", "cgkc")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	svc, home, run := filepath.Join(dir, "svc"), filepath.Join(dir, "home"), filepath.Join(dir, "run")
	for _, d := range []string{svc, home, run} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if keyring {
		gkd, err := exec.LookPath("gnome-keyring-daemon")
		if err != nil {
			t.Fatal(err)
		}
		unit := fmt.Sprintf("[D-BUS Service]\nName=org.freedesktop.secrets\nExec=%s --start --foreground --components=secrets\n", gkd)
		if err := os.WriteFile(filepath.Join(svc, "org.freedesktop.secrets.service"), []byte(unit), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	conf := fmt.Sprintf(`<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir=%s</listen>
  <auth>EXTERNAL</auth>
  <servicedir>%s</servicedir>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`, dir, svc)
	confPath := filepath.Join(dir, "bus.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command("dbus-daemon", "--config-file="+confPath, "--nofork", "--print-address=1")
	// Activated services inherit this environment: keep gnome-keyring out of the real HOME.
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + home, "XDG_RUNTIME_DIR=" + run,
		"XDG_DATA_HOME=" + filepath.Join(home, "data"), "XDG_CONFIG_HOME=" + filepath.Join(home, "config"),
		"XDG_CACHE_HOME=" + filepath.Join(home, "cache"),
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting dbus-daemon: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	addr := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		addr <- strings.TrimSpace(line)
	}()
	select {
	case a := <-addr:
		if a == "" {
			t.Fatal("dbus-daemon printed no address")
		}
		return a
	case <-time.After(10 * time.Second):
		t.Fatal("dbus-daemon printed no address within 10 s")
	}
	return ""
}
