package budget

import (
	"math"
	"sort"
	"strconv"
	"sync"
	"time"
)

// DefaultLevels are the fractions of max_budget that raise an event when spend reaches them.
var DefaultLevels = []float64{0.5, 0.8, 1.0}

// Crossing kinds.
const (
	KindMaxBudget  = "max_budget"
	KindSoftBudget = "soft_budget"
	// KindExhausted is a budget's first refusal in a window (which may come before spend
	// reaches the limit: calls in flight hold the rest). Nothing computes it from spend; pass
	// Exhausted to Fire.
	KindExhausted = "exhausted"
)

// Exhausted is the crossing of a budget's first refusal; Full is its 100% level.
var (
	Exhausted = Crossing{Kind: KindExhausted, Level: 1}
	Full      = Crossing{Kind: KindMaxBudget, Level: 1}
)

// Thresholds are the alert points of one budget.
type Thresholds struct {
	// Limit is max_budget in USD; 0 or less means none, and only Soft applies.
	Limit float64
	// Soft is soft_budget in USD (nil = none). It never blocks; it only alerts.
	Soft *float64
	// Levels are fractions of Limit (nil = DefaultLevels). Values <= 0 are ignored.
	Levels []float64
}

// Crossing is one threshold that a change in spend reached.
type Crossing struct {
	Kind string // KindMaxBudget or KindSoftBudget
	// Level is the fraction of max_budget (1 = the limit). For a soft budget it is Soft/Limit,
	// or 0 when there is no max_budget.
	Level float64
	// Amount is the threshold in USD.
	Amount float64
}

// Key identifies the threshold within a budget window, for de-duplication.
func (c Crossing) Key() string {
	if c.Kind == KindSoftBudget || c.Kind == KindExhausted {
		return c.Kind
	}
	return KindMaxBudget + ":" + strconv.FormatFloat(c.Level, 'g', -1, 64)
}

// Crossed returns the thresholds that spend reached going from prev to next: those with
// prev < amount <= next, in ascending order of amount. Reaching a threshold exactly counts.
func (t Thresholds) Crossed(prev, next float64) []Crossing {
	if !(next > prev) {
		return nil
	}
	var out []Crossing
	if t.Limit > 0 {
		levels := t.Levels
		if levels == nil {
			levels = DefaultLevels
		}
		seen := map[float64]bool{}
		for _, l := range levels {
			if !(l > 0) || math.IsInf(l, 0) || seen[l] {
				continue
			}
			seen[l] = true
			if a := l * t.Limit; prev < a && a <= next {
				out = append(out, Crossing{Kind: KindMaxBudget, Level: l, Amount: a})
			}
		}
	}
	if t.Soft != nil && *t.Soft >= 0 {
		if a := *t.Soft; prev < a && a <= next {
			var level float64
			if t.Limit > 0 {
				level = a / t.Limit
			}
			out = append(out, Crossing{Kind: KindSoftBudget, Level: level, Amount: a})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Amount != out[j].Amount {
			return out[i].Amount < out[j].Amount
		}
		return out[i].Kind == KindSoftBudget && out[j].Kind != KindSoftBudget
	})
	return out
}

// Crossed is Thresholds{limit, soft, levels}.Crossed(prevSpend, newSpend).
func Crossed(prevSpend, newSpend, limit float64, soft *float64, levels []float64) []Crossing {
	return Thresholds{Limit: limit, Soft: soft, Levels: levels}.Crossed(prevSpend, newSpend)
}

// Alerter lets each threshold of each budget fire once per budget window. It remembers only the
// latest window of each budget: an event for a newer window forgets the older one, so memory is
// bounded by the number of budgets times their thresholds. Safe for concurrent use.
type Alerter struct {
	mu      sync.Mutex
	windows map[string]*alertWindow
}

type alertWindow struct {
	start time.Time
	fired map[string]bool
}

// NewAlerter returns an empty Alerter.
func NewAlerter() *Alerter { return &Alerter{windows: map[string]*alertWindow{}} }

// Fire reports whether c should raise an event for budgetID in the given window: true the first
// time, false after. window identifies the budget window and must grow from one window to the
// next; pass its budget_reset_at (SpendEvent.ResetAt; the zero time for budgets that never
// reset), which stays the same however the window was armed, or its start, consistently.
// An event for a window older than the latest one seen is stale and never fires.
func (a *Alerter) Fire(budgetID string, window time.Time, c Crossing) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.fire(budgetID, window, c.Key())
}

func (a *Alerter) fire(id string, start time.Time, key string) bool {
	w := a.windows[id]
	switch {
	case w == nil || start.After(w.start):
		w = &alertWindow{start: start, fired: map[string]bool{}}
		a.windows[id] = w
	case start.Before(w.start):
		return false
	}
	if w.fired[key] {
		return false
	}
	w.fired[key] = true
	return true
}

// Observe computes the crossings of a spend change and returns those that have not fired yet in
// this window (see Fire for window). At start-up, Observe(id, window, 0, recomputedSpend, t) with
// the result discarded marks what was already crossed before a restart, if re-alerting is unwanted.
func (a *Alerter) Observe(budgetID string, window time.Time, prev, next float64, t Thresholds) []Crossing {
	cs := t.Crossed(prev, next)
	if len(cs) == 0 {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	out := cs[:0]
	for _, c := range cs {
		if a.fire(budgetID, window, c.Key()) {
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// Forget drops what is remembered for a budget (a deleted key).
func (a *Alerter) Forget(budgetID string) {
	a.mu.Lock()
	delete(a.windows, budgetID)
	a.mu.Unlock()
}

// Len is the number of budgets remembered.
func (a *Alerter) Len() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.windows)
}
