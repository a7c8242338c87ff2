package budget

import (
	"errors"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
	"time"
)

// clock is a settable clock for tests.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(t time.Time) *clock { return &clock{t: t} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestLedgerReserveSettle(t *testing.T) {
	l := NewLedger(LedgerOptions{})
	l.SetBudget("key", f(1), 0.2, nil, nil)

	r, err := l.Reserve([]string{"key"}, 0.5)
	if err != nil {
		t.Fatal(err)
	}
	if s, res, _ := l.Spend("key"); !near(s, 0.2) || !near(res, 0.5) {
		t.Fatalf("after reserve: spend %v reserved %v", s, res)
	}
	// 0.2 + 0.5 < 1: a call whose estimate is larger than what is left is still admitted, and
	// holds its whole estimate.
	r2, err := l.Reserve([]string{"key"}, 0.4)
	if err != nil {
		t.Fatalf("refused below the limit: %v", err)
	}
	if _, res, _ := l.Spend("key"); !near(res, 0.9) {
		t.Fatalf("reserved %v, want 0.9", res)
	}
	// Now spend + reserved (1.1) has reached the limit: refused, with the numbers.
	_, err = l.Reserve([]string{"key"}, 0)
	var ex *ExceededError
	if !errors.As(err, &ex) {
		t.Fatalf("want *ExceededError, got %v", err)
	}
	if ex.ID != "key" || ex.Limit != 1 || !near(ex.Spend, 0.2) || !near(ex.Reserved, 0.9) || ex.Amount != 0 || ex.ResetAt != nil {
		t.Fatalf("ExceededError = %+v", ex)
	}
	r2.Release()
	r.Settle(0.1)
	r.Settle(5) // a second settle does nothing
	r.Release()
	if s, res, _ := l.Spend("key"); !near(s, 0.3) || res != 0 {
		t.Fatalf("after settle: spend %v reserved %v, want 0.3 0", s, res)
	}
	// Reserving exactly the remainder fills the window: the next call is refused until it settles.
	r4, err := l.Reserve([]string{"key"}, 0.7)
	if err != nil {
		t.Fatalf("reserving the exact remainder: %v", err)
	}
	if _, err := l.Reserve([]string{"key"}, 0.01); err == nil {
		t.Fatal("admitted with spend + reserved at the limit")
	}
	r4.Release()
	if s, res, _ := l.Spend("key"); !near(s, 0.3) || res != 0 {
		t.Fatalf("after release: spend %v reserved %v", s, res)
	}
}

// Adjust follows the deployment actually called: a cut is given back, a raise takes only the
// room left, and nothing changes after the call ended.
func TestLedgerAdjust(t *testing.T) {
	l := NewLedger(LedgerOptions{})
	l.SetBudget("key", f(1), 0.2, nil, nil)
	l.SetBudget("global", nil, 0, nil, nil)
	r, _ := l.Reserve([]string{"key", "global"}, 0.3)
	r.Adjust(0.1)
	if _, res, _ := l.Spend("key"); !near(res, 0.1) || !near(r.Amount(), 0.1) {
		t.Fatalf("after a cut: reserved %v, amount %v", res, r.Amount())
	}
	other, _ := l.Reserve([]string{"key"}, 0.5)
	r.Adjust(2) // room left: 1 - 0.2 - 0.6 = 0.2
	if _, res, _ := l.Spend("key"); !near(res, 0.8) || !near(r.Amount(), 0.3) {
		t.Fatalf("after a raise: key reserved %v, amount %v; want 0.8, 0.3", res, r.Amount())
	}
	if _, res, _ := l.Spend("global"); !near(res, 0.3) {
		t.Fatalf("global reserved %v, want 0.3", res)
	}
	r.Adjust(5) // no room left: unchanged
	if !near(r.Amount(), 0.3) {
		t.Fatalf("amount %v after a raise with no room", r.Amount())
	}
	r.Settle(0.4)
	r.Adjust(0.9)
	other.Release()
	if s, res, _ := l.Spend("key"); !near(s, 0.6) || res != 0 {
		t.Fatalf("end: spend %v reserved %v", s, res)
	}
}

