package budget

import (
	"fmt"
	"math"
	"sync"
	"time"
)

// Ledger is the in-memory account of spend against budgets (a key's hash, "global", ...). A call
// reserves its expected cost on every budget that applies before it goes upstream, and settles
// to its real cost after, so that concurrent calls see each other's cost before it is known.
//
// Resets are lazy and exact: any call that touches a budget at or after its reset time first rolls
// the window (spend to 0, reset time to the next one). There is no periodic job.
//
// Admission rule: a call is refused only when spend + reserved (what calls in flight hold) has
// reached the limit; with nothing in flight that is LiteLLM's "spend >= max_budget". A call is
// never refused because its own estimate is larger than what is left: it is admitted and holds
// its whole estimate, which may reach past the limit.
//
// Overshoot bound (what replaces "spend + reserved <= limit" now that reservations are
// estimates): every admission happens with spend + reserved < limit, and a settle moves
// spend + reserved by the call's cost minus its reservation, so at any moment
// spend + reserved < limit + the last admitted call's reservation + the sum, over settled calls,
// of what each cost beyond its reservation. Once nothing is in flight the overshoot is at most
// that: what the calls in flight when the limit was reached cost beyond their reservations,
// plus the part of the last one's reservation that lay past the limit. A reservation is not
// shrunk to the room left (LiteLLM shrinks it): that part keeps the window closed while calls
// that cost less than they held settle, instead of letting a new call in on each one's change.
//
// Callbacks run after the ledger's lock is released, on the goroutine that caused them, and may
// run concurrently with each other; events carry enough (the new reset time) to be applied
// idempotently.
type Ledger struct {
	mu      sync.Mutex
	budgets map[string]*budget
	loc     *time.Location
	now     func() time.Time
	onReset func(ResetEvent)
	onSpend func(SpendEvent)
}

// LedgerOptions configure a Ledger.
type LedgerOptions struct {
	// Location is the time zone of calendar resets (litellm_settings.timezone); nil is UTC.
	Location *time.Location
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// OnReset is told when a budget's window rolls over or restarts, so the store can persist
	// spend 0 and the new budget_reset_at.
	OnReset func(ResetEvent)
	// OnSpend is told after spend was added (Settle, Record), with the spend before and after;
	// feed it to an Alerter.
	OnSpend func(SpendEvent)
}

// ResetEvent reports that a budget started a new window.
type ResetEvent struct {
	ID string
	// EndedSpend is the spend of the window that ended.
	EndedSpend float64
	// WindowStart is when the new window began: the previous reset time, or the moment a change
	// of duration restarted it (the zero time without a duration). Spend recomputed from logs at
	// start-up should count from here; persist it if restarts must survive one.
	WindowStart time.Time
	// ResetAt is the new budget_reset_at (nil when the budget no longer resets).
	ResetAt *time.Time
	// Restart is true when SetBudget changed the duration (a new window from now), false when
	// the window ended on its own.
	Restart bool
}

// SpendEvent reports a change of a budget's spend. For an Alerter, identify the window by
// ResetAt (the zero time when nil).
type SpendEvent struct {
	ID          string
	WindowStart time.Time
	Prev, Spend float64
	Limit       *float64
	ResetAt     *time.Time
}

// ExceededError is returned by Reserve when a budget has no room for the call.
type ExceededError struct {
	ID       string
	Limit    float64
	Spend    float64
	Reserved float64 // held by calls in flight
	Amount   float64 // what the refused call asked to reserve
	ResetAt  *time.Time
	// Duration is the budget's window (nil when it does not reset) and WindowStart when the
	// current window began (zero without a duration): the refusal's window, for alerts.
	Duration    *Duration
	WindowStart time.Time
}

func (e *ExceededError) Error() string {
	s := fmt.Sprintf("budget %q exceeded: spend %g + in flight %g >= max budget %g",
		e.ID, e.Spend, e.Reserved, e.Limit)
	if e.Spend >= e.Limit {
		s = fmt.Sprintf("budget %q exceeded: spend %g >= max budget %g", e.ID, e.Spend, e.Limit)
	}
	if e.ResetAt != nil {
		s += "; resets at " + e.ResetAt.UTC().Format(time.RFC3339)
	}
	return s
}

type budget struct {
	id          string
	limit       *float64
	spend       float64
	reserved    float64
	resetAt     *time.Time
	dur         *Duration
	windowStart time.Time
}

// NewLedger returns an empty Ledger.
func NewLedger(o LedgerOptions) *Ledger {
	l := &Ledger{budgets: map[string]*budget{}, loc: o.Location, now: o.Now, onReset: o.OnReset, onSpend: o.OnSpend}
	if l.loc == nil {
		l.loc = time.UTC
	}
	if l.now == nil {
		l.now = time.Now
	}
	return l
}

