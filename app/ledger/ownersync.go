package ledger

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/clawgate/clawgate/app/budget"
	"github.com/clawgate/clawgate/app/store"
)

// Teams and users written by another process on the same database (another gateway of a team,
// the CLI) reach this one the way keys do (keysync.go), more simply: they are few and change
// rarely, so before a key lookup, at most every ownerSyncInterval, the ledger reads a mark of
// the two tables (row counts and latest updated_at) and, when it moved, re-reads them all and
// applies the differences: a new team or user is loaded with its spend from the logs, a changed
// one takes the new fields (a new budget_duration starts a new window, as here), a deleted one
// is forgotten. A team blocked through another gateway is so refused here within the interval.
// Spend stays per process, as a key's does.
const ownerSyncInterval = time.Second

type ownerSync struct {
	mu   sync.Mutex // one re-read at a time; lookups never wait for it
	mark string     // guarded by mu: the tables' mark when last read
	next atomic.Int64
}

// syncOwners applies what other processes changed in teams and users (see ownerSync).
func (l *Ledger) syncOwners(ctx context.Context) {
	s := &l.tu.sync
	if time.Now().UnixNano() < s.next.Load() || !s.mu.TryLock() {
		return
	}
	defer s.mu.Unlock()
	s.next.Store(time.Now().Add(ownerSyncInterval).UnixNano())
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), keySyncTimeout)
	defer cancel()
	mark, err := l.st.OwnersMark(ctx)
	if err != nil || mark == s.mark {
		return
	}
	teams, err := l.st.ListTeams(ctx, "")
	if err != nil {
		return
	}
	users, _, err := l.st.ListUsers(ctx, "", 0, 0)
	if err != nil {
		return
	}
	seenT := applyRows(ctx, l, teams, ownerKind[store.Team]{
		id: func(t *store.Team) string { return t.TeamID }, limits: func(t *store.Team) *store.Limits { return &t.Limits },
		get: l.team, put: l.putTeam, owner: store.TeamOwner, budget: teamBudget})
	seenU := applyRows(ctx, l, users, ownerKind[store.User]{
		id: func(u *store.User) string { return u.UserID }, limits: func(u *store.User) *store.Limits { return &u.Limits },
		get: l.user, put: l.putUser, owner: store.UserOwner, budget: userBudget})
	l.tu.mu.Lock()
	var gone []string
	for id := range l.tu.teams {
		if !seenT[id] {
			delete(l.tu.teams, id)
			gone = append(gone, teamBudget(id))
		}
	}
	for id := range l.tu.users {
		if !seenU[id] {
			delete(l.tu.users, id)
			gone = append(gone, userBudget(id))
		}
	}
	l.tu.mu.Unlock()
	for _, id := range gone {
		l.forgetBudget(id)
	}
	if l.loadMembers(ctx) != nil { // member budgets' caps (members.go); read again next time
		return
	}
	s.mark = mark
}

// followLimits moves budget id to a row another process changed: a new duration starts a new
// window, a new max_budget applies with the spend kept.
func (l *Ledger) followLimits(id string, old, lim store.Limits) {
	oldDur, _ := budget.ParseOptionalDuration(old.BudgetDuration)
	d, _ := budget.ParseOptionalDuration(lim.BudgetDuration)
	switch {
	case !sameDuration(oldDur, d):
		l.bl.SetBudget(id, lim.MaxBudget, 0, nil, d)
	case !sameLimit(old.MaxBudget, lim.MaxBudget):
		l.bl.SetLimit(id, lim.MaxBudget)
	}
}

func sameLimit(a, b *float64) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// ownerKind is how applyRows reaches a team's or a user's fields.
type ownerKind[T any] struct {
	id     func(*T) string
	limits func(*T) *store.Limits
	get    func(string) (T, bool)
	put    func(T)
	owner  func(string) store.Owner
	budget func(string) string
}

// applyRows puts rows read from the store in memory (the spend and window stay the ledger's) and
// returns their ids.
func applyRows[T any](ctx context.Context, l *Ledger, rows []T, k ownerKind[T]) map[string]bool {
	seen := map[string]bool{}
	for _, r := range rows {
		id, lim := k.id(&r), k.limits(&r)
		seen[id] = true
		old, known := k.get(id)
		if !known {
			k.put(r)
			_ = l.adoptLimits(ctx, k.owner(id), k.budget(id), *lim)
			continue
		}
		ol := k.limits(&old)
		lim.Spend, lim.SpendSince, lim.BudgetResetAt = ol.Spend, ol.SpendSince, ol.BudgetResetAt
		k.put(r)
		l.followLimits(k.budget(id), *ol, *lim)
	}
	return seen
}
