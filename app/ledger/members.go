package ledger

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/clawgate/clawgate/app/budget"
	"github.com/clawgate/clawgate/app/store"
)

// LiteLLM's team member budgets: what one user spends through the team's keys the user owns
// (key.team_id = T and key.user_id = U) is capped by the team's team_member_budget (over its
// team_member_budget_duration), or by the member's own max_budget_in_team. A key of no user (a
// service account) has no member budget; the team's budget still caps every member together.
//
// A member budget is one more budget of the request, "member:<team>/<user>" (each part
// path-escaped, so no two members share an id, and no key, team or user id starts so), held and
// settled with the key's, team's and user's in both modes: in shared mode it is a row of the
// budgets table like theirs. It enters the budget ledger the first time a request (or /team/info)
// needs it, with the spend of its window taken from the spend logs, as a team's is at start;
// its window is persisted in member_budgets when it resets.
type memberState struct {
	mu   sync.RWMutex
	rows map[memberRef]store.MemberBudget // member_budgets, by team and user ("" user: the default)
	ids  map[string]memberRef             // budget ids in the budget ledger
	// adopt serialises adoptions, so that two requests do not both read the logs of one member.
	adopt sync.Mutex
}

type memberRef struct{ team, user string }

const memberPrefix = "member:"

func memberBudget(team, user string) string {
	return memberPrefix + url.PathEscape(team) + "/" + url.PathEscape(user)
}

// loadMembers reads member_budgets (at Open and when another process changed it) and applies the
// caps and durations to the member budgets in the budget ledger.
func (l *Ledger) loadMembers(ctx context.Context) error {
	rows, err := l.st.MemberBudgets(ctx)
	if err != nil {
		return fmt.Errorf("ledger: load member budgets: %w", err)
	}
	m := &l.tu.mb
	m.mu.Lock()
	m.rows = make(map[memberRef]store.MemberBudget, len(rows))
	for _, r := range rows {
		m.rows[memberRef{r.TeamID, r.UserID}] = r
	}
	if m.ids == nil {
		m.ids = map[string]memberRef{}
	}
	var gone []string
	for id, r := range m.ids {
		if _, ok := l.team(r.team); !ok { // deleted, maybe by another process: a new team of its id starts afresh
			delete(m.ids, id)
			gone = append(gone, id)
		}
	}
	m.mu.Unlock()
	for _, id := range gone {
		l.forgetBudget(id)
	}
	l.refreshMembers("")
	return nil
}

// memberLimit is the cap and window of user's budget in team: the member's max_budget_in_team,
// else the team's team_member_budget; ok is false when neither is set.
func (l *Ledger) memberLimit(team, user string) (limit *float64, d *budget.Duration, ok bool) {
	m := &l.tu.mb
	m.mu.RLock()
	def, own := m.rows[memberRef{team, ""}], m.rows[memberRef{team, user}]
	m.mu.RUnlock()
	d, _ = budget.ParseOptionalDuration(def.BudgetDuration) // checked when set
	limit = def.MaxBudget
	if own.MaxBudget != nil {
		limit = own.MaxBudget
	}
	return copyFloat(limit), d, limit != nil
}

// memberIDs is the member budget of key k's request: none for a key without a team or a user,
// or when its team sets no member budget. It adopts the budget on first use; an error means the
// budget could not be read, and the request must not go through unmetered.
func (l *Ledger) memberIDs(ctx context.Context, k store.Key) ([]string, error) {
	if k.TeamID == "" || k.UserID == "" {
		return nil, nil
	}
	if _, ok := l.team(k.TeamID); !ok {
		return nil, nil
	}
	id := memberBudget(k.TeamID, k.UserID)
	_, _, capped := l.memberLimit(k.TeamID, k.UserID)
	if !capped && !l.memberKnown(id) {
		return nil, nil
	}
	if err := l.adoptMember(ctx, k.TeamID, k.UserID); err != nil {
		return nil, &budgetUnavailable{"Budgets cannot be checked: the team member budget of User=" + k.UserID +
			" in Team=" + k.TeamID + " cannot be read (" + err.Error() + "); retry shortly."}
	}
	return []string{id}, nil
}

func (l *Ledger) memberKnown(id string) bool {
	l.tu.mb.mu.RLock()
	defer l.tu.mb.mu.RUnlock()
	_, ok := l.tu.mb.ids[id]
	return ok
}

