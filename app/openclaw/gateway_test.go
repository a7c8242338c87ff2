package openclaw

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestGatewayPort(t *testing.T) {
	for _, tc := range []struct {
		name, config, envPort string
		want                  int
	}{
		{"default", `{}`, "", 18789},
		{"gateway.port", `{gateway: {port: 19001}}`, "", 19001},
		{"the environment wins", `{gateway: {port: 19001}}`, "20000", 20000},
		{"a bad environment value is ignored", `{gateway: {port: 19001}}`, "x", 19001},
		{"a bad port is ignored", `{gateway: {port: "19001"}}`, "", 18789},
		{"a fractional port is ignored", `{gateway: {port: 1.5}}`, "", 18789},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := func(k string) string {
				if k == "OPENCLAW_GATEWAY_PORT" {
					return tc.envPort
				}
				return ""
			}
			if got := GatewayPort(mustParse(t, tc.config), env); got != tc.want {
				t.Errorf("GatewayPort = %d, want %d", got, tc.want)
			}
		})
	}
}

func portOf(t *testing.T, raw string) int {
	t.Helper()
	u, _ := url.Parse(raw)
	p, err := strconv.Atoi(u.Port())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestGatewayLive(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		body   string
		want   bool
	}{
		{"OpenClaw's liveness answer", 200, `{"ok":true,"status":"live"}`, true},
		{"draining", 503, `{"ok":false}`, false},
		{"something else on the port", 200, `<html>hello</html>`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/healthz" {
					http.NotFound(w, r)
					return
				}
				w.WriteHeader(tc.status)
				w.Write([]byte(tc.body))
			}))
			defer srv.Close()
			if got := GatewayLive(context.Background(), portOf(t, srv.URL)); got != tc.want {
				t.Errorf("GatewayLive = %v, want %v", got, tc.want)
			}
		})
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	if GatewayLive(context.Background(), port) {
		t.Error("a closed port is live")
	}
}

// fakeCLI puts an executable `openclaw` script in a temp folder that logs its arguments and
// answers `gateway status --json` with status.
func fakeCLI(t *testing.T, status string, restartExit int) (log string) {
	t.Helper()
	dir := t.TempDir()
	log = filepath.Join(dir, "calls.log")
	script := "#!/bin/sh\necho \"$OPENCLAW_STATE_DIR $*\" >> " + log + "\n" +
		"case \"$2\" in\n" +
		"status) echo 'some noise first'; cat <<'EOF'\n" + status + "\nEOF\n;;\n" +
		"restart) echo 'Gateway restarted.'; exit " + strconv.Itoa(restartExit) + ";;\n" +
		"esac\n"
	bin := filepath.Join(dir, "openclaw")
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	old := CLI
	CLI = bin
	t.Cleanup(func() { CLI = old })
	return log
}

func TestRestartGateway(t *testing.T) {
	env := []string{"PATH=" + os.Getenv("PATH"), "OPENCLAW_STATE_DIR=/s/work"}
	for _, tc := range []struct {
		name        string
		status      string
		restartExit int
		want        Restart
		calls       []string
		err         bool
	}{
		{name: "a service manager runs it: restarted", status: `{"service":{"loaded":true}}`,
			want: Restart{Managed: true, Restarted: true, Output: "Gateway restarted."}, calls: []string{"/s/work gateway status --json", "/s/work gateway restart"}},
		{name: "started by hand: left alone", status: `{"service":{"loaded":false,"runtime":{"status":"unknown"}}}`,
			calls: []string{"/s/work gateway status --json"}},
		{name: "the restart fails", status: `{"service":{"loaded":true}}`, restartExit: 3,
			want: Restart{Managed: true, Output: "Gateway restarted."}, calls: []string{"/s/work gateway status --json", "/s/work gateway restart"}, err: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			log := fakeCLI(t, tc.status, tc.restartExit)
			got, err := RestartGateway(context.Background(), env)
			if (err != nil) != tc.err || got != tc.want {
				t.Errorf("RestartGateway = %+v, %v; want %+v (error %v)", got, err, tc.want, tc.err)
			}
			calls, _ := os.ReadFile(log)
			if strings.Join(tc.calls, "\n")+"\n" != string(calls) {
				t.Errorf("calls:\n%s\nwant\n%s", calls, strings.Join(tc.calls, "\n"))
			}
		})
	}
	CLI = filepath.Join(t.TempDir(), "no-such-openclaw")
	defer func() { CLI = "openclaw" }()
	if _, err := RestartGateway(context.Background(), env); !errors.Is(err, ErrNoCLI) {
		t.Errorf("without the command: %v", err)
	}
}

// TestGatewayLiveBusy: a gateway that takes connections but is too busy to answer in time runs.
func TestGatewayLiveBusy(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close() // held open, never answered
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if !GatewayLive(ctx, l.Addr().(*net.TCPAddr).Port) {
		t.Error("a busy gateway is not live")
	}
}
