package store

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// crashEnv, when set to a database path, turns the test binary into the child of TestCrashSafety:
// it writes spend logs through a Writer as fast as it can until it is killed.
const crashEnv = "CLAWGATE_STORE_CRASH_DB"

var crashKeys = []string{"ka", "kb", "kc"}

func TestMain(m *testing.M) {
	if path := os.Getenv(crashEnv); path != "" {
		crashChild(path, os.Getenv(crashEnv+"_RUN"))
		os.Exit(3) // not reached: the parent kills us
	}
	goleak.VerifyTestMain(m) // and no goroutine outlives the tests
}

func crashChild(path, run string) {
	s, err := Open(context.Background(), path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	w := s.NewWriter(WriterOptions{FlushInterval: 10 * time.Millisecond, MaxBatch: 256,
		OnError: func(err error) { fmt.Fprintln(os.Stderr, err) }})
	start := time.Now()
	for i := 0; ; i++ {
		w.Add(SpendLog{RequestID: fmt.Sprintf("%s-%d", run, i), APIKey: crashKeys[i%len(crashKeys)],
			Spend: float64(i%16+1) / 1024, StartTime: start, EndTime: time.Now(), Model: "m", Status: StatusSuccess,
			PromptTokens: int64(i % 100), TotalTokens: int64(i % 100)})
		if i%500 == 0 {
			fmt.Printf("added %d\n", i)
		}
	}
}

// The child is killed with SIGKILL while its Writer is committing batches. After each crash the
// file must pass integrity_check, every key's spend must equal the sum of its logs, and the rows
// written before the crash must be there.
func TestCrashSafety(t *testing.T) {
	path := Path(t.TempDir())
	ctx := context.Background()
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range crashKeys {
		if err := s.CreateKey(ctx, Key{Token: k, MaxBudget: ptr(1e9)}); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()

	var onDiskBefore int
	for run := range 3 {
		name := "run" + strconv.Itoa(run)
		added := crashOnce(t, path, name)

		s, err := Open(ctx, path) // recovers the WAL
		if err != nil {
			t.Fatalf("%s: reopen after kill -9: %v", name, err)
		}
		var check string
		if err := s.w.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
			t.Fatalf("%s: integrity_check = %q, %v", name, check, err)
		}
		var rows, thisRun int
		if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*), COUNT(*) FILTER (WHERE request_id LIKE ? || '-%')
			FROM spend_logs`, name).Scan(&rows, &thisRun); err != nil {
			t.Fatal(err)
		}
		if rows != onDiskBefore+thisRun {
			t.Fatalf("%s: %d rows, want the %d from earlier runs plus %d", name, rows, onDiskBefore, thisRun)
		}
		onDiskBefore = rows
		for _, k := range crashKeys {
			logs, err := s.KeySpendSince(ctx, k, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			if spend := keySpend(t, s, k); spend != logs {
				t.Errorf("%s: key %s spend %v, its logs %v", name, k, spend, logs)
			}
		}
		t.Logf("%s: child reported %d rows added, %d on disk after the kill", name, added, thisRun)
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// crashOnce runs the child until it has written a few thousand rows, kills it with SIGKILL while
// it is still writing, and returns the last count of rows it said it had added.
func crashOnce(t *testing.T, path, run string) int64 {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashEnv+"="+path, crashEnv+"_RUN="+run)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var added atomic.Int64
	go func() { // keep reading, or the child would stall on a full pipe
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if n, err := strconv.ParseInt(strings.TrimPrefix(sc.Text(), "added "), 10, 64); err == nil {
				added.Store(n)
			}
		}
	}()

	db, err := sql.Open("sqlite", dsn(path, "_pragma=busy_timeout(5000)", "_pragma=query_only(1)"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var n int
		// A reader in another process, beside the child's writer: WAL allows it.
		if err := db.QueryRow(`SELECT COUNT(*) FROM spend_logs WHERE request_id LIKE ? || '-%'`, run).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n >= 3000 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("%s: child wrote only %d rows in time; stderr:\n%s", run, n, stderr.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	// Land the kill at a varying point of the write cycle.
	time.Sleep(time.Duration(rand.IntN(20)) * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("%s: child ended with %v, not by SIGKILL; stderr:\n%s", run, err, stderr.String())
	}
	if fi, err := os.Stat(path + "-wal"); err == nil {
		t.Logf("%s: WAL left behind: %d bytes", run, fi.Size())
	}
	return added.Load()
}