func TestLedgerAllOrNothing(t *testing.T) {
	l := NewLedger(LedgerOptions{})
	l.SetBudget("key", f(10), 0, nil, nil)
	l.SetBudget("global", f(1), 0.9, nil, nil)
	g, err := l.Reserve([]string{"global"}, 0.1) // fills the global window
	if err != nil {
		t.Fatal(err)
	}
	defer g.Release()
	_, err = l.Reserve([]string{"key", "global"}, 0.5)
	var ex *ExceededError
	if !errors.As(err, &ex) || ex.ID != "global" {
		t.Fatalf("want global exceeded, got %v", err)
	}
	if _, res, _ := l.Spend("key"); res != 0 {
		t.Fatalf("key holds %v after a refused reservation", res)
	}
	// Duplicated ids hold once; unknown ids are skipped.
	r, err := l.Reserve([]string{"key", "key", "nobody"}, 2)
	if err != nil {
		t.Fatal(err)
	}
	if _, res, _ := l.Spend("key"); res != 2 {
		t.Fatalf("reserved %v, want 2", res)
	}
	r.Settle(1)
	if s, _, _ := l.Spend("key"); s != 1 {
		t.Fatalf("spend %v, want 1", s)
	}
}

func TestLedgerAlreadySpentAndZeroBudgets(t *testing.T) {
	l := NewLedger(LedgerOptions{})
	l.SetBudget("spent", f(1), 1, nil, nil)
	l.SetBudget("zero", f(0), 0, nil, nil)
	l.SetBudget("track", nil, 100, nil, nil)
	// LiteLLM's pre-call check: spend >= max_budget refuses even a free call.
	for _, id := range []string{"spent", "zero"} {
		if _, err := l.Reserve([]string{id}, 0); err == nil {
			t.Errorf("%s: free call admitted", id)
		}
	}
	r, err := l.Reserve([]string{"track"}, 1e6)
	if err != nil {
		t.Fatalf("uncapped budget refused: %v", err)
	}
	r.Settle(3)
	if s, _, _ := l.Spend("track"); s != 103 {
		t.Fatalf("tracked spend %v", s)
	}
	// Junk amounts add nothing and reserve nothing.
	r, _ = l.Reserve([]string{"track"}, math.NaN())
	r.Settle(-5)
	l.Record([]string{"track"}, math.Inf(1))
	if s, res, _ := l.Spend("track"); s != 103 || res != 0 {
		t.Fatalf("spend %v reserved %v after junk", s, res)
	}
}

func TestLedgerResetsExactlyAtResetTime(t *testing.T) {
	c := newClock(time.Date(2026, 11, 23, 11, 0, 0, 0, time.UTC))
	var resets []ResetEvent
	var mu sync.Mutex
	l := NewLedger(LedgerOptions{Now: c.Now, OnReset: func(e ResetEvent) { mu.Lock(); resets = append(resets, e); mu.Unlock() }})
	d := Duration{1, Day}
	resetAt := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	l.SetBudget("key", f(1), 1, &resetAt, &d)

	c.Set(resetAt.Add(-time.Nanosecond))
	if _, err := l.Reserve([]string{"key"}, 0.1); err == nil {
		t.Fatal("admitted before the reset")
	}
	if len(resets) != 0 {
		t.Fatalf("reset early: %+v", resets)
	}
	c.Set(resetAt)
	r, err := l.Reserve([]string{"key"}, 0.1)
	if err != nil {
		t.Fatalf("refused at the reset time: %v", err)
	}
	r.Settle(0.05)
	spend, _, next := l.Spend("key")
	if spend != 0.05 || next == nil || !next.Equal(resetAt.AddDate(0, 0, 1)) {
		t.Fatalf("after reset: spend %v, reset %v", spend, next)
	}
	if len(resets) != 1 || resets[0].EndedSpend != 1 || !resets[0].ResetAt.Equal(*next) || !resets[0].WindowStart.Equal(resetAt) {
		t.Fatalf("OnReset = %+v", resets)
	}
}

func TestLedgerSkipsMissedWindows(t *testing.T) {
	c := newClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	l := NewLedger(LedgerOptions{Now: c.Now})
	d := Duration{1, Hour}
	l.SetBudget("h", f(1), 0, nil, &d)
	l.Record([]string{"h"}, 0.5)
	// The app was off for 100 days.
	c.Set(time.Date(2026, 4, 11, 13, 20, 0, 0, time.UTC))
	spend, _, r := l.Spend("h")
	if spend != 0 || r == nil || !r.Equal(time.Date(2026, 4, 11, 14, 0, 0, 0, time.UTC)) {
		t.Fatalf("spend %v reset %v", spend, r)
	}
}

