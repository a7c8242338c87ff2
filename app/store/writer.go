package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// WriterOptions configure a Writer. Zero values take the defaults.
type WriterOptions struct {
	// FlushInterval is the longest a row waits in memory before a write starts (default 1s). It is
	// what a crash (kill -9) can lose.
	FlushInterval time.Duration
	// MaxBatch rows waiting start a write at once, and bound one transaction (default 512).
	MaxBatch int
	// Buffer is the queue between Add and the writing goroutine (default 4*MaxBatch).
	Buffer int
	// MaxPending is how many rows the Writer holds while writes keep failing (default 64*MaxBatch);
	// beyond that Add blocks until a write succeeds, rather than drop rows or grow without end.
	MaxPending int
	// OnError hears about the first failed write of each episode of failures (the rows are kept and
	// retried; Err reports the episode until a write succeeds), rows spilled or lost, and every row
	// that had to be repaired. Default: slog.Default().Warn. It runs on the Writer's goroutine: keep
	// it short.
	OnError func(error)
	// OnRecover hears that writes succeed again after an episode of failures (default: nothing).
	OnRecover func()
	// SpillPath, when set, is a file that takes the rows once MaxPending wait while writes fail,
	// and the rows left at Close; they are written back at the next successful write or start.
	SpillPath string
}

// ErrSpendLogFull is in Err when writes fail, MaxPending rows wait and none can be spilled: more
// usage cannot be recorded.
var ErrSpendLogFull = errors.New("store: spend log cannot be written and its buffer is full")

// Backoff between retries of a failed write.
const (
	minBackoff = 100 * time.Millisecond
	maxBackoff = 10 * time.Second
)

// ErrWriterClosed is returned by Flush after Close.
var ErrWriterClosed = errors.New("store: writer closed")

// Writer batches spend logs off the request path: Add queues a row, one goroutine writes batches
// with InsertSpendLogs every FlushInterval or whenever MaxBatch rows wait. A failed write keeps its
// rows and is retried with backoff. Close writes everything still queued.
//
// Add blocks only while the queue (Buffer rows) is full: for the time one batch takes to commit
// (a few milliseconds) under a burst, or, when writes have been failing long enough for MaxPending
// rows to pile up, until one succeeds or Close is called. It never drops a row.
type Writer struct {
	insert     func(context.Context, []SpendLog) error // InsertSpendLogs; tests swap it to fail
	interval   time.Duration
	maxBatch   int
	maxPending int
	onError    func(error)
	minBackoff time.Duration
	newTimer   func() flushTimer // tests swap it to see each wait and fire it themselves
	onRecover  func()
	spillPath  string
	spilled    bool // run's: the spill file may hold rows

	failure atomic.Pointer[error] // the current episode's error, nil while writes succeed
	full    atomic.Bool           // MaxPending rows wait and the spill file refused them

	// runCtx bounds the writes run makes; Close cancels it when its own ctx ends.
	runCtx    context.Context
	cancelRun context.CancelFunc

	ch       chan SpendLog
	mu       sync.RWMutex  // Add holds it shared while queueing; Close takes it to know no send is in flight
	closing  chan struct{} // closed by Close: Add then writes rows itself
	flushReq chan chan error
	stop     chan context.Context
	done     chan struct{}
	once     sync.Once
	closeErr error // set by run before done is closed
}

// NewWriter starts a Writer on s. Close it before closing s.
func (s *Store) NewWriter(opts WriterOptions) *Writer {
	w := newWriter(opts, s.InsertSpendLogs)
	w.spilled = opts.SpillPath != ""
	go w.run()
	return w
}

func newWriter(o WriterOptions, insert func(context.Context, []SpendLog) error) *Writer {
	if o.FlushInterval <= 0 {
		o.FlushInterval = time.Second
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = 512
	}
	if o.Buffer <= 0 {
		o.Buffer = 4 * o.MaxBatch
	}
	if o.MaxPending <= 0 {
		o.MaxPending = 64 * o.MaxBatch
	}
	o.MaxPending = max(o.MaxPending, o.MaxBatch)
	if o.OnError == nil {
		o.OnError = func(err error) { slog.Default().Warn("spend log writer", "err", err) }
	}
	runCtx, cancel := context.WithCancel(context.Background())
	return &Writer{
		runCtx: runCtx, cancelRun: cancel,
		insert: insert, interval: o.FlushInterval, maxBatch: o.MaxBatch, maxPending: o.MaxPending,
		onError: o.OnError, onRecover: o.OnRecover, spillPath: o.SpillPath, minBackoff: minBackoff, newTimer: newRealTimer,
		ch: make(chan SpendLog, o.Buffer), closing: make(chan struct{}), flushReq: make(chan chan error),
		stop: make(chan context.Context, 1), done: make(chan struct{}),
	}
}

