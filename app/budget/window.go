package budget

import "time"

// NextAfter is the first reset after now of a window of length d that was due at resetAt (at
// or before now): rolling windows keep their cadence (resetAt + k×span), calendar windows step
// window by window and, after a long gap, jump to the window containing now. It is how a
// Ledger rolls a budget, and how a budget kept in a database is rolled the same way.
func NextAfter(d Duration, resetAt, now time.Time, loc *time.Location) time.Time {
	if span, ok := d.rolling(); ok {
		return resetAt.Add((now.Sub(resetAt)/span + 1) * span)
	}
	next := NextReset(d, resetAt, loc)
	for i := 0; !next.After(now); i++ {
		if i == 64 {
			return NextReset(d, now, loc)
		}
		next = NextReset(d, next, loc)
	}
	return next
}

// State is a budget as a Ledger holds it: what a copy of it elsewhere (a database shared by
// several gateways) starts from.
type State struct {
	Limit       *float64
	Duration    *Duration
	Spend       float64
	ResetAt     *time.Time
	WindowStart time.Time
}

// State reports budget id's limit, window and spend (its reset applied if due), and whether the
// ledger knows it.
func (l *Ledger) State(id string) (State, bool) {
	now := l.now()
	var events []ResetEvent
	l.mu.Lock()
	b := l.budgets[id]
	var s State
	if b != nil {
		l.roll(b, now, &events)
		s = State{Limit: copyFloat(b.limit), Duration: copyDuration(b.dur), Spend: b.spend,
			ResetAt: copyTime(b.resetAt), WindowStart: b.windowStart}
	}
	l.mu.Unlock()
	l.emit(events, nil)
	return s, b != nil
}
