package ledger

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"math"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/clawgate/clawgate/app/budget"
	"github.com/clawgate/clawgate/app/store"
	"github.com/clawgate/clawgate/proxy"
)

// Shared mode (Options.Shared): several gateways on one database enforce the same budgets and rate
// limits. The gate reserves in the database instead of in memory (store/holds.go says how it stays
// atomic): a request's expected cost is a hold on each of its budgets, with a lease this gateway
// renews while it runs, and settling adds the real cost to the budgets and the key's spend and
// drops the hold in one transaction. So N gateways overshoot a budget by no more than what is in
// flight, as one process does, and a gateway killed with holds frees them when their lease ends.
// Windows are rolled in the database by whichever gateway finds them ended (once), threshold
// alerts are claimed there (once), rpm/tpm are counted per key and minute there, and
// max_parallel_requests is a budget of slots.
//
// The in-memory budget ledger stays: it holds each budget's cap and window as configured (what a
// row is created from), and mirrors the spend the database reports, for the tray and /key/info.
// Its own resets are ignored (the database's are announced), except a change of duration, which
// restarts the database's window too. Its reservations and the in-memory Limiter are unused.
const (
	// holdLease is how long a hold counts without being renewed: how long a dead gateway's
	// requests keep their room.
	holdLease = time.Minute
	// holdRenew is how often a gateway renews its holds' leases.
	holdRenew = holdLease / 3
	// sharedTimeout bounds the database calls made after a request ended (settle, release).
	sharedTimeout = 10 * time.Second
	// slotPrefix names the budget that counts a key's requests in flight (max_parallel_requests).
	slotPrefix = "parallel:"
)

// shared is the gate's shared mode.
type shared struct {
	l     *Ledger
	owner string // this gateway's id on its holds
	stop  chan struct{}
	done  chan struct{}
	once  sync.Once
}

// newShared is shared mode for l; Open starts its renew loop once l is ready.
func newShared(l *Ledger) *shared {
	return &shared{l: l, owner: randomID("gw-"), stop: make(chan struct{}), done: make(chan struct{})}
}

// randomID is prefix and 24 random hex digits: the ids of gateways, holds and refusal rows.
func randomID(prefix string) string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// renew extends this gateway's leases and drops expired holds and old rate counters.
func (s *shared) renew() {
	defer close(s.done)
	t := time.NewTicker(holdRenew)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		s.renewOnce()
	}
}

func (s *shared) renewOnce() {
	ctx, cancel := context.WithTimeout(context.Background(), sharedTimeout)
	defer cancel()
	now := s.l.now()
	if err := s.l.st.RenewHolds(ctx, s.owner, now.Add(holdLease)); err != nil {
		s.l.log.Warn("ledger: could not renew budget holds; other gateways stop counting them when their lease ends", "err", err)
	}
	if err := s.l.st.PruneHolds(ctx, now.Add(-holdLease), now.Unix()/60-2); err != nil {
		s.l.log.Warn("ledger: pruning budget holds failed", "err", err)
	}
}

// halt stops renewing: what a gateway killed with requests in flight leaves behind.
func (s *shared) halt() {
	s.once.Do(func() { close(s.stop) })
	<-s.done
}

// close stops renewing and drops this gateway's holds (nothing is in flight at Close).
func (s *shared) close(ctx context.Context) error {
	s.halt()
	return s.l.st.DropHolds(ctx, s.owner)
}

// seed is budget id as the in-memory ledger knows it; false for an unknown id (no budget).
func (s *shared) seed(id string) (store.BudgetRow, bool) {
	st, ok := s.l.bl.State(id)
	if !ok {
		return store.BudgetRow{}, false
	}
	return store.BudgetRow{ID: id, Spend: st.Spend, MaxBudget: st.Limit, Duration: durString(st.Duration),
		ResetAt: st.ResetAt, WindowStart: st.WindowStart}, true
}

