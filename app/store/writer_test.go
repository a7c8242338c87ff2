package store

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > within {
			t.Fatalf("%s: not within %v", what, within)
		}
		time.Sleep(2 * time.Millisecond)
	}
	return time.Since(start)
}

// errorLog collects OnError reports.
type errorLog struct {
	mu   sync.Mutex
	errs []error
}

func (e *errorLog) add(err error) { e.mu.Lock(); e.errs = append(e.errs, err); e.mu.Unlock() }
func (e *errorLog) all() []error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]error(nil), e.errs...)
}

func closeWriter(t *testing.T, w *Writer) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestWriterConcurrentAdds(t *testing.T) { onBoth(t, testWriterConcurrentAdds) }

func testWriterConcurrentAdds(t *testing.T, s *Store) {
	ctx := context.Background()
	keys := []string{"k0", "k1", "k2", "k3", "k4"}
	for _, k := range keys {
		if err := s.CreateKey(ctx, Key{Token: k}); err != nil {
			t.Fatal(err)
		}
	}
	var errs errorLog
	w := s.NewWriter(WriterOptions{FlushInterval: 20 * time.Millisecond, MaxBatch: 128, OnError: errs.add})
	const goroutines, each = 50, 200
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				// Spends are multiples of 1/1024, so every sum is exact whatever the order.
				w.Add(mkLog(fmt.Sprintf("g%d-%d", g, i), keys[(g+i)%len(keys)], float64(i%8+1)/1024, t0.Add(time.Duration(i)*time.Second)))
			}
		}()
	}
	wg.Wait()
	closeWriter(t, w)
	if errs := errs.all(); len(errs) > 0 {
		t.Fatalf("OnError: %v", errs)
	}
	var rows, distinct int
	if err := s.r.QueryRow(`SELECT COUNT(*), COUNT(DISTINCT request_id) FROM spend_logs`).Scan(&rows, &distinct); err != nil {
		t.Fatal(err)
	}
	if rows != goroutines*each || distinct != rows {
		t.Fatalf("rows = %d (distinct %d), want %d", rows, distinct, goroutines*each)
	}
	var total float64
	for _, k := range keys {
		logs, _ := s.KeySpendSince(ctx, k, time.Time{})
		if got := keySpend(t, s, k); got != logs {
			t.Errorf("%s: key spend %v, logs %v", k, got, logs)
		}
		total += logs
	}
	// sum over g, i of (i%8+1)/1024 = 50 * 25 * 36 / 1024
	if want := float64(goroutines*(each/8)*36) / 1024; total != want {
		t.Errorf("total spend %v, want %v", total, want)
	}
}

// fakeTimer stands in for the Writer's timer: it reports each wait the Writer arms and fires
// only when the test says so, so the interval is checked exactly, whatever the machine's load.
type fakeTimer struct {
	armed chan time.Duration
	fire  chan time.Time
}

func newFakeTimer() *fakeTimer {
	return &fakeTimer{armed: make(chan time.Duration, 16), fire: make(chan time.Time)}
}

func (f *fakeTimer) C() <-chan time.Time   { return f.fire }
func (f *fakeTimer) Reset(d time.Duration) { f.armed <- d }
func (f *fakeTimer) Stop()                 {}

// nextWait returns the next wait the Writer armed.
func (f *fakeTimer) nextWait(t *testing.T) time.Duration {
	t.Helper()
	select {
	case d := <-f.armed:
		return d
	case <-time.After(10 * time.Second):
		t.Fatal("the writer armed no timer for a queued row")
		return 0
	}
}

// A queued row waits exactly FlushInterval (1 s by default), is written when that wait ends and
// not before, and the next row waits a full interval again.
func TestWriterWaitsFlushInterval(t *testing.T) { eachEngine(t, testWriterWaitsFlushInterval) }

func testWriterWaitsFlushInterval(t *testing.T, e engine) {
	for _, c := range []struct {
		set, want time.Duration
	}{
		{100 * time.Millisecond, 100 * time.Millisecond},
		{3 * time.Minute, 3 * time.Minute},
		{0, time.Second},
	} {
		t.Run(c.set.String(), func(t *testing.T) {
			s := e.open(t)
			ft := newFakeTimer()
			wrote := make(chan int, 16)
			w := newWriter(WriterOptions{FlushInterval: c.set, MaxBatch: 1000}, func(ctx context.Context, logs []SpendLog) error {
				err := s.InsertSpendLogs(ctx, logs)
				wrote <- len(logs)
				return err
			})
			w.newTimer = func() flushTimer { return ft }
			go w.run()
			defer closeWriter(t, w)

			for i, id := range []string{"r1", "r2"} {
				w.Add(mkLog(id, "", 1, t0))
				if d := ft.nextWait(t); d != c.want {
					t.Fatalf("row %d waits %v, want %v", i+1, d, c.want)
				}
				// Armed and waiting: nothing is written until the wait ends.
				if n := countLogs(t, s); n != i {
					t.Fatalf("%d rows on disk before the interval ended, want %d", n, i)
				}
				ft.fire <- time.Now()
				select {
				case n := <-wrote:
					if n != 1 {
						t.Fatalf("the interval's write took %d rows, want 1", n)
					}
				case <-time.After(10 * time.Second):
					t.Fatal("no write when the interval ended")
				}
				if n := countLogs(t, s); n != i+1 {
					t.Fatalf("%d rows on disk after the interval, want %d", n, i+1)
				}
			}
		})
	}
}