func TestLedgerResetInTimeZone(t *testing.T) {
	loc := mustLoc(t, "America/New_York")
	c := newClock(time.Date(2026, 3, 7, 18, 0, 0, 0, loc))
	l := NewLedger(LedgerOptions{Now: c.Now, Location: loc})
	d := Duration{1, Day}
	l.SetBudget("k", f(1), 0, nil, &d)
	_, _, r := l.Spend("k")
	if want := time.Date(2026, 3, 8, 0, 0, 0, 0, loc); r == nil || !r.Equal(want) {
		t.Fatalf("reset %v, want %v", r, want)
	}
	c.Set(time.Date(2026, 3, 8, 12, 0, 0, 0, loc))
	_, _, r = l.Spend("k")
	if want := time.Date(2026, 3, 9, 0, 0, 0, 0, loc); !r.Equal(want) || r.Sub(time.Date(2026, 3, 8, 0, 0, 0, 0, loc)) != 23*time.Hour {
		t.Fatalf("reset %v, want %v, 23 hours after the last", r, want)
	}
}

func TestLedgerDurationChangeStartsNewWindow(t *testing.T) {
	now := time.Date(2026, 11, 23, 11, 0, 0, 0, time.UTC)
	c := newClock(now)
	var resets []ResetEvent
	l := NewLedger(LedgerOptions{Now: c.Now, OnReset: func(e ResetEvent) { resets = append(resets, e) }})

	// A key with lifetime spend 100 gets max_budget 50 and budget_duration 30d (LiteLLM#34492).
	l.SetBudget("k", nil, 100, nil, nil)
	d := Duration{30, Day}
	l.SetBudget("k", f(50), 100, nil, &d)
	spend, _, r := l.Spend("k")
	if spend != 0 || r == nil || !r.Equal(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("after arming: spend %v reset %v", spend, r)
	}
	if len(resets) != 1 || resets[0].EndedSpend != 100 || !resets[0].WindowStart.Equal(now) {
		t.Fatalf("OnReset = %+v", resets)
	}
	if _, err := l.Reserve([]string{"k"}, 1); err != nil {
		t.Fatalf("fresh window refused: %v", err)
	}
	// Re-sending the same duration is not a restart: the given spend and reset stand.
	l.SetBudget("k", f(50), 7, r, &d)
	if spend, res, _ := l.Spend("k"); spend != 7 || res != 1 || len(resets) != 1 {
		t.Fatalf("re-send: spend %v reserved %v resets %d", spend, res, len(resets))
	}
	// Changing 30d to 1w restarts again.
	w := Duration{1, Week}
	l.SetBudget("k", f(50), 7, r, &w)
	spend, _, r = l.Spend("k")
	if spend != 0 || !r.Equal(time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)) || len(resets) != 2 {
		t.Fatalf("after change: spend %v reset %v resets %d", spend, r, len(resets))
	}
	// SetLimit keeps spend and window.
	l.Record([]string{"k"}, 3)
	if !l.SetLimit("k", f(2)) || l.SetLimit("nobody", f(1)) {
		t.Fatal("SetLimit result")
	}
	if spend, _, r2 := l.Spend("k"); spend != 3 || !r2.Equal(*r) {
		t.Fatalf("SetLimit changed spend %v or reset %v", spend, r2)
	}
	if _, err := l.Reserve([]string{"k"}, 0); err == nil {
		t.Fatal("lowered limit not enforced")
	}
}

func TestLedgerOnSpend(t *testing.T) {
	var events []SpendEvent
	l := NewLedger(LedgerOptions{OnSpend: func(e SpendEvent) { events = append(events, e) }})
	l.SetBudget("k", f(10), 4, nil, nil)
	r, _ := l.Reserve([]string{"k"}, 2)
	r.Settle(1.5)
	r2, _ := l.Reserve([]string{"k"}, 2)
	r2.Release() // nothing spent, no event
	l.Record([]string{"k"}, 0.5)
	if len(events) != 2 || events[0].Prev != 4 || events[0].Spend != 5.5 || events[1].Prev != 5.5 || events[1].Spend != 6 || *events[0].Limit != 10 {
		t.Fatalf("events = %+v", events)
	}
	a := NewAlerter()
	var crossed []Crossing
	for _, e := range events {
		crossed = append(crossed, a.Observe(e.ID, time.Time{}, e.Prev, e.Spend, Thresholds{Limit: *e.Limit})...)
	}
	if len(crossed) != 1 || crossed[0].Level != 0.5 {
		t.Fatalf("crossed = %+v", crossed)
	}
}

