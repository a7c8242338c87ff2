package ui

import (
	"sync"
	"testing"
	"time"

	"github.com/clawgate/clawgate/app"
)

func TestCoalesceBurst(t *testing.T) {
	in := make(chan app.Event)
	applied := make(chan app.Status, 100)
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		coalesce(in, nil, time.Hour, func(s app.Status) { applied <- s }, nil)
	}()

	// The first event of a quiet spell goes through at once...
	in <- app.Event{Status: app.Status{Requests: 1}}
	if s := next(t, applied); s.Requests != 1 {
		t.Fatalf("first apply carried %d, want 1", s.Requests)
	}
	// ...the rest of the burst waits for the interval (an hour here), so nothing more is applied
	// until the channel closes, and then only the newest status.
	for i := int64(2); i <= 50; i++ {
		in <- app.Event{Status: app.Status{Requests: i}}
	}
	close(in)
	<-finished
	close(applied)
	var got []int64
	for s := range applied {
		got = append(got, s.Requests)
	}
	if len(got) != 1 || got[0] != 50 {
		t.Fatalf("after the burst applied %v, want [50]", got)
	}
}

// handClock is a clock the test moves: Now stands still until Set, and each wait coalesce starts
// is reported on waits and ends only when the test sends on fire.
type handClock struct {
	mu    sync.Mutex
	now   time.Time
	waits chan time.Duration
	fire  chan time.Time
}

func newHandClock() *handClock {
	return &handClock{now: time.Date(2026, 5, 10, 12, 0, 0, 0, time.UTC), waits: make(chan time.Duration, 8), fire: make(chan time.Time)}
}

func (c *handClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *handClock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func (c *handClock) Timer(d time.Duration) (<-chan time.Time, func()) {
	c.waits <- d
	return c.fire, func() {}
}

// next receives from c, or fails the test if nothing comes (a bound for a stuck loop only).
func next[T any](t *testing.T, c <-chan T) T {
	t.Helper()
	select {
	case v := <-c:
		return v
	case <-time.After(10 * time.Second):
		t.Fatal("nothing arrived")
		var zero T
		return zero
	}
}

func TestCoalesceTrailingCall(t *testing.T) {
	const interval = 20 * time.Millisecond
	clk := newHandClock()
	in := make(chan app.Event)
	applied := make(chan app.Status, 100)
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		coalesceOn(clk, in, nil, interval, func(s app.Status) { applied <- s }, nil)
	}()

	in <- app.Event{Status: app.Status{Requests: 1}}
	if first := next(t, applied); first.Requests != 1 {
		t.Fatalf("first apply carried %d, want 1", first.Requests)
	}
	// 5 ms later the burst goes on: the trailing call waits out the rest of the interval, and
	// every event sent meanwhile (however slowly) folds into it.
	clk.Add(5 * time.Millisecond)
	for i := int64(2); i <= 20; i++ {
		in <- app.Event{Status: app.Status{Requests: i}}
	}
	if d := next(t, clk.waits); d != interval-5*time.Millisecond {
		t.Fatalf("trailing call waits %v, want the rest of the interval, %v", d, interval-5*time.Millisecond)
	}
	if n := len(applied); n != 0 {
		t.Fatalf("%d applies before the interval ended", n)
	}
	clk.Add(interval - 5*time.Millisecond)
	clk.fire <- clk.Now() // the send returns once coalesce has seen all 20 events
	if s := next(t, applied); s.Requests != 20 {
		t.Fatalf("trailing apply carried %d, want 20", s.Requests)
	}
	// A whole interval later, the next event is the first of a quiet spell: applied at once.
	clk.Add(interval)
	in <- app.Event{Status: app.Status{Requests: 21}}
	if s := next(t, applied); s.Requests != 21 {
		t.Fatalf("after a quiet interval applied %d, want 21 at once", s.Requests)
	}
	close(in)
	<-finished
	if n := len(applied); n != 0 || len(clk.waits) != 0 {
		t.Fatalf("%d extra applies, %d extra waits", n, len(clk.waits))
	}
}

func TestCoalesceStops(t *testing.T) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		// A nil channel never delivers: only done can end the loop (the stub service returns nil).
		coalesce(nil, done, time.Millisecond, func(app.Status) { t.Error("applied without events") }, nil)
	}()
	close(done)
	select {
	case <-finished:
	case <-time.After(5 * time.Second):
		t.Fatal("coalesce did not stop")
	}
}

func TestAlertsPassUnthrottled(t *testing.T) {
	in := make(chan app.Event, 4)
	var got []string
	in <- app.Event{Kind: app.EventStatus}
	in <- app.Event{Kind: app.EventAlert, Alert: &app.Alert{Title: "Budget openclaw at 80%"}}
	in <- app.Event{Kind: app.EventAlert, Alert: &app.Alert{Title: "Budget openclaw at 100%"}}
	close(in)
	coalesce(in, nil, time.Hour, func(app.Status) {}, func(a app.Alert) { got = append(got, a.Title) })
	if len(got) != 2 || got[0] != "Budget openclaw at 80%" || got[1] != "Budget openclaw at 100%" {
		t.Errorf("alerts = %q", got)
	}
}
