package ledger

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/clawgate/clawgate/app/store"
	"github.com/clawgate/clawgate/internal/fakeupstream"
	"github.com/clawgate/clawgate/proxy"
	"github.com/clawgate/clawgate/proxy/config"
)

// crashEnv, set to a data folder, turns the test binary into the child of TestCrashRecovery: it
// runs the gateway and the ledger under load, printing each answered request, until killed.
const (
	crashEnv      = "CLAWGATE_LEDGER_CRASH_DIR"
	crashKeyEnv   = "CLAWGATE_LEDGER_CRASH_KEY"
	crashFlush    = 50 * time.Millisecond
	crashWorkers  = 8
	crashDeadline = 30 * time.Second
)

func TestMain(m *testing.M) {
	if dir := os.Getenv(crashEnv); dir != "" {
		crashChild(dir, os.Getenv(crashKeyEnv))
		os.Exit(3) // not reached: the parent kills us
	}
	goleak.VerifyTestMain(m) // and no goroutine outlives the tests
}

func crashChild(dir, key string) {
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "crash child:", err)
		os.Exit(2)
	}
	up := httptest.NewServer(fakeupstream.New())
	cfg, _, err := config.Parse([]byte(strings.ReplaceAll(testConfig, "{{UP}}", up.URL)), "config.yaml",
		func(string) (string, bool) { return "", false })
	if err != nil {
		fail(err)
	}
	l, err := Open(context.Background(), Options{DataDir: dir, FlushInterval: crashFlush})
	if err != nil {
		fail(err)
	}
	gw, err := proxy.New(proxy.Options{Config: cfg, Keys: l, Gate: l, Usage: l, Admin: l})
	if err != nil {
		fail(err)
	}
	srv := httptest.NewServer(gw.Handler())
	var mu sync.Mutex
	out := bufio.NewWriter(os.Stdout)
	for range crashWorkers {
		go func() {
			for {
				req, _ := http.NewRequest("POST", srv.URL+"/v1/chat/completions", strings.NewReader(exactChat))
				req.Header.Set("Authorization", "Bearer "+key)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					fail(err)
				}
				var body struct {
					ID string `json:"id"`
				}
				err = json.NewDecoder(resp.Body).Decode(&body)
				resp.Body.Close()
				if resp.StatusCode != 200 || err != nil {
					fail(fmt.Errorf("status %d, %v", resp.StatusCode, err))
				}
				// The upstream's usage, priced by the gateway, as the client sees it.
				mu.Lock()
				fmt.Fprintf(out, "ok %s %s %d\n", body.ID, resp.Header.Get("x-litellm-response-cost"), time.Now().UnixNano())
				out.Flush()
				mu.Unlock()
			}
		}()
	}
	select {}
}

// answered is one request the child saw answered.
type answered struct {
	cost float64
	at   time.Time
}

// crashOnce runs the child until it has answered n requests, kills it with SIGKILL and returns
// what it answered and when it was killed.
func crashOnce(t *testing.T, dir, key string, n int) (map[string]answered, time.Time) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashEnv+"="+dir, crashKeyEnv+"="+key)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	got := map[string]answered{}
	sc := bufio.NewScanner(stdout)
	var killedAt time.Time
	timeout := time.AfterFunc(crashDeadline, func() { cmd.Process.Kill() })
	defer timeout.Stop()
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 4 || f[0] != "ok" {
			t.Fatalf("child said %q", sc.Text())
		}
		cost, err1 := strconv.ParseFloat(f[2], 64)
		ns, err2 := strconv.ParseInt(f[3], 10, 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("child said %q", sc.Text())
		}
		got[f[1]] = answered{cost, time.Unix(0, ns)}
		if len(got) == n && killedAt.IsZero() {
			killedAt = time.Now()
			if err := cmd.Process.Kill(); err != nil { // SIGKILL: no deferred code, no flush
				t.Fatal(err)
			}
		}
	}
	_ = cmd.Wait()
	if killedAt.IsZero() {
		t.Fatalf("the child answered %d requests before it stopped, want %d", len(got), n)
	}
	if _, err := io.Copy(io.Discard, stdout); err != nil && !strings.Contains(err.Error(), "closed") {
		t.Log(err)
	}
	return got, killedAt
}

// kill -9 during load: after restart, the spend on disk matches the logs and what the upstream
// reported, within the flush window, and the budgets start from it.
func TestCrashRecovery(t *testing.T) {
	dir := t.TempDir()
	e := newEnv(t, withDir(dir))
	key, token := e.generate(`{"key_alias": "load", "max_budget": 1000000, "budget_duration": "monthly"}`)
	e.stop()
	ctx := context.Background()

	reported := map[string]answered{}
	for run := range 2 {
		got, killedAt := crashOnce(t, dir, key, 1000)
		for id, a := range got {
			reported[id] = a
		}
		e.start() // recovers the WAL, recomputes budgets from the logs
		rows, _, err := e.l.Store().QuerySpendLogs(ctx, store.SpendQuery{APIKey: token})
		if err != nil {
			t.Fatal(err)
		}
		onDisk := map[string]float64{}
		sum := 0.0
		for _, r := range rows {
			onDisk[r.ResponseID] = r.Spend
			sum += r.Spend
		}
		// Every request answered a flush window (plus a commit's grace) before the kill is on disk
		// with the cost the client was told; the few on disk but not reported were answered as the
		// child died.
		window := crashFlush + 500*time.Millisecond
		var lost, late int
		var oldest time.Duration
		for id, a := range got {
			spend, ok := onDisk[id]
			switch {
			case !ok && a.at.Before(killedAt.Add(-window)):
				lost++
			case !ok:
				late++
				oldest = max(oldest, killedAt.Sub(a.at))
			case spend != a.cost:
				t.Errorf("run %d: %s logged %v, reported %v", run, id, spend, a.cost)
			}
		}
		extra := 0
		for id := range onDisk {
			if _, ok := reported[id]; !ok {
				extra++
			}
		}
		t.Logf("run %d: %d answered, %d rows on disk in all, %d answered within the flush window and lost (the oldest %v before the kill), %d logged but unreported",
			run, len(got), len(onDisk), late, oldest.Round(time.Millisecond), extra)
		if lost > 0 {
			t.Errorf("run %d: %d requests answered more than %v before the kill are not on disk", run, lost, window)
		}
		if extra > crashWorkers {
			t.Errorf("run %d: %d rows on disk that no client saw answered (at most %d can be in flight)", run, extra, crashWorkers)
		}
		k, err := e.l.Store().GetKey(ctx, token)
		if err != nil || !near(k.Spend, sum) {
			t.Errorf("run %d: the key row says %v, its logs %v (%v)", run, k.Spend, sum, err)
		}
		if got := e.info(key)["spend"]; !near(got.(float64), sum) {
			t.Errorf("run %d: the budget restarted at %v, the logs hold %v", run, got, sum)
		}
		r := e.chat(key, exactChat)
		if r.status != 200 {
			t.Fatalf("run %d: a call after the restart: %d %s", run, r.status, r.body)
		}
		reported[r.obj(t)["id"].(string)] = answered{callCost, time.Time{}} // on disk after the clean stop
		e.stop()
	}
}
