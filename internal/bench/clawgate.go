package main

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// gateway is a running `clawgate serve`.
type gateway struct {
	cmd  *exec.Cmd
	base string // http://127.0.0.1:PORT
	done chan struct{}

	mu   sync.Mutex
	tail []byte // the last output, for error messages
}

var listening = regexp.MustCompile(`listening on (http://[^\s"']+)`)

// startGateway writes a config routing "bench" to fast and "bench-slow" to slow, and starts
// bin serve on a free port with a throwaway HOME and data dir under dir.
func startGateway(ctx context.Context, bin, dir, fast, slow, upstreamKey, masterKey string) (*gateway, error) {
	config, err := writeConfig(dir, fast, slow, upstreamKey, masterKey, "")
	if err != nil {
		return nil, err
	}
	return startServe(ctx, bin, dir, config, filepath.Join(dir, "data"))
}

// writeConfig writes dir/config.yaml routing "bench" to fast and "bench-slow" to slow, as the
// upstream model upstreamModel (one the price table knows, for keys with a budget) or, when it is
// empty, as models of their own names.
func writeConfig(dir, fast, slow, upstreamKey, masterKey, upstreamModel string) (string, error) {
	config := filepath.Join(dir, "config.yaml")
	model, slowModel := cmp.Or(upstreamModel, "bench"), cmp.Or(upstreamModel, "bench-slow")
	yaml := fmt.Sprintf(`model_list:
  - model_name: bench
    litellm_params: {model: openai/%s, api_base: %q, api_key: %s}
  - model_name: bench-slow
    litellm_params: {model: openai/%s, api_base: %q, api_key: %s}
general_settings: {master_key: %s}
`, model, fast+"/v1", upstreamKey, slowModel, slow+"/v1", upstreamKey, masterKey)
	if err := os.WriteFile(config, []byte(yaml), 0o600); err != nil {
		return "", fmt.Errorf("write config: %w", err)
	}
	return config, nil
}

// startServe starts bin serve on config and a free port, with HOME at home, its data in dataDir
// and env added to this process's environment (DATABASE_URL for a replica on PostgreSQL).
func startServe(ctx context.Context, bin, home, config, dataDir string, env ...string) (*gateway, error) {
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("clawgate binary: %w (build it with: go build -o bin/clawgate .)", err)
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "serve", "--config", config, "--host", "127.0.0.1", "--port", strconv.Itoa(port),
		"--data-dir", dataDir)
	cmd.SysProcAttr = childAttr()
	cmd.Env = append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"))
	cmd.Env = append(cmd.Env, env...)
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start clawgate: %w", err)
	}
	g := &gateway{cmd: cmd, done: make(chan struct{})}
	ready := make(chan string, 1)
	go func() {
		_ = cmd.Wait()
		pw.Close()
		close(g.done)
	}()
	// Keep draining the output for the whole run: a full pipe would block the gateway's logging.
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			line := sc.Bytes()
			g.mu.Lock()
			g.tail = append(g.tail, line...)
			g.tail = append(g.tail, '\n')
			if len(g.tail) > 8192 {
				g.tail = g.tail[len(g.tail)-8192:]
			}
			g.mu.Unlock()
			if m := listening.FindSubmatch(line); m != nil {
				select {
				case ready <- string(m[1]):
				default:
				}
			}
		}
		_, _ = io.Copy(io.Discard, pr)
	}()

	timeout := time.NewTimer(30 * time.Second)
	defer timeout.Stop()
	select {
	case url := <-ready:
		g.base = strings.TrimSuffix(url, "/")
	case <-g.done:
		return nil, fmt.Errorf("clawgate exited before it was ready:\n%s", g.output())
	case <-timeout.C:
		g.stop()
		return nil, fmt.Errorf("clawgate printed no \"listening on\" within 30s:\n%s", g.output())
	case <-ctx.Done():
		g.stop()
		return nil, ctx.Err()
	}
	if err := waitHealthy(ctx, g.base+"/health/liveliness"); err != nil {
		g.stop()
		return nil, fmt.Errorf("%w\n%s", err, g.output())
	}
	return g, nil
}

func (g *gateway) output() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return string(g.tail)
}

func (g *gateway) pid() int { return g.cmd.Process.Pid }

// stop sends SIGTERM and waits, killing after 10 s.
func (g *gateway) stop() { stopProcess(g.cmd.Process, g.done, 10*time.Second) }

// stopProcess sends p SIGTERM and waits for done (closed when it has exited), killing it after grace.
func stopProcess(p *os.Process, done <-chan struct{}, grace time.Duration) {
	_ = p.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(grace):
		_ = p.Kill()
		<-done
	}
}

// procStatus returns a field of /proc/PID/status in bytes (VmHWM, VmRSS).
func procStatus(pid int, field string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("read status: %w", err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		rest, ok := strings.CutPrefix(line, field+":")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("%s: unexpected %q", field, line)
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", field, err)
		}
		return kb << 10, nil
	}
	return 0, fmt.Errorf("%s not in /proc/%d/status", field, pid)
}

// cpuTime returns the user+system CPU time of pid from /proc/PID/stat.
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("read stat: %w", err)
	}
	// The command name may hold spaces; fields are counted after its closing parenthesis.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0, errors.New("short /proc stat")
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("parse stat: %v %v", err1, err2)
	}
	const hz = 100 // USER_HZ on Linux
	return time.Duration(utime+stime) * time.Second / hz, nil
}

// sysIO counts a process's read and write system calls (/proc/PID/io: syscr, syscw), sockets
// included: what a proxy costs per request is mostly its system calls.
type sysIO struct{ reads, writes int64 }

func (a sysIO) plus(b sysIO) sysIO  { return sysIO{a.reads + b.reads, a.writes + b.writes} }
func (a sysIO) minus(b sysIO) sysIO { return sysIO{a.reads - b.reads, a.writes - b.writes} }

func readSysIO(pid int) (sysIO, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", pid))
	if err != nil {
		return sysIO{}, fmt.Errorf("read io: %w", err)
	}
	var v sysIO
	for line := range strings.SplitSeq(string(b), "\n") {
		name, num, ok := strings.Cut(line, ": ")
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(num), 10, 64)
		if err != nil {
			return sysIO{}, fmt.Errorf("io %s: %w", name, err)
		}
		switch name {
		case "syscr":
			v.reads = n
		case "syscw":
			v.writes = n
		}
	}
	return v, nil
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// waitHealthy polls url until it answers 200; polling is the only readiness signal a server gives.
func waitHealthy(ctx context.Context, url string) error {
	deadline := time.Now().Add(15 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return fmt.Errorf("%s not healthy within 15s (%s)", url, last)
}

// loadAvg returns the 1-minute load average (0 when unknown): a busy machine skews every number.
func loadAvg() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}
