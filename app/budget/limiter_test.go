package budget

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func i64(v int64) *int64 { return &v }

func TestLimiterRPM(t *testing.T) {
	c := newClock(time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC))
	l := NewLimiter(c.Now)
	for i := 0; i < 3; i++ {
		release, _, err := l.Acquire("k", i64(3), nil, nil, 0)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		release(0)
		c.Add(10 * time.Second)
	}
	// At 12:00:30 the window holds requests from :00, :10, :20; the :00 one leaves at 12:01:00.
	_, retry, err := l.Acquire("k", i64(3), nil, nil, 0)
	var rl *RateLimitError
	if !errors.As(err, &rl) || !errors.Is(err, ErrRateLimited) {
		t.Fatalf("want *RateLimitError, got %v", err)
	}
	if rl.Limit != LimitRPM || rl.Max != 3 || rl.Current != 3 || retry != 30*time.Second || rl.RetryAfter != retry {
		t.Fatalf("error %+v retry %v", rl, retry)
	}
	// Other keys are independent.
	if _, _, err := l.Acquire("other", i64(3), nil, nil, 0); err != nil {
		t.Fatal(err)
	}
	c.Add(retry)
	if _, _, err := l.Acquire("k", i64(3), nil, nil, 0); err != nil {
		t.Fatalf("after retry-after: %v", err)
	}
	// A refused request does not count.
	if n, _, _ := l.Usage("k"); n != 3 {
		t.Fatalf("window holds %d requests, want 3", n)
	}
	if _, retry, err := l.Acquire("k", i64(0), nil, nil, 0); err == nil || retry != Window {
		t.Fatalf("rpm 0: err %v retry %v", err, retry)
	}
}

func TestLimiterTPM(t *testing.T) {
	c := newClock(time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC))
	l := NewLimiter(c.Now)
	tpm := i64(1000)

	r1, _, err := l.Acquire("k", nil, tpm, nil, 600)
	if err != nil {
		t.Fatal(err)
	}
	// 600 estimated in flight < 1000: a call is not refused for its own estimate.
	r0, _, err := l.Acquire("k", nil, tpm, nil, 500)
	if err != nil {
		t.Fatalf("refused below the limit: %v", err)
	}
	// 1100 estimated in flight: the window is full.
	if _, _, err := l.Acquire("k", nil, tpm, nil, 1); err == nil {
		t.Fatal("admitted with the window full of estimates")
	}
	r0(0) // failed before any tokens
	c.Add(5 * time.Second)
	r1(200) // the call used less than estimated: 200 now count from 12:00:05
	if _, tok, _ := l.Usage("k"); tok != 200 {
		t.Fatalf("tokens %d, want 200", tok)
	}
	r1(10000) // second release does nothing
	r2, _, err := l.Acquire("k", nil, tpm, nil, 800)
	if err != nil {
		t.Fatalf("800 on top of 200: %v", err)
	}
	r2(800)
	// Full: 1000 used. The 200 leave at 12:01:05, then a call passes.
	_, retry, err := l.Acquire("k", nil, tpm, nil, 150)
	var rl *RateLimitError
	if !errors.As(err, &rl) || rl.Limit != LimitTPM || rl.Current != 1000 || retry != time.Minute {
		t.Fatalf("err %v retry %v", err, retry)
	}
	c.Add(retry)
	if _, _, err := l.Acquire("k", nil, tpm, nil, 150); err != nil {
		t.Fatalf("after retry: %v", err)
	}
	// One call bigger than the whole limit passes an empty window instead of never passing.
	if release, _, err := l.Acquire("big", nil, tpm, nil, 5000); err != nil {
		t.Fatalf("oversized call on empty window: %v", err)
	} else {
		release(5000)
	}
	if _, _, err := l.Acquire("big", nil, tpm, nil, 1); err == nil {
		t.Fatal("admitted while 5000 tokens are in the window")
	}
}

func TestLimiterParallel(t *testing.T) {
	l := NewLimiter(nil)
	p := i64(2)
	r1, _, err1 := l.Acquire("k", nil, nil, p, 0)
	r2, _, err2 := l.Acquire("k", nil, nil, p, 0)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	_, retry, err := l.Acquire("k", nil, nil, p, 0)
	var rl *RateLimitError
	if !errors.As(err, &rl) || rl.Limit != LimitParallel || rl.Current != 2 || retry != time.Second {
		t.Fatalf("err %v retry %v", err, retry)
	}
	r1(0)
	r1(0) // double release must not free a second slot
	if _, _, err := l.Acquire("k", nil, nil, p, 0); err != nil {
		t.Fatalf("after release: %v", err)
	}
	if _, _, err := l.Acquire("k", nil, nil, p, 0); err == nil {
		t.Fatal("double release freed two slots")
	}
	r2(0)
}

func TestLimiterNoLimitsKeepsNoState(t *testing.T) {
	l := NewLimiter(nil)
	release, _, err := l.Acquire("k", nil, nil, nil, 100)
	if err != nil {
		t.Fatal(err)
	}
	release(100)
	if len(l.keys) != 0 {
		t.Fatal("state kept for a key without limits")
	}
}

func TestLimiterSweepsIdleKeys(t *testing.T) {
	c := newClock(time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC))
	l := NewLimiter(c.Now)
	for i := 0; i < 5000; i++ {
		release, _, err := l.Acquire(string(rune('a'+i%26))+time.Duration(i).String(), i64(5), nil, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		release(0)
		c.Add(100 * time.Millisecond)
	}
	// Every 1024 admissions, keys idle for a minute are dropped: what remains is at most one
	// window's keys (600) plus those seen since the last sweep, not all 5000.
	if n := len(l.keys); n > 600+1024 {
		t.Fatalf("%d keys remembered", n)
	}
}

func TestLimiterConcurrent(t *testing.T) {
	c := newClock(time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC))
	l := NewLimiter(c.Now)
	var admitted, inflight, peak atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < 200; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			release, _, err := l.Acquire("k", i64(50), nil, i64(10), 0)
			if err != nil {
				return
			}
			admitted.Add(1)
			n := inflight.Add(1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
			inflight.Add(-1)
			release(0)
		}()
	}
	close(start)
	wg.Wait()
	if peak.Load() > 10 {
		t.Fatalf("%d calls in flight at once, limit 10", peak.Load())
	}
	if admitted.Load() > 50 {
		t.Fatalf("%d calls admitted in one minute, rpm 50", admitted.Load())
	}
	if req, _, in := l.Usage("k"); req != admitted.Load() || in != 0 {
		t.Fatalf("usage %d/%d, admitted %d", req, in, admitted.Load())
	}
}