// roll is the window after row's, by the budget package's calendar (store.Roller).
func (s *shared) roll(row store.BudgetRow, now time.Time) (*time.Time, time.Time) {
	d, err := budget.ParseOptionalDuration(row.Duration)
	if err != nil || d == nil || row.ResetAt == nil {
		return nil, time.Time{} // a one-off reset: never again
	}
	next := budget.NextAfter(*d, *row.ResetAt, now, s.l.loc)
	return &next, budget.WindowStart(*d, next, s.l.loc)
}

// sharedHold is an admitted request's holds.
type sharedHold struct {
	s       *shared
	id      string
	budgets []store.BudgetRow // the money budgets held (not the slot)
	key     string            // the key's token at admission ("": the master key)
	capped  bool              // a budget with a cap is held: the hold has rows to reprice
	mu      sync.Mutex
	amount  float64 // guarded by mu
	// rate: the minute counters taken (the key's, its team's, its user's: rated, in the order of
	// the HoldRequest's Rates) and the tokens counted in each at admission.
	rated  []rated
	minute int64
	est    int64
}

// rated is one party to a request whose rpm/tpm/parallel limits apply: the key (who ""), or its
// team or user (who "team ID" / "user ID", as their refusals name them).
type rated struct {
	id, who       string
	rpm, tpm, par *int64
}

// parties are the key's and its team's and user's limits, for the budget ids in ids.
func (l *Ledger) parties(k *store.Key, ids []string) []rated {
	ps := []rated{{id: k.Token, rpm: k.RPMLimit, tpm: k.TPMLimit, par: k.MaxParallelRequests}}
	for _, id := range ids {
		var lim store.Limits
		var ok bool
		switch {
		case strings.HasPrefix(id, teamPrefix):
			var t store.Team
			t, ok = l.team(strings.TrimPrefix(id, teamPrefix))
			lim = t.Limits
		case strings.HasPrefix(id, userPrefix):
			var u store.User
			u, ok = l.user(strings.TrimPrefix(id, userPrefix))
			lim = u.Limits
		}
		if ok {
			ps = append(ps, rated{id: id, who: strings.Replace(id, ":", " ", 1), rpm: lim.RPMLimit, tpm: lim.TPMLimit, par: lim.MaxParallelRequests})
		}
	}
	return ps
}

// limitRefusal is the 429 of a party's rate limit, in the key's words or its team's or user's.
func limitRefusal(k *store.Key, p rated, re *budget.RateLimitError) error {
	if p.who == "" {
		return rateError(*k, re, re.RetryAfter)
	}
	return limitError(p.who, re, re.RetryAfter)
}

// acquire takes key k's rpm/tpm/parallel room in memory. In shared mode the database takes it,
// with the budgets (admit), so nothing happens here.
func (l *Ledger) acquire(k store.Key, estTokens int64) (release func(int64), retry time.Duration, err error) {
	if l.shared != nil {
		return func(int64) {}, 0, nil
	}
	return l.lim.Acquire(k.Token, k.RPMLimit, k.TPMLimit, k.MaxParallelRequests, estTokens)
}

