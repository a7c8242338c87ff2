package route

import (
	"sync"
	"sync/atomic"
	"time"
)

const (
	// failWindow is how far back failures count toward allowed_fails (LiteLLM counts per minute).
	failWindow = 60 * time.Second
	// maxHintCooldown bounds how long an upstream's retry-after can bench a deployment, so a
	// bogus header cannot take it out for a day.
	maxHintCooldown = 5 * time.Minute
)

// health is one deployment's failure record and cooldown. The hot path only loads atomics;
// the mutex is taken when a failure is recorded or a failure record is cleared.
type health struct {
	// until is the end of the current cooldown in Unix nanoseconds (0 = never cooled down).
	until atomic.Int64
	// nfail mirrors len(fails) so a success can skip the lock when there is nothing to clear.
	nfail atomic.Int32

	mu sync.Mutex
	// fails holds the times of recent failures, oldest first; only the newest allowed+1 matter.
	fails []int64
}

// cooling reports whether the deployment is cooling down at now.
func (h *health) cooling(now time.Time) bool {
	u := h.until.Load()
	return u != 0 && u > now.UnixNano()
}

// succeeded clears the failure record: a deployment that answers is healthy again.
func (h *health) succeeded() {
	if h.nfail.Load() == 0 {
		return
	}
	h.mu.Lock()
	h.fails = h.fails[:0]
	h.nfail.Store(0)
	h.mu.Unlock()
}

// failed records a failure at now and starts a cooldown when the failures inside the window exceed
// s.AllowedFails, or at once when immediate is set (a 429 in a group with other deployments). hint
// is the upstream's retry-after, which lengthens the cooldown. It reports whether a cooldown began.
// A CooldownTime of zero or less disables cooldowns.
func (h *health) failed(now time.Time, s *Settings, immediate bool, hint time.Duration) bool {
	if s.CooldownTime <= 0 {
		return false
	}
	allowed := max(s.AllowedFails, 0)
	t := now.UnixNano()
	h.mu.Lock()
	defer h.mu.Unlock()
	// Keep the failures still inside the window; they are in time order.
	cut := t - int64(failWindow)
	drop := 0
	for drop < len(h.fails) && h.fails[drop] <= cut {
		drop++
	}
	if keep := len(h.fails) - drop; keep >= allowed+1 {
		// Only the newest allowed+1 can decide; this bounds the slice.
		drop = len(h.fails) - allowed
	}
	h.fails = append(h.fails[:0], h.fails[drop:]...)
	h.fails = append(h.fails, t)
	h.nfail.Store(int32(len(h.fails)))
	if !immediate && len(h.fails) <= allowed {
		return false
	}
	d := s.CooldownTime
	if hint > d {
		d = min(hint, maxHintCooldown)
	}
	if until := t + int64(d); until > h.until.Load() {
		h.until.Store(until)
	}
	return true
}
