// Command bench measures what the gateway costs: in one run it loads the fake upstream
// directly, through a bare httputil.ReverseProxy, and through `clawgate serve`, with the same
// client, concurrency and duration, and reports clawgate against the bare proxy as ratios.
// It is a measurement, not a test: it exits 0 whether the targets are met or missed.
//
//	go run ./internal/bench [-duration 4s] [-concurrency 16] [-clawgate bin/clawgate]
//	go run ./internal/bench -team-only [-database-url postgres://...]   (team.go)
package main

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/clawgate/clawgate/internal/fakeupstream"
)

const (
	upstreamKey = "sk-upstream"
	masterKey   = "sk-master-test"
)

type options struct {
	duration    time.Duration
	warmup      time.Duration
	rounds      int
	concurrency int
	chunkDelay  time.Duration
	clawgate    string
	storeRows   string // row counts for the store rows, comma-separated
	storeCache  string // where generated store files are kept between runs
	storeOnly   bool
	teamOnly    bool   // only the team row (team.go)
	databaseURL string // the team row's replicas share this PostgreSQL database ("" for SQLite)
}

// bareEnv, when set to an upstream URL, makes this binary serve the bare proxy in front of it
// instead of running the bench: the baseline runs in its own process, like clawgate, so neither
// shares the load generator's runtime and the comparison is even.
const bareEnv = "CLAWGATE_BENCH_BARE_UPSTREAM"

func main() {
	if up := os.Getenv(bareEnv); up != "" {
		serveBareChild(up)
		return
	}
	var o options
	flag.DurationVar(&o.duration, "duration", 4*time.Second, "measured time per target and request kind (split over the rounds)")
	flag.DurationVar(&o.warmup, "warmup", 300*time.Millisecond, "unmeasured load before each target's first round")
	flag.IntVar(&o.rounds, "rounds", 4, "interleaved rounds per request kind, so drift hits every target alike")
	flag.IntVar(&o.concurrency, "concurrency", 16, "concurrent requests")
	flag.DurationVar(&o.chunkDelay, "chunk-delay", 2*time.Millisecond, "upstream delay per chunk for the first-byte measurement")
	flag.StringVar(&o.clawgate, "clawgate", "bin/clawgate", "path to the clawgate binary")
	cache, _ := os.UserCacheDir()
	flag.StringVar(&o.storeRows, "store-rows", "100000,1000000", "store sizes to time the Requests and Overview queries at (\"\" for none)")
	flag.StringVar(&o.storeCache, "store-cache", filepath.Join(cache, "clawgate-bench"), "folder for the generated store files, reused by later runs")
	flag.BoolVar(&o.storeOnly, "store-only", false, "time only the store queries, not the gateway")
	flag.BoolVar(&o.teamOnly, "team-only", false, "run only the team row: 1 replica on SQLite against 1 and 3 replicas behind HAProxy")
	flag.StringVar(&o.databaseURL, "database-url", cmp.Or(os.Getenv("CLAWGATE_BENCH_DATABASE_URL"), os.Getenv("CLAWGATE_TEST_DATABASE_URL")),
		"PostgreSQL database the team row's replicas share (default $CLAWGATE_BENCH_DATABASE_URL, else $CLAWGATE_TEST_DATABASE_URL; empty: one SQLite folder)")
	flag.Parse()
	if o.rounds < 1 || o.concurrency < 1 || o.duration <= 0 {
		log.Fatal("bench: -rounds, -concurrency and -duration must be positive")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if o.teamOnly {
		if err := runTeam(ctx, o); err != nil {
			log.Fatalf("bench: team: %v", err)
		}
		return
	}
	sizes, err := parseSizes(o.storeRows)
	if err != nil {
		log.Fatalf("bench: %v", err)
	}
	if !o.storeOnly {
		if err := run(ctx, o); err != nil {
			log.Fatalf("bench: %v", err)
		}
	}
	if len(sizes) > 0 {
		rows, err := benchStore(ctx, o.storeCache, sizes)
		if err != nil {
			log.Fatalf("bench: store: %v", err)
		}
		reportStore(os.Stdout, rows)
	}
}

// serve serves h on a loopback port until ctx ends and returns its base URL.
func serve(ctx context.Context, h http.Handler) (string, error) {
	return serveCounting(ctx, h, nil)
}

// serveCounting is serve that also counts the connections it accepts into conns (when not nil):
// for an upstream, how many connections the proxy in front of it had to open.
func serveCounting(ctx context.Context, h http.Handler, conns *atomic.Int64) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	if conns != nil {
		srv.ConnState = func(_ net.Conn, s http.ConnState) {
			if s == http.StateNew {
				conns.Add(1)
			}
		}
	}
	go func() { _ = srv.Serve(ln) }()
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	return "http://" + ln.Addr().String(), nil
}

// bareProxy is the baseline: a reverse proxy with nothing in it but a tuned transport and
// immediate flushing, the least any gateway must do.
func bareProxy(upstream string, concurrency int) (http.Handler, error) {
	u, err := url.Parse(upstream)
	if err != nil {
		return nil, fmt.Errorf("parse upstream: %w", err)
	}
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(u)
			pr.Out.Host = u.Host
		},
		FlushInterval: -1,
		Transport: &http.Transport{
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        4 * concurrency,
			MaxIdleConnsPerHost: 4 * concurrency,
			IdleConnTimeout:     90 * time.Second,
		},
	}, nil
}