// SetBudget creates or replaces a budget. limit nil tracks spend without a cap. resetAt nil with
// a duration arms a window ending at NextReset(d, now). Calls in flight keep their reservations.
//
// Changing the duration of an existing budget (including adding or removing one) starts a new
// window: spend restarts at 0 and resetAt is recomputed, whatever spend and resetAt say, and
// OnReset is told. LiteLLM carried the old spend into the new window (BerriAI/litellm#34492),
// which locked keys out at once. Re-sending the same duration is not a restart.
func (l *Ledger) SetBudget(id string, limit *float64, spend float64, resetAt *time.Time, d *Duration) {
	now := l.now()
	var events []ResetEvent
	l.mu.Lock()
	b := l.budgets[id]
	restart := b != nil && !sameDuration(b.dur, d)
	if b == nil {
		b = &budget{id: id}
		l.budgets[id] = b
	}
	b.limit = copyFloat(limit)
	b.dur = copyDuration(d)
	if restart {
		ended := b.spend
		b.spend = 0
		b.resetAt, b.windowStart = nil, time.Time{}
		if d != nil {
			r := NextReset(*d, now, l.loc)
			b.resetAt = &r
			b.windowStart = now
		}
		events = append(events, ResetEvent{ID: id, EndedSpend: ended, WindowStart: b.windowStart, ResetAt: copyTime(b.resetAt), Restart: true})
	} else {
		b.spend = clean(spend)
		b.resetAt, b.windowStart = copyTime(resetAt), time.Time{}
		if d != nil {
			if b.resetAt == nil {
				r := NextReset(*d, now, l.loc)
				b.resetAt = &r
			}
			b.windowStart = WindowStart(*d, *b.resetAt, l.loc)
		}
	}
	l.mu.Unlock()
	l.emit(events, nil)
}

// SetLimit changes only the cap of a budget, keeping its spend and window (a /key/update of
// max_budget alone). It reports whether the budget exists.
func (l *Ledger) SetLimit(id string, limit *float64) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.budgets[id]
	if b == nil {
		return false
	}
	b.limit = copyFloat(limit)
	return true
}

// Remove forgets a budget. Reservations made against it settle into nothing.
func (l *Ledger) Remove(id string) {
	l.mu.Lock()
	delete(l.budgets, id)
	l.mu.Unlock()
}

// Reservation is room held on one or more budgets for a call in flight. Settle or Release it
// exactly once; later calls do nothing.
type Reservation struct {
	l       *Ledger
	budgets []*budget
	amount  float64 // guarded by l.mu
	done    bool    // guarded by l.mu
}

// Amount is what is reserved on each budget.
func (r *Reservation) Amount() float64 {
	r.l.mu.Lock()
	defer r.l.mu.Unlock()
	return r.amount
}

// Reserve holds amount on every budget in ids that the ledger knows (unknown ids have no budget
// and are skipped; duplicates count once). It fails, holding nothing, with an *ExceededError for
// the first budget whose spend plus what calls in flight hold has reached its limit (see the
// admission rule on Ledger). Negative or NaN amounts reserve 0.
func (l *Ledger) Reserve(ids []string, amount float64) (*Reservation, error) {
	amount = clean(amount)
	now := l.now()
	var events []ResetEvent
	l.mu.Lock()
	r := &Reservation{l: l, amount: amount}
	var err error
	for _, id := range ids {
		b := l.budgets[id]
		if b == nil || contains(r.budgets, b) {
			continue
		}
		l.roll(b, now, &events)
		r.budgets = append(r.budgets, b)
		if err == nil && b.limit != nil {
			lim := *b.limit
			if b.spend+b.reserved >= lim {
				err = &ExceededError{ID: id, Limit: lim, Spend: b.spend, Reserved: b.reserved, Amount: amount,
					ResetAt: copyTime(b.resetAt), Duration: copyDuration(b.dur), WindowStart: b.windowStart}
			}
		}
	}
	if err == nil {
		for _, b := range r.budgets {
			b.reserved += amount
		}
	}
	l.mu.Unlock()
	l.emit(events, nil)
	if err != nil {
		return nil, err
	}
	return r, nil
}

// epsilon absorbs float rounding in sums of small costs (a nano-dollar).
const epsilon = 1e-9

// Adjust changes what the reservation holds to amount (the call went to a deployment whose
// expected cost differs from the one it was admitted at). It never refuses: the call is already
// admitted. A raise takes only the room its budgets have left (limit - spend - reserved, none
// when that is negative), so that a dearer deployment closes the window to others sooner
// without pushing spend + reserved past where admission left it; a cut is given back whole.
// It does nothing after Settle or Release.
func (r *Reservation) Adjust(amount float64) {
	if r == nil {
		return
	}
	amount = clean(amount)
	l := r.l
	l.mu.Lock()
	defer l.mu.Unlock()
	if r.done || amount == r.amount {
		return
	}
	next := amount
	if amount > r.amount {
		room := amount - r.amount
		for _, b := range r.budgets {
			if b.limit != nil {
				room = min(room, max(0, *b.limit-b.spend-b.reserved))
			}
		}
		next = r.amount + room
	}
	for _, b := range r.budgets {
		b.reserved += next - r.amount
		if b.reserved < epsilon {
			b.reserved = 0
		}
	}
	r.amount = next
}