// admit reserves amount on the budgets in ids (unknown ids have no budget and are skipped) and,
// for the admission's key (none for the master key), takes its rpm/tpm/parallel room, all in one
// transaction.
func (s *shared) admit(ctx context.Context, a *admission, ids []string, amount float64, estTokens int64) (proxy.Admission, error) {
	var k *store.Key
	if a.e != nil {
		kk := s.l.snapshot(a.e)
		k = &kk
	}
	now := s.l.now()
	h := &sharedHold{s: s, id: randomID("hold-"), amount: max(0, amount)}
	if math.IsNaN(amount) || math.IsInf(amount, 0) {
		h.amount = 0
	}
	q := store.HoldRequest{HoldID: h.id, Owner: s.owner, Now: now, Expires: now.Add(holdLease), Roll: s.roll}
	if k != nil {
		h.key = k.Token
		if err := h.limits(k, s.l.parties(k, ids), estTokens, now, &q); err != nil {
			return nil, err
		}
	}
	for _, id := range ids {
		seed, ok := s.seed(id)
		if !ok {
			continue
		}
		h.budgets = append(h.budgets, seed)
		if seed.MaxBudget != nil { // a budget without a cap refuses nothing: its row is not locked until settlement
			q.Budgets = append(q.Budgets, store.HoldBudget{Seed: seed, Amount: h.amount})
			h.capped = true
		}
	}
	if len(q.Budgets) == 0 && len(q.Rates) == 0 {
		// Nothing can refuse this request: no round trip to admit it, so it is served while the
		// database is away too (its spend is settled after, or reaches the key with its log row).
		a.sh = h
		return a, nil
	}
	res, err := s.l.st.Hold(ctx, q)
	if err != nil {
		return nil, unavailable(err)
	}
	s.announce(res.Resets)
	switch {
	case res.Refused >= 0:
		return nil, s.refusal(q.Budgets[res.Refused], res.Budgets[res.Refused], k)
	case res.RateRefused:
		r := q.Rates[res.RateIndex]
		re := &budget.RateLimitError{ID: r.Key, Limit: budget.LimitRPM, Max: r.RPM, Current: res.Requests}
		if res.Requests < r.RPM {
			re.Limit, re.Max, re.Current = budget.LimitTPM, r.TPM, res.Tokens
		}
		re.RetryAfter = time.Unix((r.Minute+1)*60, 0).Sub(now)
		return nil, limitRefusal(k, h.rated[res.RateIndex], re)
	}
	a.sh = h
	return a, nil
}

// limits adds the rate limits of the request's parties (the key, its team, its user) to q: each
// party's parallel slot as a budget of slots, checked first, and its rpm/tpm as a minute counter.
// A limit of 0 refuses every request, as in LiteLLM.
func (h *sharedHold) limits(k *store.Key, parties []rated, est int64, now time.Time, q *store.HoldRequest) error {
	h.minute, h.est = now.Unix()/60, max(0, est)
	for _, p := range parties {
		for _, z := range []struct {
			v     *int64
			limit string
			retry time.Duration
		}{{p.par, budget.LimitParallel, time.Second}, {p.rpm, budget.LimitRPM, budget.Window}, {p.tpm, budget.LimitTPM, budget.Window}} {
			if z.v != nil && *z.v <= 0 {
				return limitRefusal(k, p, &budget.RateLimitError{ID: p.id, Limit: z.limit, RetryAfter: z.retry})
			}
		}
		if p.par != nil {
			n := float64(*p.par)
			q.Budgets = append(q.Budgets, store.HoldBudget{Seed: store.BudgetRow{ID: slotPrefix + p.id, MaxBudget: &n}, Amount: 1})
		}
		if p.rpm == nil && p.tpm == nil {
			continue
		}
		h.rated = append(h.rated, p)
		q.Rates = append(q.Rates, store.RateCheck{Key: p.id, Minute: h.minute, RPM: orMax(p.rpm), TPM: orMax(p.tpm), Tokens: h.est})
	}
	return nil
}

func orMax(v *int64) int64 {
	if v == nil {
		return math.MaxInt64
	}
	return *v
}

// refusal is the error for a budget (or the parallel slot) without room.
func (s *shared) refusal(hb store.HoldBudget, st store.BudgetState, k *store.Key) error {
	if id, ok := strings.CutPrefix(st.ID, slotPrefix); ok && k != nil {
		re := &budget.RateLimitError{ID: id, Limit: budget.LimitParallel, Max: int64(*st.MaxBudget), Current: int64(st.Held),
			RetryAfter: time.Second}
		p := rated{id: id}
		if id != k.Token {
			p.who = strings.Replace(id, ":", " ", 1) // a team's or user's slots
		}
		return limitRefusal(k, p, re)
	}
	d, _ := budget.ParseOptionalDuration(st.Duration)
	return s.l.budgetError(&budget.ExceededError{ID: st.ID, Limit: *st.MaxBudget, Spend: st.Spend, Reserved: st.Held,
		Amount: hb.Amount, ResetAt: st.ResetAt, Duration: d, WindowStart: st.WindowStart})
}