// adoptMember puts user's budget in team in the budget ledger, once: its window is the stored one
// (or a new one, stored now), its spend the stored spend plus the logs since the window began.
func (l *Ledger) adoptMember(ctx context.Context, team, user string) error {
	id := memberBudget(team, user)
	if l.memberKnown(id) {
		return nil
	}
	m := &l.tu.mb
	m.adopt.Lock()
	defer m.adopt.Unlock()
	if l.memberKnown(id) {
		return nil
	}
	// Rows still queued are spend of the member not yet in the logs.
	if err := l.w.Flush(ctx); err != nil {
		return err
	}
	limit, d, _ := l.memberLimit(team, user)
	m.mu.RLock()
	row := m.rows[memberRef{team, user}]
	m.mu.RUnlock()
	t, _ := l.team(team)
	since, base := t.CreatedAt, 0.0
	if row.SpendSince != nil {
		since, base = *row.SpendSince, row.Spend
	}
	resetAt := row.BudgetResetAt
	if d != nil {
		if resetAt == nil {
			r := budget.NextReset(*d, l.now(), l.loc)
			resetAt = &r
			if err := l.st.SetMemberSpend(ctx, team, user, 0, budget.WindowStart(*d, r, l.loc), resetAt); err != nil {
				return err
			}
		}
		if ws := budget.WindowStart(*d, *resetAt, l.loc); ws.After(since) {
			since, base = ws, 0 // the stored spend belonged to a window that has ended
		}
	}
	logged, err := l.st.MemberSpendSince(ctx, team, user, since)
	if err != nil {
		return err
	}
	l.bl.SetBudget(id, limit, base+logged, resetAt, d)
	l.markCrossed(id, d)
	m.mu.Lock()
	m.ids[id] = memberRef{team, user}
	m.mu.Unlock()
	return nil
}

// refreshMembers moves the member budgets of team ("": every team) to their caps and durations
// now: a new duration starts a new window (stored by onReset), a new cap keeps the spend.
func (l *Ledger) refreshMembers(team string) {
	m := &l.tu.mb
	m.mu.RLock()
	var refs []memberRef
	for _, r := range m.ids {
		if team == "" || r.team == team {
			refs = append(refs, r)
		}
	}
	m.mu.RUnlock()
	for _, r := range refs {
		id := memberBudget(r.team, r.user)
		limit, d, _ := l.memberLimit(r.team, r.user)
		st, ok := l.bl.State(id)
		switch {
		case !ok:
		case !sameDuration(st.Duration, d):
			l.bl.SetBudget(id, limit, 0, nil, d)
		default:
			l.bl.SetLimit(id, limit)
		}
	}
}

// memberOf is the team and user of a member budget id.
func (l *Ledger) memberOf(id string) (memberRef, bool) {
	if !strings.HasPrefix(id, memberPrefix) {
		return memberRef{}, false
	}
	l.tu.mb.mu.RLock()
	defer l.tu.mb.mu.RUnlock()
	r, ok := l.tu.mb.ids[id]
	return r, ok
}

// memberBudgets is the member budget key k's spend goes to (for spend recorded without a
// reservation): the one in the budget ledger, if any.
func (l *Ledger) memberBudgets(k store.Key) []string {
	if k.TeamID == "" || k.UserID == "" {
		return nil
	}
	if id := memberBudget(k.TeamID, k.UserID); l.memberKnown(id) {
		return []string{id}
	}
	return nil
}

// resetMember persists a new window of a member budget; false for other budgets.
func (l *Ledger) resetMember(ctx context.Context, e budget.ResetEvent, since time.Time) bool {
	r, ok := l.memberOf(e.ID)
	if !ok {
		return false
	}
	if err := l.st.SetMemberSpend(ctx, r.team, r.user, 0, since, e.ResetAt); err != nil {
		l.log.Warn("ledger: could not store a budget reset; it is redone at the next start", "budget", e.ID, "err", err)
	}
	m := &l.tu.mb
	m.mu.Lock()
	row := m.rows[r]
	row.TeamID, row.UserID, row.Spend, row.SpendSince, row.BudgetResetAt = r.team, r.user, 0, &since, copyTime(e.ResetAt)
	m.rows[r] = row
	m.mu.Unlock()
	return true
}

// memberView describes a member budget for refusals, events and webhooks.
func (l *Ledger) memberView(id string) (ownerView, bool) {
	r, ok := l.memberOf(id)
	if !ok {
		return ownerView{}, false
	}
	limit, _, _ := l.memberLimit(r.team, r.user)
	u, _ := l.user(r.user)
	return ownerView{kind: "member", id: r.user, team: r.team, alias: u.UserAlias, limit: limit}, true
}

// forgetMembers drops a deleted team's member budgets.
func (l *Ledger) forgetMembers(ctx context.Context, team string) error {
	m := &l.tu.mb
	m.mu.Lock()
	var gone []string
	for id, r := range m.ids {
		if r.team == team {
			delete(m.ids, id)
			gone = append(gone, id)
		}
	}
	for r := range m.rows {
		if r.team == team {
			delete(m.rows, r)
		}
	}
	m.mu.Unlock()
	for _, id := range gone {
		l.forgetBudget(id)
	}
	return l.st.DeleteMemberBudgets(ctx, team)
}

// setMemberRow writes a row's cap (and the default's duration) and applies it.
func (l *Ledger) setMemberRow(ctx context.Context, team, user string, limit *float64, duration string) error {
	if err := l.st.SetMemberBudget(ctx, team, user, limit, duration); err != nil {
		return fmt.Errorf("could not store the team member budget: %w", err)
	}
	m := &l.tu.mb
	m.mu.Lock()
	r := memberRef{team, user}
	row := m.rows[r]
	row.TeamID, row.UserID, row.MaxBudget, row.BudgetDuration = team, user, copyFloat(limit), duration
	m.rows[r] = row
	m.mu.Unlock()
	l.refreshMembers(team)
	return nil
}