// Add queues l for writing. The Writer owns l's maps and slices from here on. After Close, Add
// writes the row itself before returning, so usage that finishes during shutdown is not lost.
func (w *Writer) Add(l SpendLog) {
	w.mu.RLock()
	select {
	case <-w.closing:
		w.mu.RUnlock()
		w.writeLate(l)
		return
	default:
	}
	select {
	case w.ch <- l:
		w.mu.RUnlock()
	case <-w.closing:
		w.mu.RUnlock()
		w.writeLate(l)
	}
}

// writeLate writes a row that arrived after Close, retrying a few times.
func (w *Writer) writeLate(l SpendLog) {
	w.repair(&l)
	var err error
	for i, d := 0, w.minBackoff; i < 3; i, d = i+1, d*2 {
		if i > 0 {
			time.Sleep(d)
		}
		if err = w.insert(context.Background(), []SpendLog{l}); err == nil {
			return
		}
	}
	w.onError(fmt.Errorf("store: spend log %s added after close was not written: %w", l.RequestID, err))
}

// Flush writes every row queued before the call and returns the write's error. For tests and for
// callers that need a row on disk now.
func (w *Writer) Flush(ctx context.Context) error {
	reply := make(chan error, 1)
	select {
	case w.flushReq <- reply:
	case <-w.done:
		return ErrWriterClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-reply:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close writes every queued row and stops the Writer. If writes keep failing it retries until ctx
// ends, then returns an error counting the rows that were not written.
func (w *Writer) Close(ctx context.Context) error {
	w.once.Do(func() {
		close(w.closing) // wakes any Add blocked on a full queue
		w.mu.Lock()      // waits for Adds that are mid-send: after this nothing else enters w.ch
		w.mu.Unlock()
		// A write in progress gives up when ctx does; run then fails its final write at once.
		stop := context.AfterFunc(ctx, w.cancelRun)
		defer stop()
		w.stop <- ctx
		<-w.done
		w.cancelRun()
	})
	<-w.done
	return w.closeErr
}

func (w *Writer) run() {
	defer close(w.done)
	var (
		pending []SpendLog
		timer   = w.newTimer()
		armed   bool
		backoff time.Duration // > 0 while writes fail
	)
	defer timer.Stop()
	arm := func(d time.Duration) {
		if !armed {
			timer.Reset(d)
			armed = true
		}
	}
	flush := func() error {
		timer.Stop()
		armed = false
		var err error
		if pending, err = w.write(w.runCtx, pending); err == nil {
			err = w.replaySpill(w.runCtx)
		}
		if err != nil {
			if backoff == 0 {
				w.onError(fmt.Errorf("store: spend logs cannot be written, %d kept to retry: %w", len(pending), err))
			}
			w.failure.Store(&err)
			backoff = min(max(2*backoff, w.minBackoff), maxBackoff)
			pending = w.spillIfFull(pending)
			arm(backoff)
			return err
		}
		if backoff > 0 && w.onRecover != nil {
			w.onRecover()
		}
		backoff = 0
		w.failure.Store(nil)
		w.full.Store(false)
		return nil
	}
	if w.spilled {
		flush() // rows a previous run spilled
	}
	for {
		recv := w.ch
		if len(pending) >= w.maxPending {
			recv = nil // writes are failing: hold what we have and let Add block
		}
		select {
		case l := <-recv:
			w.repair(&l)
			pending = append(pending, l)
			if backoff == 0 && len(pending) >= w.maxBatch {
				flush()
			} else if backoff > 0 && len(pending) >= w.maxPending {
				pending = w.spillIfFull(pending)
				arm(w.interval)
			} else {
				arm(w.interval)
			}
		case <-timer.C():
			armed = false
			flush()
		case reply := <-w.flushReq:
			pending = w.drain(pending)
			reply <- flush()
		case ctx := <-w.stop:
			pending = w.drain(pending)
			w.closeErr = w.final(ctx, pending, backoff)
			return
		}
	}
}

// flushTimer is the one timer the Writer waits on, for FlushInterval or a retry's backoff.
type flushTimer interface {
	C() <-chan time.Time
	Reset(d time.Duration)
	Stop()
}

type realTimer struct{ t *time.Timer }

// newRealTimer returns a stopped time.Timer (since Go 1.23, Stop and Reset leave no stale tick).
func newRealTimer() flushTimer {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return realTimer{t}
}

func (r realTimer) C() <-chan time.Time   { return r.t.C }
func (r realTimer) Reset(d time.Duration) { r.t.Reset(d) }
func (r realTimer) Stop()                 { r.t.Stop() }

// final writes what is left at Close, retrying until ctx ends; then it spills what is left, and
// if even that fails, the error says how many rows and dollars were not recorded.
func (w *Writer) final(ctx context.Context, pending []SpendLog, backoff time.Duration) error {
	for {
		var err error
		if pending, err = w.write(ctx, pending); err == nil {
			if err = w.replaySpill(ctx); err == nil {
				return nil
			}
		}
		if backoff == 0 {
			w.onError(fmt.Errorf("store: writing %d spend logs at close: %w", len(pending), err))
		}
		backoff = min(max(2*backoff, w.minBackoff), maxBackoff)
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			if len(pending) == 0 {
				return nil // only spilled rows are left, and they stay in the spill file
			}
			if w.spill(pending) == nil {
				return nil
			}
			return fmt.Errorf("store: writer closed with %d spend logs ($%.6f) not written: %w", len(pending), sumSpend(pending), err)
		case <-t.C:
		}
	}
}

// Err is nil while spend logs are being written. While writes fail it is the cause, wrapped in
// ErrSpendLogFull once no more rows can be kept.
func (w *Writer) Err() error {
	p := w.failure.Load()
	if p == nil {
		return nil
	}
	if w.full.Load() {
		return fmt.Errorf("%w: %w", ErrSpendLogFull, *p)
	}
	return fmt.Errorf("store: spend logs cannot be written: %w", *p)
}

// spillIfFull moves pending to the spill file once it holds MaxPending rows; if it cannot, the
// Writer is Full until a write succeeds.
func (w *Writer) spillIfFull(pending []SpendLog) []SpendLog {
	if len(pending) < w.maxPending {
		return pending
	}
	if err := w.spill(pending); err != nil {
		if !w.full.Swap(true) {
			w.onError(fmt.Errorf("%w: %d rows ($%.6f) held in memory: %w", ErrSpendLogFull, len(pending), sumSpend(pending), err))
		}
		return pending
	}
	clear(pending)
	return pending[:0]
}

// spill appends rows to the spill file.
func (w *Writer) spill(rows []SpendLog) error {
	if w.spillPath == "" {
		return errors.New("store: no spill file")
	}
	if err := appendSpill(w.spillPath, rows); err != nil {
		return fmt.Errorf("store: spilling %d spend logs to %s: %w", len(rows), w.spillPath, err)
	}
	w.spilled = true
	w.onError(fmt.Errorf("store: %d spend logs ($%.6f) spilled to %s, written back when the database accepts writes", len(rows), sumSpend(rows), w.spillPath))
	return nil
}

// replaySpill writes the spill file's rows into the database, then removes the file.
func (w *Writer) replaySpill(ctx context.Context) error {
	if !w.spilled {
		return nil
	}
	rows, bad, err := readSpill(w.spillPath)
	if err != nil {
		return err
	}
	for i := range rows {
		w.repair(&rows[i])
	}
	if _, err := w.write(ctx, rows); err != nil {
		return err
	}
	if err := os.Remove(w.spillPath); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	w.spilled = false
	if bad > 0 {
		w.onError(fmt.Errorf("store: %d torn lines in %s skipped", bad, w.spillPath))
	}
	return nil
}

func sumSpend(rows []SpendLog) float64 {
	var t float64
	for _, r := range rows {
		t += r.Spend
	}
	return t
}

// drain moves every row already queued into pending, without waiting for more.
func (w *Writer) drain(pending []SpendLog) []SpendLog {
	for {
		select {
		case l := <-w.ch:
			w.repair(&l)
			pending = append(pending, l)
		default:
			return pending
		}
	}
}

// write commits pending in transactions of at most maxBatch rows and returns the rows left (none
// on success; on failure, the batch that failed and everything after it).
func (w *Writer) write(ctx context.Context, pending []SpendLog) ([]SpendLog, error) {
	done := 0
	for done < len(pending) {
		end := min(done+w.maxBatch, len(pending))
		if err := w.insert(ctx, pending[done:end]); err != nil {
			rest := append(pending[:0], pending[done:]...)
			clear(pending[len(rest):])
			return rest, err
		}
		done = end
	}
	clear(pending)
	return pending[:0], nil
}

// repair makes l writable, so that one bad row can never hold back a batch forever: InsertSpendLogs
// rejects rows with no request_id, no start time, a spend that is not a number, or metadata that
// does not encode. Each repair is reported.
func (w *Writer) repair(l *SpendLog) {
	var fixed []string
	if l.RequestID == "" {
		var b [12]byte
		rand.Read(b[:])
		l.RequestID = "clawgate-" + hex.EncodeToString(b[:])
		fixed = append(fixed, "no request_id")
	}
	if l.StartTime.IsZero() {
		l.StartTime = l.EndTime
		if l.StartTime.IsZero() {
			l.StartTime = time.Now()
		}
		fixed = append(fixed, "no start time")
	}
	if l.EndTime.IsZero() {
		l.EndTime = l.StartTime
	}
	if math.IsNaN(l.Spend) || math.IsInf(l.Spend, 0) {
		fixed = append(fixed, fmt.Sprintf("spend %v stored as 0, unpriced", l.Spend))
		l.Spend, l.Unpriced = 0, true
	}
	if l.Metadata != nil {
		if _, err := json.Marshal(l.Metadata); err != nil {
			l.Metadata = map[string]any{"clawgate_error": "metadata dropped: " + err.Error()}
			fixed = append(fixed, "metadata dropped")
		}
	}
	if len(fixed) > 0 {
		w.onError(fmt.Errorf("%w: %s: repaired: %v", ErrInvalidLog, l.RequestID, fixed))
	}
}
