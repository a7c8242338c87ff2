package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// addAll adds n rows of spend each to key and fails the test if the Adds do not all return
// within a generous bound (a Writer that blocks instead of spilling).
func addAll(t *testing.T, w *Writer, n int, key string, spend float64) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range n {
			w.Add(mkLog(fmt.Sprintf("r%d", i), key, spend, t0))
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatalf("Add blocked while writes failed: rows beyond MaxPending were not spilled")
	}
}

func countReports(errs []error, substr string) int {
	n := 0
	for _, err := range errs {
		if strings.Contains(err.Error(), substr) {
			n++
		}
	}
	return n
}

// While the database refuses writes, rows beyond MaxPending go to the spill file instead of
// piling up in memory or blocking; once writes succeed, the spill file is written back (rows and
// spend equal to what was added) and removed. The failure is reported once, not per retry.
func TestWriterSpillsBeyondBoundAndReplays(t *testing.T) {
	s := openTest(t)
	if err := s.CreateKey(context.Background(), Key{Token: "k"}); err != nil {
		t.Fatal(err)
	}
	spill := filepath.Join(t.TempDir(), "spend.db"+SpillSuffix)
	var errs errorLog
	w, f := startFlaky(s, WriterOptions{FlushInterval: time.Millisecond, MaxBatch: 4, Buffer: 4, MaxPending: 8,
		SpillPath: spill, OnError: errs.add})
	defer closeWriter(t, w)
	addAll(t, w, 100, "k", 0.25)
	eventually(t, 5*time.Second, "three failed attempts", func() bool { return f.calls.Load() >= 3 })
	if err := w.Err(); !errors.Is(err, errDiskFull) || errors.Is(err, ErrSpendLogFull) {
		t.Fatalf("Err while failing with a spill file = %v, want the cause, not full", err)
	}
	if fi, err := os.Stat(spill); err != nil || fi.Size() == 0 {
		t.Fatalf("spill file: %v", err)
	}
	if n := countReports(errs.all(), "cannot be written"); n != 1 {
		t.Errorf("failure reported %d times in one episode, want once: %v", n, errs.all())
	}
	f.failing.Store(false)
	eventually(t, 15*time.Second, "rows on disk after recovery", func() bool { return countLogs(t, s) == 100 })
	eventually(t, 5*time.Second, "spill file removed", func() bool { _, err := os.Stat(spill); return os.IsNotExist(err) })
	if got := keySpend(t, s, "k"); got != 25 {
		t.Errorf("key spend = %v, want 25", got)
	}
	eventually(t, 5*time.Second, "Err cleared after recovery", func() bool { return w.Err() == nil })
}

// With no spill file that can be written, MaxPending rows make the Writer full (Err wraps
// ErrSpendLogFull, which the ledger refuses requests on), until a write succeeds.
func TestWriterFullWithoutSpill(t *testing.T) {
	s := openTest(t)
	w, f := startFlaky(s, WriterOptions{FlushInterval: time.Millisecond, MaxBatch: 4, Buffer: 4, MaxPending: 8,
		SpillPath: filepath.Join(t.TempDir(), "missing", "spend.db"+SpillSuffix), OnError: func(error) {}})
	defer closeWriter(t, w)
	addAll(t, w, 8, "", 1)
	eventually(t, 5*time.Second, "full", func() bool { return errors.Is(w.Err(), ErrSpendLogFull) })
	f.failing.Store(false)
	eventually(t, 15*time.Second, "recovered", func() bool { return w.Err() == nil })
	if got := countLogs(t, s); got != 8 {
		t.Fatalf("rows = %d, want 8", got)
	}
}

// A clean shutdown while writes fail puts the rows in the spill file; the next Writer on the
// database writes them back at start.
func TestWriterCloseSpillsAndNextStartReplays(t *testing.T) {
	s := openTest(t)
	if err := s.CreateKey(context.Background(), Key{Token: "k"}); err != nil {
		t.Fatal(err)
	}
	spill := filepath.Join(t.TempDir(), "spend.db"+SpillSuffix)
	w, _ := startFlaky(s, WriterOptions{FlushInterval: time.Hour, SpillPath: spill, OnError: func(error) {}})
	addAll(t, w, 5, "k", 1)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := w.Close(ctx); err != nil {
		t.Fatalf("Close with a writable spill file = %v", err)
	}
	if rows, bad, err := readSpill(spill); err != nil || bad != 0 || len(rows) != 5 {
		t.Fatalf("spill file: %d rows, %d torn, %v; want 5", len(rows), bad, err)
	}
	if n := countLogs(t, s); n != 0 {
		t.Fatalf("rows in the database = %d before replay", n)
	}
	w2 := s.NewWriter(WriterOptions{FlushInterval: time.Hour, SpillPath: spill})
	defer closeWriter(t, w2)
	eventually(t, 5*time.Second, "spilled rows written back", func() bool { return countLogs(t, s) == 5 })
	if got := keySpend(t, s, "k"); got != 5 {
		t.Errorf("key spend = %v, want 5", got)
	}
	eventually(t, 5*time.Second, "spill file removed", func() bool { _, err := os.Stat(spill); return os.IsNotExist(err) })
}
