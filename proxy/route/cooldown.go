package route

import (
	"slices"
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

// Health is one deployment's state as a status view shows it.
type Health struct {
	Deployment *Deployment
	// CoolingUntil is the end of its cooldown when it is cooling down now, else zero.
	CoolingUntil time.Time
	// RecentFailures counts its failures in the last minute (cleared by a success).
	RecentFailures int
}

// Health reports every deployment, groups in config order, members in config order.
func (r *Router) Health() []Health {
	now := r.now()
	var out []Health
	for _, name := range r.names {
		g := r.group(name)
		if g == nil {
			continue
		}
		for _, m := range g.members {
			h := Health{Deployment: m.d}
			if m.health.cooling(now) {
				h.CoolingUntil = time.Unix(0, m.health.until.Load())
			}
			m.health.mu.Lock()
			cut := now.UnixNano() - int64(failWindow)
			for _, t := range m.health.fails {
				if t > cut {
					h.RecentFailures++
				}
			}
			m.health.mu.Unlock()
			out = append(out, h)
		}
	}
	return out
}

// group finds a group by its public name, exact or pattern.
func (r *Router) group(name string) *group {
	if g := r.exact[name]; g != nil {
		return g
	}
	for _, g := range slices.Concat(r.patterns, r.catchAll) {
		if g.name == name {
			return g
		}
	}
	return nil
}