func run(ctx context.Context, o options) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	fast := fakeupstream.New()
	fast.Key = upstreamKey
	slow := fakeupstream.New()
	slow.Key = upstreamKey
	slow.Delay = o.chunkDelay
	urls := map[string]string{}
	conns := map[string]*atomic.Int64{"fast": {}, "slow": {}} // connections each upstream accepted
	pids := map[string]int{}                                  // the bare proxies' processes, for their CPU time
	for name, h := range map[string]http.Handler{"fast": fast, "slow": slow} {
		u, err := serveCounting(ctx, h, conns[name])
		if err != nil {
			return err
		}
		urls[name] = u
		bare, pid, stop, err := startBare(ctx, u)
		if err != nil {
			return err
		}
		defer stop()
		urls["bare-"+name] = bare
		pids["bare-"+name] = pid
	}

	dir, err := os.MkdirTemp("", "clawgate-bench-")
	if err != nil {
		return fmt.Errorf("temp dir: %w", err)
	}
	defer os.RemoveAll(dir)
	gw, err := startGateway(ctx, o.clawgate, dir, urls["fast"], urls["slow"], upstreamKey, masterKey)
	if err != nil {
		return err
	}
	defer gw.stop()

	const path = "/v1/chat/completions"
	modes := []mode{
		{name: "non-stream", model: "bench"},
		{name: "stream", model: "bench", stream: true},
		{name: fmt.Sprintf("stream %v/chunk", o.chunkDelay), model: "bench-slow", stream: true},
	}
	targetsFor := func(m mode) []target {
		up := upstreamOf(m)
		return []target{
			{name: "direct", url: urls[up] + path, key: upstreamKey},
			{name: "bare proxy", url: urls["bare-"+up] + path, key: upstreamKey, pid: pids["bare-"+up]},
			{name: "clawgate", url: gw.base + path, key: masterKey, pid: gw.pid()},
		}
	}

	client := newClient(o.concurrency)
	per := o.duration / time.Duration(o.rounds)
	fmt.Fprintf(os.Stderr, "bench: %d concurrent, %v per target and kind in %d rounds, %d CPUs\n",
		o.concurrency, o.duration, o.rounds, runtime.NumCPU())
	load0 := loadAvg()
	if load0 > float64(runtime.NumCPU()) {
		fmt.Fprintf(os.Stderr, "bench: warning: load average %.1f before the run; other work will skew the numbers\n", load0)
	}
	var rows []row
	for _, m := range modes {
		targets := targetsFor(m)
		results := make([]*result, len(targets))
		for i, t := range targets {
			load(ctx, client, t, m, o.concurrency, o.warmup)
			results[i] = &result{}
		}
		for range o.rounds {
			for i, t := range targets {
				var cpu0 time.Duration
				var io0 sysIO
				if t.pid != 0 {
					cpu0, _ = cpuTime(t.pid)
					io0, _ = readSysIO(t.pid)
				}
				conns0 := conns[upstreamOf(m)].Load()
				r := load(ctx, client, t, m, o.concurrency, per)
				r.upstreamConns = conns[upstreamOf(m)].Load() - conns0
				if t.pid != 0 {
					if cpu1, err := cpuTime(t.pid); err == nil {
						r.cpu = cpu1 - cpu0
					}
					if io1, err := readSysIO(t.pid); err == nil {
						r.io = io1.minus(io0)
					}
				}
				results[i].merge(r)
				if ctx.Err() != nil {
					return ctx.Err()
				}
			}
		}
		for i, t := range targets {
			rows = append(rows, finish(m, t.name, results[i]))
		}
	}

	var mem memory
	mem.peak, err = procStatus(gw.pid(), "VmHWM")
	if err != nil {
		return fmt.Errorf("clawgate peak RSS: %w", err)
	}
	mem.rss, _ = procStatus(gw.pid(), "VmRSS")
	select {
	case <-gw.done:
		return errors.New("clawgate exited during the run:\n" + gw.output())
	default:
	}
	report(os.Stdout, o, rows, mem, load0)
	return nil
}

func upstreamOf(m mode) string {
	if m.model == "bench-slow" {
		return "slow"
	}
	return "fast"
}

// serveBareChild is the bare proxy's process: it prints its URL and serves until killed.
func serveBareChild(upstream string) {
	p, err := bareProxy(upstream, 64)
	if err != nil {
		log.Fatalf("bare proxy: %v", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	u, err := serve(ctx, p)
	if err != nil {
		log.Fatalf("bare proxy: %v", err)
	}
	fmt.Printf("listening on %s\n", u)
	<-ctx.Done()
}

// startBare runs the bare proxy in a child process (this binary again) and returns its URL and
// pid. The child ends with ctx (run waits for that through stops) or, on Linux, with this process.
func startBare(ctx context.Context, upstream string) (string, int, func(), error) {
	exe, err := os.Executable()
	if err != nil {
		return "", 0, nil, fmt.Errorf("bare proxy: %w", err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), bareEnv+"="+upstream)
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = childAttr()
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", 0, nil, fmt.Errorf("bare proxy: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return "", 0, nil, fmt.Errorf("bare proxy: %w", err)
	}
	stop := func() {
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		stopProcess(cmd.Process, done, 5*time.Second)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		stop()
		return "", 0, nil, fmt.Errorf("bare proxy did not start: %w", err)
	}
	u, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on ")
	if !ok {
		stop()
		return "", 0, nil, fmt.Errorf("bare proxy said %q", line)
	}
	return u, cmd.Process.Pid, stop, nil
}
