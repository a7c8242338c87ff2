package openclaw

// OpenClaw's own gateway (`openclaw gateway run`, or the service `openclaw gateway install` set
// up) resolves ${LITELLM_API_KEY} once, from the environment it started with: a key written into
// .env later reaches it only after a restart with a fresh process. `openclaw gateway restart`
// gives one to a service-managed gateway; a gateway started by hand restarts in-process on that
// command (SIGUSR2) and keeps its old environment, so it must be stopped and started again.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// DefaultGatewayPort is OpenClaw's gateway port when neither OPENCLAW_GATEWAY_PORT nor
// gateway.port sets one.
const DefaultGatewayPort = 18789

// GatewayPort is the port OpenClaw's gateway for this config listens on: OPENCLAW_GATEWAY_PORT,
// else gateway.port, else 18789 (OpenClaw's own order, less the --port flag of a running one).
func GatewayPort(d *Doc, env func(string) string) int {
	if env != nil {
		if p, err := strconv.Atoi(strings.TrimSpace(env("OPENCLAW_GATEWAY_PORT"))); err == nil && p > 0 && p < 65536 {
			return p
		}
	}
	if d != nil {
		if f, ok := at(d.Value(), "gateway", "port").(float64); ok && f > 0 && f < 65536 && f == float64(int(f)) {
			return int(f)
		}
	}
	return DefaultGatewayPort
}

// GatewayLive reports whether an OpenClaw gateway runs on 127.0.0.1:port: its liveness probe
// (GET /healthz) answers {"ok":true}, or the port takes connections and the probe gets no answer
// within 10 s (a busy gateway's event loop can be that slow; nothing else of OpenClaw's listens
// on its gateway port). A refused connection or another server's answer means none.
func GatewayLive(ctx context.Context, port int) bool {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d/healthz", port), nil)
	if err != nil {
		return false
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		// Connected but no answer in time: a gateway too busy to answer is still running.
		return errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil && connects(port)
	}
	defer res.Body.Close()
	var body struct {
		OK bool `json:"ok"`
	}
	return res.StatusCode == http.StatusOK && json.NewDecoder(res.Body).Decode(&body) == nil && body.OK
}

// connects reports whether something accepts TCP connections on 127.0.0.1:port.
func connects(port int) bool {
	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// Restart is what RestartGateway did.
type Restart struct {
	// Managed is true when a service manager runs the gateway (`openclaw gateway status` says
	// the service is loaded): only then does `openclaw gateway restart` start a fresh process.
	Managed bool
	// Restarted is true when `openclaw gateway restart` ran and succeeded.
	Restarted bool
	// Output is what the commands printed, trimmed.
	Output string
}

// ErrNoCLI is returned by RestartGateway when no `openclaw` command is on PATH.
var ErrNoCLI = errors.New("openclaw: the openclaw command is not on PATH")

// CLI is the `openclaw` command RestartGateway runs (a variable for tests).
var CLI = "openclaw"

// RestartGateway asks `openclaw gateway status --json` whether a service manager runs the
// profile's gateway and, if so, restarts it with `openclaw gateway restart`. env is the
// environment for both commands (it names the profile: OPENCLAW_STATE_DIR, OPENCLAW_CONFIG_PATH).
// A gateway started by hand is left alone: OpenClaw's restart would keep its old environment.
func RestartGateway(ctx context.Context, env []string) (Restart, error) {
	bin, err := exec.LookPath(CLI)
	if err != nil {
		return Restart{}, ErrNoCLI
	}
	run := func(args ...string) (string, error) {
		ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Env = env
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		return strings.TrimSpace(out.String()), err
	}
	out, err := run("gateway", "status", "--json")
	if err != nil {
		return Restart{Output: out}, fmt.Errorf("openclaw gateway status: %w", err)
	}
	var st struct {
		Service struct {
			Loaded bool `json:"loaded"`
		} `json:"service"`
	}
	if i := strings.Index(out, "{"); i >= 0 {
		_ = json.Unmarshal([]byte(out[i:]), &st)
	}
	if !st.Service.Loaded {
		return Restart{}, nil
	}
	out, err = run("gateway", "restart")
	if err != nil {
		return Restart{Managed: true, Output: out}, fmt.Errorf("openclaw gateway restart: %w", err)
	}
	return Restart{Managed: true, Restarted: true, Output: out}, nil
}