// Settle releases the reservation and adds actual (the call's real cost) to every budget it held.
// actual may exceed the reservation; see the overshoot bound on Ledger.
func (r *Reservation) Settle(actual float64) { r.finish(clean(actual)) }

// Release gives the reservation back without spending anything (a call that failed before any
// billable work).
func (r *Reservation) Release() { r.finish(0) }

func (r *Reservation) finish(actual float64) {
	if r == nil {
		return
	}
	l := r.l
	now := l.now()
	var resets []ResetEvent
	var spends []SpendEvent
	l.mu.Lock()
	if r.done {
		l.mu.Unlock()
		return
	}
	r.done = true
	for _, b := range r.budgets {
		l.roll(b, now, &resets)
		b.reserved -= r.amount
		if b.reserved < epsilon {
			b.reserved = 0
		}
		if actual > 0 {
			spends = append(spends, l.add(b, actual))
		}
	}
	l.mu.Unlock()
	l.emit(resets, spends)
}

// Record adds spend that was not reserved (a call that skipped the gate) to the budgets in ids.
func (l *Ledger) Record(ids []string, amount float64) {
	amount = clean(amount)
	now := l.now()
	var resets []ResetEvent
	var spends []SpendEvent
	l.mu.Lock()
	var seen []*budget
	for _, id := range ids {
		b := l.budgets[id]
		if b == nil || contains(seen, b) {
			continue
		}
		seen = append(seen, b)
		l.roll(b, now, &resets)
		if amount > 0 {
			spends = append(spends, l.add(b, amount))
		}
	}
	l.mu.Unlock()
	l.emit(resets, spends)
}

// Spend reports a budget's spend in its current window, the amount held by calls in flight and
// its reset time (nil when it does not reset or is unknown).
func (l *Ledger) Spend(id string) (spend, reserved float64, resetAt *time.Time) {
	now := l.now()
	var events []ResetEvent
	l.mu.Lock()
	b := l.budgets[id]
	if b != nil {
		l.roll(b, now, &events)
		spend, reserved, resetAt = b.spend, b.reserved, copyTime(b.resetAt)
	}
	l.mu.Unlock()
	l.emit(events, nil)
	return spend, reserved, resetAt
}

// add must be called with l.mu held.
func (l *Ledger) add(b *budget, amount float64) SpendEvent {
	prev := b.spend
	b.spend += amount
	return SpendEvent{ID: b.id, WindowStart: b.windowStart, Prev: prev, Spend: b.spend, Limit: copyFloat(b.limit), ResetAt: copyTime(b.resetAt)}
}

// roll starts a new window if b's reset time has come. It must be called with l.mu held.
func (l *Ledger) roll(b *budget, now time.Time, events *[]ResetEvent) {
	if b.resetAt == nil || now.Before(*b.resetAt) {
		return
	}
	ended := b.spend
	b.spend = 0
	if b.dur == nil {
		// A one-off reset time without a duration: reset once, then never again.
		b.resetAt, b.windowStart = nil, time.Time{}
		*events = append(*events, ResetEvent{ID: b.id, EndedSpend: ended})
		return
	}
	next := NextAfter(*b.dur, *b.resetAt, now, l.loc)
	b.resetAt = &next
	b.windowStart = WindowStart(*b.dur, next, l.loc)
	*events = append(*events, ResetEvent{ID: b.id, EndedSpend: ended, WindowStart: b.windowStart, ResetAt: copyTime(&next)})
}

func (l *Ledger) emit(resets []ResetEvent, spends []SpendEvent) {
	if l.onReset != nil {
		for _, e := range resets {
			l.onReset(e)
		}
	}
	if l.onSpend != nil {
		for _, e := range spends {
			l.onSpend(e)
		}
	}
}

func sameDuration(a, b *Duration) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func contains(bs []*budget, b *budget) bool {
	for _, x := range bs {
		if x == b {
			return true
		}
	}
	return false
}

// clean turns negative, NaN and infinite amounts into 0: a cost can only add.
func clean(f float64) float64 {
	if !(f > 0) || math.IsInf(f, 1) {
		return 0
	}
	return f
}

func copyFloat(f *float64) *float64 {
	if f == nil {
		return nil
	}
	v := *f
	return &v
}

func copyTime(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := *t
	return &v
}

func copyDuration(d *Duration) *Duration {
	if d == nil {
		return nil
	}
	v := *d
	return &v
}

// RaiseSpend lifts a budget's spend in its current window to at least spend, keeping its limit,
// window and reservations, and reports whether it changed. It is for spend that another process
// recorded against the same budget: raising, never lowering, keeps this process's own calls,
// settled but not yet stored, counted. No SpendEvent: the process that spent it alerts.
func (l *Ledger) RaiseSpend(id string, spend float64) bool {
	now := l.now()
	var events []ResetEvent
	l.mu.Lock()
	b := l.budgets[id]
	raised := false
	if b != nil {
		l.roll(b, now, &events)
		if spend = clean(spend); spend > b.spend {
			b.spend, raised = spend, true
		}
	}
	l.mu.Unlock()
	l.emit(events, nil)
	return raised
}