// With the real timer, a row reaches the disk with no Flush (how soon is TestWriterWaitsFlushInterval's
// business; the bound here is only for a stuck writer).
func TestWriterWritesOnItsOwn(t *testing.T) { onBoth(t, testWriterWritesOnItsOwn) }

func testWriterWritesOnItsOwn(t *testing.T, s *Store) {
	w := s.NewWriter(WriterOptions{FlushInterval: 50 * time.Millisecond, MaxBatch: 1000})
	defer closeWriter(t, w)
	w.Add(mkLog("r1", "", 1, t0))
	took := eventually(t, 10*time.Second, "row on disk", func() bool {
		_, err := s.GetSpendLog(context.Background(), "r1")
		return err == nil
	})
	t.Logf("visible after %v (interval 50ms)", took)
}

func TestWriterFlushesAtMaxBatch(t *testing.T) { onBoth(t, testWriterFlushesAtMaxBatch) }

func testWriterFlushesAtMaxBatch(t *testing.T, s *Store) {
	w := s.NewWriter(WriterOptions{FlushInterval: time.Hour, MaxBatch: 10})
	defer closeWriter(t, w)
	for i := range 10 {
		w.Add(mkLog(fmt.Sprintf("r%d", i), "", 1, t0))
	}
	eventually(t, 5*time.Second, "a full batch on disk with an hour's interval", func() bool { return countLogs(t, s) == 10 })
}

func TestWriterCloseWritesEverything(t *testing.T) { onBoth(t, testWriterCloseWritesEverything) }

func testWriterCloseWritesEverything(t *testing.T, s *Store) {
	w := s.NewWriter(WriterOptions{FlushInterval: time.Hour, MaxBatch: 100000})
	for i := range 1000 {
		w.Add(mkLog(fmt.Sprintf("r%d", i), "", 1, t0))
	}
	if n := countLogs(t, s); n != 0 {
		t.Fatalf("%d rows written before Close with an hour's interval", n)
	}
	closeWriter(t, w)
	if n := countLogs(t, s); n != 1000 {
		t.Fatalf("rows after Close = %d, want 1000", n)
	}
	// Usage that finishes during shutdown is written directly.
	w.Add(mkLog("late", "", 1, t0))
	if _, err := s.GetSpendLog(context.Background(), "late"); err != nil {
		t.Fatalf("row added after Close: %v", err)
	}
	if err := w.Flush(context.Background()); !errors.Is(err, ErrWriterClosed) {
		t.Errorf("Flush after Close = %v", err)
	}
	if err := w.Close(context.Background()); err != nil {
		t.Errorf("second Close = %v", err)
	}
}

func TestWriterFlush(t *testing.T) { onBoth(t, testWriterFlush) }

func testWriterFlush(t *testing.T, s *Store) {
	w := s.NewWriter(WriterOptions{FlushInterval: time.Hour})
	defer closeWriter(t, w)
	w.Add(mkLog("r1", "", 1, t0))
	if err := w.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := countLogs(t, s); n != 1 {
		t.Fatalf("rows after Flush = %d", n)
	}
}

// flaky makes the Writer's inserts fail while failing is set.
type flaky struct {
	s       *Store
	failing atomic.Bool
	calls   atomic.Int64
}

var errDiskFull = errors.New("disk full")

func (f *flaky) insert(ctx context.Context, logs []SpendLog) error {
	f.calls.Add(1)
	if f.failing.Load() {
		return errDiskFull
	}
	return f.s.InsertSpendLogs(ctx, logs)
}

func startFlaky(s *Store, o WriterOptions) (*Writer, *flaky) {
	f := &flaky{s: s}
	f.failing.Store(true)
	w := newWriter(o, f.insert)
	w.minBackoff = time.Millisecond
	go w.run()
	return w, f
}

func TestWriterRetriesAndKeepsRows(t *testing.T) { onBoth(t, testWriterRetriesAndKeepsRows) }

