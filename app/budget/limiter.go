package budget

import (
	"errors"
	"fmt"
	"sync"
	"time"
)

// Limiter enforces a key's rpm_limit, tpm_limit and max_parallel_requests over sliding 60-second
// windows. Safe for concurrent use.
//
// Requests count when admitted. Tokens count twice over a call's life: its estimate from
// admission until it ends, then its actual tokens from the moment it ends (LiteLLM counts tokens
// after the response; the estimate keeps a burst of parallel calls from all passing at once).
// TPM is best effort, as in LiteLLM: a call is refused only when the tokens in the window (the
// estimates of calls in flight included) have reached the limit, never because its own estimate
// is larger than what is left, the rule budgets follow too.
type Limiter struct {
	mu     sync.Mutex
	now    func() time.Time
	keys   map[string]*rateWindow
	admits int
}

// Window is the length of the sliding windows.
const Window = time.Minute

type rateWindow struct {
	reqs     []time.Time
	toks     []*tokenEvent
	inflight int64
}

type tokenEvent struct {
	at time.Time
	n  int64
}

// Rate limit names, as LiteLLM's key fields.
const (
	LimitRPM      = "rpm_limit"
	LimitTPM      = "tpm_limit"
	LimitParallel = "max_parallel_requests"
)

// ErrRateLimited is wrapped by every *RateLimitError.
var ErrRateLimited = errors.New("rate limit exceeded")

// RateLimitError says which limit refused a call and when to retry.
type RateLimitError struct {
	ID         string
	Limit      string // LimitRPM, LimitTPM or LimitParallel
	Max        int64
	Current    int64
	RetryAfter time.Duration
}

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("%s: %s %d, current %d; retry after %s", ErrRateLimited, e.Limit, e.Max, e.Current, e.RetryAfter)
}

func (e *RateLimitError) Unwrap() error { return ErrRateLimited }

// NewLimiter returns a Limiter reading time from now (nil = time.Now).
func NewLimiter(now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	return &Limiter{now: now, keys: map[string]*rateWindow{}}
}

// Acquire admits a call for id under the given limits (nil = no limit; 0 refuses every call, as
// in LiteLLM) with estTokens as its token estimate. On success it returns release, which must be
// called once when the call ends with the tokens it really used (prompt + completion); later
// calls do nothing. On refusal err is a *RateLimitError and retryAfter says when a retry could
// pass (for max_parallel_requests, which frees on no schedule, one second).
func (l *Limiter) Acquire(id string, rpm, tpm, parallel *int64, estTokens int64) (release func(actualTokens int64), retryAfter time.Duration, err error) {
	if rpm == nil && tpm == nil && parallel == nil {
		return func(int64) {}, 0, nil
	}
	if estTokens < 0 {
		estTokens = 0
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	w := l.keys[id]
	if w == nil {
		w = &rateWindow{}
		l.keys[id] = w
	}
	w.prune(now)

	if parallel != nil && w.inflight >= *parallel {
		e := &RateLimitError{ID: id, Limit: LimitParallel, Max: *parallel, Current: w.inflight, RetryAfter: time.Second}
		return nil, e.RetryAfter, e
	}
	if rpm != nil && int64(len(w.reqs)) >= *rpm {
		retry := Window
		if n := int64(len(w.reqs)) - *rpm; n >= 0 && n < int64(len(w.reqs)) {
			// The call can pass once enough of the oldest requests have left the window.
			retry = w.reqs[n].Add(Window).Sub(now)
		}
		e := &RateLimitError{ID: id, Limit: LimitRPM, Max: *rpm, Current: int64(len(w.reqs)), RetryAfter: positive(retry)}
		return nil, e.RetryAfter, e
	}
	if tpm != nil {
		used := w.tokens()
		if used >= *tpm {
			e := &RateLimitError{ID: id, Limit: LimitTPM, Max: *tpm, Current: used, RetryAfter: positive(w.tokenRetry(now, *tpm))}
			return nil, e.RetryAfter, e
		}
	}

	w.inflight++
	w.reqs = append(w.reqs, now)
	est := &tokenEvent{at: now, n: estTokens}
	w.toks = append(w.toks, est)
	l.admits++
	var once sync.Once
	return func(actual int64) {
		once.Do(func() {
			end := l.now()
			l.mu.Lock()
			defer l.mu.Unlock()
			w.inflight--
			est.n = 0
			if actual > 0 {
				// w is still the key's window: sweep never drops a window with calls in flight.
				w.toks = append(w.toks, &tokenEvent{at: end, n: actual})
			}
		})
	}, 0, nil
}

// Usage reports a key's current counts: requests and tokens in the window, calls in flight.
func (l *Limiter) Usage(id string) (requests, tokens, inflight int64) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.keys[id]
	if w == nil {
		return 0, 0, 0
	}
	w.prune(now)
	return int64(len(w.reqs)), w.tokens(), w.inflight
}

func (w *rateWindow) prune(now time.Time) {
	cut := now.Add(-Window)
	i := 0
	for i < len(w.reqs) && !w.reqs[i].After(cut) {
		i++
	}
	w.reqs = w.reqs[i:]
	j := 0
	for j < len(w.toks) && (!w.toks[j].at.After(cut) || w.toks[j].n == 0) {
		j++
	}
	// Keep the in-window events only; zeroed estimates in the middle stay until they age out.
	w.toks = w.toks[j:]
}

func (w *rateWindow) tokens() int64 {
	var n int64
	for _, t := range w.toks {
		n += t.n
	}
	return n
}

// tokenRetry is how long until enough tokens leave the window for a call to pass.
func (w *rateWindow) tokenRetry(now time.Time, tpm int64) time.Duration {
	left := w.tokens()
	for _, t := range w.toks {
		left -= t.n
		if left < tpm {
			return t.at.Add(Window).Sub(now)
		}
	}
	return Window
}

// sweep drops idle keys now and then so that memory follows the keys in use, not every key ever
// seen. It must be called with l.mu held.
func (l *Limiter) sweep(now time.Time) {
	if l.admits < 1024 {
		return
	}
	l.admits = 0
	for id, w := range l.keys {
		w.prune(now)
		if w.inflight == 0 && len(w.reqs) == 0 && len(w.toks) == 0 {
			delete(l.keys, id)
		}
	}
}

func positive(d time.Duration) time.Duration {
	if d < time.Millisecond {
		return time.Millisecond
	}
	return d
}
