package ledger

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/clawgate/clawgate/app/store"
)

// tmpfsDir mounts a tmpfs of size bytes for the test (root only) and unmounts it at cleanup.
func tmpfsDir(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		// Mounting needs root. As root, and always in CI (which runs as root), a failed mount is a
		// failure; only an unprivileged developer run skips (the Writer's own tests cover the same
		// paths there with an injected failure).
		if os.Geteuid() == 0 || os.Getenv("CI") != "" {
			t.Fatalf("mount a tmpfs for the full-disk test: %v: %s", err, out)
		}
		t.Skipf("a full disk needs a tmpfs mount, which needs root: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// fillDisk writes a file in dir until the file system is full, and returns its path.
func fillDisk(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "filler")
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	page := make([]byte, 4096)
	for {
		if _, err := f.Write(page); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("filling %s: %v", dir, err)
			}
			return p
		}
	}
}

// chatWithin is a chat that fails the test if it has no answer within d: a gateway serving past
// the bound holds the handler until the store takes its row.
func chatWithin(t *testing.T, e *env, key string, d time.Duration) response {
	t.Helper()
	got := make(chan response, 1)
	go func() { got <- e.chat(key, exactChat) }()
	select {
	case r := <-got:
		return r
	case <-time.After(d):
		t.Fatalf("a chat past the bound hung for %v instead of being refused", d)
		return response{}
	}
}

func withMaxPending(n int) envOption { return func(e *env) { e.opts.MaxPendingLogs = n } }

// recorded is the number of priced rows in the database and what they cost.
func recorded(t *testing.T, l *Ledger) (int, float64) {
	t.Helper()
	rows, _, err := l.Store().QuerySpendLogs(context.Background(), store.SpendQuery{PageSize: 100_000})
	if err != nil {
		t.Fatal(err)
	}
	n, sum := 0, 0.0
	for _, r := range rows {
		if r.Spend > 0 {
			n++
			sum += r.Spend
		}
	}
	return n, sum
}

// A data folder on a full disk: readiness answers 503 with the reason, requests are refused once
// the rows that cannot be written reach the bound, every row lands once the disk has room again,
// and a clean shutdown with the disk still full says exactly how many rows and dollars were lost.
func TestFullDiskNeverLosesSpendQuietly(t *testing.T) {
	dir := tmpfsDir(t, "4m")
	e := newEnv(t, withDir(dir), withMaxPending(16))
	// Runs before the env stops: a failure with the disk still full must not leave handlers
	// waiting on the store forever.
	t.Cleanup(func() { os.Remove(filepath.Join(dir, "filler")) })
	key, _ := e.generate(`{"max_budget": 100}`)
	if r := e.chat(key, exactChat); r.status != 200 {
		t.Fatalf("chat: %d %s", r.status, r.body)
	}
	e.flush()
	if r := e.do("GET", "/health/readiness", "", ""); r.status != 200 {
		t.Fatalf("readiness before the disk filled: %d %s", r.status, r.body)
	}
	served := 1

	// Fill the disk and keep calling until readiness says so, then until requests are refused.
	filler := fillDisk(t, dir)
	var ready response
	for i := 0; ; i++ {
		if i == 500 {
			t.Fatalf("readiness still %d after %d calls on a full disk: %s", ready.status, served, ready.body)
		}
		r := e.chat(key, exactChat)
		if r.status != 200 {
			t.Fatalf("chat %d before readiness failed: %d %s", served+1, r.status, r.body)
		}
		served++
		if ready = e.do("GET", "/health/readiness", "", ""); ready.status != 200 {
			break
		}
		time.Sleep(5 * time.Millisecond) // pacing only: the writer retries on its own timer
	}
	if m := ready.obj(t); ready.status != 503 || !strings.Contains(fmt.Sprint(m["error"]), "spend logs cannot be written") ||
		m["db"] == "connected" {
		t.Fatalf("readiness on a full disk: %d %s", ready.status, ready.body)
	}
	var refused response
	for i := 0; ; i++ {
		if i == 500 {
			t.Fatalf("no refusal after %d calls with a bound of 16 rows", served)
		}
		if refused = chatWithin(t, e, key, 10*time.Second); refused.status != 200 {
			break
		}
		served++
	}
	if ae := refused.errOf(t, 503); !strings.Contains(ae.Message, "Spend log cannot be written") {
		t.Fatalf("refusal at the bound: %s", refused.body)
	}
	if r := e.master("POST", "/v1/chat/completions", exactChat); r.status != 503 {
		t.Fatalf("master key at the bound: %d %s (every request is refused)", r.status, r.body)
	}

	// Room again: the held rows are written, readiness recovers, traffic flows.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for e.do("GET", "/health/readiness", "", "").status != 200 {
		if time.Now().After(deadline) {
			t.Fatal("readiness did not recover after the disk had room")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if r := e.chat(key, exactChat); r.status != 200 {
		t.Fatalf("chat after recovery: %d %s", r.status, r.body)
	}
	served++
	e.flush()
	if n, sum := recorded(t, e.l); n != served || !near(sum, float64(served)*callCost) {
		t.Fatalf("after recovery: %d rows, $%v; want %d calls, $%v", n, sum, served, float64(served)*callCost)
	}

	// Full again, then a clean shutdown: nothing can be written or spilled, so the error (and the
	// log) count the rows and dollars lost, exactly.
	filler = fillDisk(t, dir)
	for i := 0; ; i++ {
		if i == 500 {
			t.Fatal("readiness stayed 200 on a full disk")
		}
		if r := e.chat(key, exactChat); r.status != 200 {
			t.Fatalf("chat: %d %s", r.status, r.body)
		}
		served++
		if e.do("GET", "/health/readiness", "", "").status == 503 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	l := e.l
	e.l = nil
	e.srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	err := l.Close(ctx)
	m := regexp.MustCompile(`(\d+) spend logs \(\$([0-9.]+)\) not written`).FindStringSubmatch(fmt.Sprint(err))
	if m == nil {
		t.Fatalf("Close on a full disk = %v, want the rows and dollars not written", err)
	}
	lost, _ := strconv.Atoi(m[1])
	lostUSD, _ := strconv.ParseFloat(m[2], 64)
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	e.start()
	n, sum := recorded(t, e.l)
	if n+lost != served || lost == 0 {
		t.Errorf("%d rows on disk + %d reported lost, want the %d calls served", n, lost, served)
	}
	if d := sum + lostUSD - float64(served)*callCost; d > 1e-6 || d < -1e-6 {
		t.Errorf("$%v on disk + $%v reported lost, want $%v", sum, lostUSD, float64(served)*callCost)
	}
}