// reprice moves the hold to amount (see store.AdjustHold).
func (h *sharedHold) reprice(amount float64) {
	if math.IsNaN(amount) || math.IsInf(amount, 0) || amount < 0 {
		amount = 0
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if amount == h.amount {
		return
	}
	if !h.capped { // no capped budget is held: nothing in the database to move
		h.amount = amount
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), sharedTimeout)
	defer cancel()
	next, resets, err := h.s.l.st.AdjustHold(ctx, h.id, h.budgets, h.amount, amount, h.s.l.now(), h.s.roll)
	if err != nil {
		h.s.l.log.Warn("ledger: could not move a budget hold to the deployment's price", "err", err)
		return
	}
	h.amount = next
	h.s.announce(resets)
}

// done settles the request (u nil: released), then queues its row, marked settled when the
// database took its spend.
func (h *sharedHold) done(a *admission, u *proxy.Usage) {
	var cost float64
	var tokens int64
	if u != nil {
		cost, tokens = costOf(u), int64(u.PromptTokens+u.CompletionTokens)
	}
	q := store.SettleRequest{HoldID: h.id, Cost: cost}
	q.Budgets, q.Key = h.current(a.e)
	for _, p := range h.rated {
		q.Rates = append(q.Rates, store.RateFix{Key: p.id, Minute: h.minute, Tokens: tokens - h.est})
	}
	settled := h.s.settle(q)
	if u == nil {
		return
	}
	l := a.l
	l.written.Store(u.CallID, time.Now())
	row := l.row(u, a.e)
	row.Settled = settled
	l.queue(row, u)
}

// current is the budgets to settle on and the key's token: those held, with the key's under its
// current token when it was regenerated meanwhile (its hold goes with the request's others).
func (h *sharedHold) current(e *entry) ([]store.BudgetRow, string) {
	if e == nil || len(h.budgets) == 0 || h.budgets[0].ID != h.key {
		return h.budgets, ""
	}
	tok := h.s.l.tokenOf(e)
	if tok == h.key {
		return h.budgets, tok
	}
	seed, ok := h.s.seed(tok)
	if !ok {
		return h.budgets, h.key
	}
	return append([]store.BudgetRow{seed}, h.budgets[1:]...), tok
}

// tokenOf is the key's current token.
func (l *Ledger) tokenOf(e *entry) string {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return e.k.Token
}

// record adds the spend of a request that never met the gate to the budgets in ids, and queues
// its row.
func (s *shared) record(ids []string, u *proxy.Usage, e *entry) {
	q := store.SettleRequest{Cost: costOf(u)}
	if e != nil {
		q.Key = s.l.tokenOf(e)
	} else if p := u.Principal; p != nil && !p.Master {
		q.Key = p.KeyHash
	}
	for _, id := range ids {
		if seed, ok := s.seed(id); ok {
			q.Budgets = append(q.Budgets, seed)
		}
	}
	row := s.l.row(u, e)
	row.Settled = s.settle(q)
	s.l.queue(row, u)
}

// settle runs q and tells memory, alerts and the app what changed. It reports whether the
// database took the spend; when it did not, the spend log row adds it to the key later.
func (s *shared) settle(q store.SettleRequest) bool {
	l := s.l
	ctx, cancel := context.WithTimeout(context.Background(), sharedTimeout)
	defer cancel()
	q.Now, q.Roll = l.now(), s.roll
	res, err := l.st.Settle(ctx, q)
	if err != nil {
		l.log.Warn("ledger: could not settle a request's budgets in the database; its spend reaches the key with its log row", "err", err)
		return false
	}
	s.announce(res.Resets)
	for _, c := range res.Changes {
		if !(c.Spend > c.Prev) {
			continue
		}
		l.bl.RaiseSpend(c.ID, c.Spend)
		l.onSpend(budget.SpendEvent{ID: c.ID, WindowStart: c.WindowStart, Prev: c.Prev, Spend: c.Spend, Limit: c.MaxBudget, ResetAt: c.ResetAt})
	}
	return true
}