// TestLedgerConcurrentOvershootBound: 200 goroutines race for a budget. Calls reserve an
// estimate and settle at up to twice it, or release. The invariant that holds at every moment:
// spend + reserved < limit + the largest single reservation + what settled calls cost beyond
// their reservations; a refusal only ever happens with spend + reserved at the limit; and at the
// end spend is the sum of what was settled, nothing stays reserved.
func TestLedgerConcurrentOvershootBound(t *testing.T) {
	const limit, maxReserve = 1.0, 0.1
	l := NewLedger(LedgerOptions{})
	l.SetBudget("key", f(limit), 0, nil, nil)
	l.SetBudget("global", f(100), 0, nil, nil)

	var (
		mu       sync.Mutex
		settled  float64
		excess   float64 // sum of actual - reserved over settled calls, added before Settle
		admitted int
		wg       sync.WaitGroup
	)
	start := make(chan struct{})
	done := make(chan struct{})
	for i := range 200 {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			amount := maxReserve * (0.2 + 0.8*rand.Float64())
			r, err := l.Reserve([]string{"key", "global"}, amount)
			if err != nil {
				var ex *ExceededError
				if !errors.As(err, &ex) || ex.ID != "key" {
					t.Errorf("unexpected error %v", err)
				} else if ex.Spend+ex.Reserved < ex.Limit {
					t.Errorf("refused below the limit: spend %v + reserved %v < %v", ex.Spend, ex.Reserved, ex.Limit)
				}
				return
			}
			actual := 0.0
			if i%7 != 0 {
				actual = 2 * amount * rand.Float64()
			}
			mu.Lock()
			settled += actual
			excess += max(0, actual-amount)
			admitted++
			mu.Unlock()
			if actual == 0 {
				r.Release()
			} else {
				r.Settle(actual)
			}
		}(i)
	}
	// Sample while calls run: read the ledger first, then the excess (which grows before the
	// settle it accounts for), so a sample never sees a settle without its excess.
	stop := make(chan struct{})
	go func() {
		defer close(done)
		for {
			s, res, _ := l.Spend("key")
			mu.Lock()
			x := excess
			mu.Unlock()
			if s+res >= limit+maxReserve+x+1e-9 {
				t.Errorf("spend %v + reserved %v >= limit + one reservation + excess %v", s, res, x)
			}
			select {
			case <-stop:
				return
			default:
				runtime.Gosched()
			}
		}
	}()
	close(start)
	wg.Wait()
	close(stop)
	<-done
	spend, reserved, _ := l.Spend("key")
	if reserved != 0 {
		t.Fatalf("reserved %v after every call ended", reserved)
	}
	if !near(spend, settled) {
		t.Fatalf("spend %v, want the sum of settled costs %v", spend, settled)
	}
	if g, _, _ := l.Spend("global"); !near(g, settled) {
		t.Fatalf("global spend %v, want %v", g, settled)
	}
	if spend >= limit+maxReserve+excess {
		t.Fatalf("spend %v exceeds limit %v + one reservation + excess %v", spend, limit, excess)
	}
	if admitted < 10 {
		t.Fatalf("only %d calls admitted; at least 10 fit", admitted)
	}
}

func TestLedgerConcurrentResets(t *testing.T) {
	c := newClock(time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC))
	var resets sync.Map
	l := NewLedger(LedgerOptions{Now: c.Now, OnReset: func(e ResetEvent) {
		if _, dup := resets.LoadOrStore(e.ResetAt.Unix(), true); dup {
			t.Errorf("window ending %v reset twice", e.ResetAt)
		}
	}})
	d := Duration{1, Second}
	l.SetBudget("k", f(1000), 0, nil, &d)
	var wg sync.WaitGroup
	for i := 0; i < 200; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for j := 0; j < 20; j++ {
				if i == 0 {
					c.Add(500 * time.Millisecond)
				}
				if r, err := l.Reserve([]string{"k"}, 1); err == nil {
					r.Settle(1)
				}
			}
		}(i)
	}
	wg.Wait()
	if _, res, _ := l.Spend("k"); res != 0 {
		t.Fatalf("reserved %v left", res)
	}
}
