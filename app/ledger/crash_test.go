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
	if spec := os.Getenv(keySyncEnv); spec != "" {
		os.Exit(keySyncChild(spec))
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
	say := func(format string, args ...any) {
		mu.Lock()
		fmt.Fprintf(out, format, args...)
		out.Flush()
		mu.Unlock()
	}
	// The child watches its own database and says which answered requests it has seen committed:
	// those must survive the kill, however late the scheduler ran the writer.
	// A row is keyed by the upstream's response id or by the gateway's call id (the
	// x-litellm-call-id header), depending on the store's version: look for either.
	type ids struct{ response, call string }
	answeredIDs := make(chan ids, 4096)
	stored := func(id string) bool {
		_, err := l.Store().GetSpendLog(context.Background(), id)
		return id != "" && err == nil
	}
	go func() {
		var waiting []ids
		for {
			select {
			case id := <-answeredIDs:
				waiting = append(waiting, id)
				continue
			default:
			}
			left := waiting[:0]
			for _, id := range waiting {
				if stored(id.response) || stored(id.call) {
					say("disk %s\n", id.response)
				} else {
					left = append(left, id)
				}
			}
			waiting = left
			time.Sleep(5 * time.Millisecond) // a polling pace, not a synchronisation
		}
	}()
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
				say("ok %s %s\n", body.ID, resp.Header.Get("x-litellm-response-cost"))
				answeredIDs <- ids{body.ID, resp.Header.Get("x-litellm-call-id")}
			}
		}()
	}
	select {}
}

// crashRun is what the child said before it was killed: the requests it saw answered, with the
// cost the client was told, and those of them it saw committed to its database.
type crashRun struct {
	answered  map[string]float64
	committed map[string]bool
}

// crashOnce runs the child until it has answered n requests and seen at least m of them
// committed, then kills it with SIGKILL and returns everything it said.
func crashOnce(t *testing.T, dir, key string, n, m int) crashRun {
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
	run := crashRun{answered: map[string]float64{}, committed: map[string]bool{}}
	sc := bufio.NewScanner(stdout)
	killed := false
	timeout := time.AfterFunc(crashDeadline, func() { cmd.Process.Kill() })
	defer timeout.Stop()
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) == 3 && f[0] == "ok":
			cost, err := strconv.ParseFloat(f[2], 64)
			if err != nil {
				t.Fatalf("child said %q", sc.Text())
			}
			run.answered[f[1]] = cost
		case len(f) == 2 && f[0] == "disk":
			run.committed[f[1]] = true
		default:
			t.Fatalf("child said %q", sc.Text())
		}
		if !killed && len(run.answered) >= n && len(run.committed) >= m {
			killed = true
			if err := cmd.Process.Kill(); err != nil { // SIGKILL: no deferred code, no flush
				t.Fatal(err)
			}
		}
	}
	_ = cmd.Wait()
	if !killed {
		t.Fatalf("the child stopped after %d answered requests, %d seen committed; want %d and %d", len(run.answered), len(run.committed), n, m)
	}
	if _, err := io.Copy(io.Discard, stdout); err != nil && !strings.Contains(err.Error(), "closed") {
		t.Log(err)
	}
	return run
}

// kill -9 during load: after restart, what was committed is still there, the spend on disk
// matches the logs and what the upstream reported, and the budgets start from it.
func TestCrashRecovery(t *testing.T) {
	dir := t.TempDir()
	e := newEnv(t, withDir(dir))
	key, token := e.generate(`{"key_alias": "load", "max_budget": 1000000, "budget_duration": "monthly"}`)
	e.stop()
	ctx := context.Background()

	reported := map[string]float64{}
	for run := range 2 {
		got := crashOnce(t, dir, key, 1000, 100)
		for id, cost := range got.answered {
			reported[id] = cost
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
		// Every request the child saw committed before the kill is on disk, and every row on disk
		// holds the cost its client was told. The answered requests not on disk were still waiting
		// for the writer (its interval is tested in app/store with a fake timer): how many is a
		// matter of scheduling, so it is only reported.
		var lost, pending int
		for id := range got.committed {
			if _, ok := onDisk[id]; !ok {
				lost++
			}
		}
		for id, cost := range got.answered {
			spend, ok := onDisk[id]
			switch {
			case !ok:
				pending++
			case !near(spend, cost): // the header has 12 significant digits
				t.Errorf("run %d: %s logged %v, reported %v", run, id, spend, cost)
			}
		}
		extra := 0
		for id := range onDisk {
			if _, ok := reported[id]; !ok {
				extra++
			}
		}
		t.Logf("run %d: %d answered, %d seen committed before the kill, %d rows on disk in all, %d answered but not yet written, %d logged but unreported",
			run, len(got.answered), len(got.committed), len(onDisk), pending, extra)
		if lost > 0 {
			t.Errorf("run %d: %d requests the child saw committed before the kill are not on disk", run, lost)
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
		reported[r.obj(t)["id"].(string)] = callCost // on disk after the clean stop
		e.stop()
	}
}