// announce reports the windows this gateway rolled in the database: it keeps the key's window in
// memory as stored, saves the proxy-wide window, and emits EventReset.
func (s *shared) announce(resets []store.BudgetReset) {
	l := s.l
	for _, r := range resets {
		since := r.WindowStart
		if since.IsZero() {
			since = l.now()
		}
		if r.ID == GlobalBudget {
			ctx, cancel := context.WithTimeout(context.Background(), sharedTimeout)
			l.saveGlobal(ctx, l.globalDuration(), r.ResetAt, since)
			cancel()
		} else {
			l.keepReset(r.ID, 0, since, r.ResetAt)
		}
		l.announceReset(budget.ResetEvent{ID: r.ID, EndedSpend: r.EndedSpend, WindowStart: r.WindowStart, ResetAt: r.ResetAt})
	}
}

// onReset hears the in-memory ledger start a window. A window that ended is the database's to
// roll (announce); a change of duration restarts the database's window, once across gateways.
func (s *shared) onReset(e budget.ResetEvent) {
	if !e.Restart {
		return
	}
	seed, ok := s.seed(e.ID)
	if !ok {
		return
	}
	seed.Spend = 0
	ctx, cancel := context.WithTimeout(context.Background(), sharedTimeout)
	defer cancel()
	took, err := s.l.st.RestartBudget(ctx, seed, s.l.now())
	if err != nil {
		s.l.log.Warn("ledger: could not restart a budget's window in the database", "budget", e.ID, "err", err)
		return
	}
	if took {
		s.announce([]store.BudgetReset{{ID: e.ID, EndedSpend: e.EndedSpend, WindowStart: e.WindowStart, ResetAt: e.ResetAt}})
	}
}

// setSpend sets a budget's spend in the database (an admin's "spend" on a key).
func (s *shared) setSpend(ctx context.Context, id string, spend float64) error {
	return s.l.st.SetBudgetSpend(ctx, id, spend)
}

// sharedView is budget id's spend and what requests in flight hold on it, as the database has
// them in shared mode (every gateway's); else, or when the database does not answer, as memory
// has them.
func (l *Ledger) sharedView(ctx context.Context, id string, spend, reserved float64) (float64, float64) {
	if l.shared == nil {
		return spend, reserved
	}
	b, err := l.st.GetBudget(ctx, id, l.now())
	if err != nil {
		return spend, reserved
	}
	return b.Spend, b.Held
}

// sharedViews is the database's budgets for ids in shared mode, read in one query per 500 (a list
// of keys); nil when not shared or the database does not answer (memory's figures stand then),
// and a budget it lacks is absent.
func (l *Ledger) sharedViews(ctx context.Context, ids []string) map[string]store.BudgetState {
	if l.shared == nil || len(ids) == 0 {
		return nil
	}
	m, err := l.st.GetBudgets(ctx, ids, l.now())
	if err != nil {
		return nil
	}
	return m
}

// unavailable is the 503 for a request whose budgets cannot be checked.
func unavailable(err error) error {
	if errors.Is(err, context.Canceled) {
		return err
	}
	return &budgetUnavailable{"Budgets cannot be checked: the database does not answer (" + err.Error() + "); retry shortly."}
}

type budgetUnavailable struct{ msg string }

func (e *budgetUnavailable) Error() string { return e.msg }

func (e *budgetUnavailable) HTTPStatus() (int, string, time.Duration, map[string]any) {
	return http.StatusServiceUnavailable, "budget_unavailable", 5 * time.Second, nil
}