func testWriterRetriesAndKeepsRows(t *testing.T, s *Store) {
	if err := s.CreateKey(context.Background(), Key{Token: "k"}); err != nil {
		t.Fatal(err)
	}
	var errs errorLog
	w, f := startFlaky(s, WriterOptions{FlushInterval: 5 * time.Millisecond, MaxBatch: 16, OnError: errs.add})
	defer closeWriter(t, w)
	for i := range 100 {
		w.Add(mkLog(fmt.Sprintf("r%d", i), "k", 0.5, t0))
	}
	eventually(t, 5*time.Second, "three failed attempts", func() bool { return f.calls.Load() >= 3 })
	if err := w.Flush(context.Background()); !errors.Is(err, errDiskFull) {
		t.Fatalf("Flush while failing = %v", err)
	}
	f.failing.Store(false)
	eventually(t, 15*time.Second, "rows on disk after recovery", func() bool { return countLogs(t, s) == 100 })
	if got := keySpend(t, s, "k"); got != 50 {
		t.Errorf("key spend = %v, want 50", got)
	}
	reported := errs.all()
	if len(reported) != 1 || !errors.Is(reported[0], errDiskFull) {
		t.Errorf("OnError got %v, want the failure once (one episode)", reported)
	}
}

// When writes keep failing the Writer holds MaxPending rows plus its queue, then Add waits rather
// than drop a row; the rows all land once writes succeed again.
func TestWriterBackpressure(t *testing.T) { onBoth(t, testWriterBackpressure) }

func testWriterBackpressure(t *testing.T, s *Store) {
	w, f := startFlaky(s, WriterOptions{FlushInterval: time.Millisecond, MaxBatch: 4, Buffer: 4, MaxPending: 8, OnError: func(error) {}})
	added := make(chan int, 100)
	go func() {
		for i := range 20 {
			w.Add(mkLog(fmt.Sprintf("r%d", i), "", 1, t0))
			added <- i
		}
		close(added)
	}()
	// 8 pending + 4 queued + the one the writer may hold between receive and append.
	n := 0
	for range 12 {
		<-added
		n++
	}
	select {
	case i, ok := <-added:
		if ok {
			t.Fatalf("Add #%d returned while writes were failing with MaxPending 8 and Buffer 4", i+1)
		}
	case <-time.After(200 * time.Millisecond):
		// Blocked, as it should be. Proving a negative needs a timeout.
	}
	f.failing.Store(false)
	for range added {
	}
	closeWriter(t, w)
	if got := countLogs(t, s); got != 20 {
		t.Fatalf("rows = %d, want 20", got)
	}
}

func TestWriterCloseGivesUpAtDeadline(t *testing.T) { onBoth(t, testWriterCloseGivesUpAtDeadline) }

func testWriterCloseGivesUpAtDeadline(t *testing.T, s *Store) {
	w, _ := startFlaky(s, WriterOptions{FlushInterval: time.Hour, OnError: func(error) {}})
	for i := range 5 {
		w.Add(mkLog(fmt.Sprintf("r%d", i), "", 1, t0))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err := w.Close(ctx)
	if !errors.Is(err, errDiskFull) || !strings.Contains(err.Error(), "5 spend logs ($5.000000) not written") {
		t.Fatalf("Close = %v, want the count and dollars of rows lost and the cause", err)
	}
}

func TestWriterRepairsRows(t *testing.T) { onBoth(t, testWriterRepairsRows) }

func testWriterRepairsRows(t *testing.T, s *Store) {
	var errs errorLog
	w := s.NewWriter(WriterOptions{FlushInterval: time.Hour, OnError: errs.add})
	end := t0.Add(time.Second)
	w.Add(SpendLog{EndTime: end, Spend: math.NaN(), Status: StatusSuccess})
	w.Add(SpendLog{RequestID: "bad-meta", StartTime: t0, Metadata: map[string]any{"x": math.Inf(1)}})
	w.Add(mkLog("fine", "", 1, t0))
	closeWriter(t, w)
	logs, total, err := s.QuerySpendLogs(context.Background(), SpendQuery{})
	if err != nil || total != 3 {
		t.Fatalf("rows = %d, %v; want all 3 stored", total, err)
	}
	for _, l := range logs {
		switch {
		case l.RequestID == "fine":
		case l.RequestID == "bad-meta":
			if l.Metadata["clawgate_error"] == nil || !l.EndTime.Equal(t0) {
				t.Errorf("bad-meta stored as %+v", l)
			}
		default:
			if l.Spend != 0 || !l.Unpriced || !l.StartTime.Equal(end) || len(l.RequestID) < 10 {
				t.Errorf("repaired row stored as %+v", l)
			}
		}
	}
	reported := errs.all()
	if len(reported) != 2 || !errors.Is(reported[0], ErrInvalidLog) {
		t.Errorf("OnError got %v, want two repairs", reported)
	}
}

func TestWriterReplayCountsOnce(t *testing.T) { onBoth(t, testWriterReplayCountsOnce) }

func testWriterReplayCountsOnce(t *testing.T, s *Store) {
	if err := s.CreateKey(context.Background(), Key{Token: "k"}); err != nil {
		t.Fatal(err)
	}
	w := s.NewWriter(WriterOptions{FlushInterval: time.Hour, MaxBatch: 2})
	for range 5 {
		w.Add(mkLog("same", "k", 0.25, t0))
	}
	closeWriter(t, w)
	if n, spend := countLogs(t, s), keySpend(t, s, "k"); n != 1 || spend != 0.25 {
		t.Fatalf("rows %d, spend %v; want 1 and 0.25", n, spend)
	}
}
