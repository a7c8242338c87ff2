package ledger

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/clawgate/clawgate/app/budget"
	"github.com/clawgate/clawgate/app/store"
)

// A key's team and its user (LiteLLM's internal user) each have a budget and rate limits that
// hold over all their keys together: a request reserves on the key's budget, its user's, its
// team's and the proxy's at once (Admit), and takes a rate-limit slot on each. Their budgets live
// in the same budget ledger as keys', under the ids "team:<team_id>" and "user:<user_id>".
//
// Teams and users are loaded at Open, changed through the ledger's own operations, and what other
// processes on the same database change is applied within a second (ownersync.go).
type owners struct {
	mu    sync.RWMutex
	teams map[string]*store.Team
	users map[string]*store.User
	sync  ownerSync   // what other processes changed (ownersync.go)
	mb    memberState // team member budgets (members.go)
}

const (
	teamPrefix = "team:"
	userPrefix = "user:"
)

func teamBudget(id string) string { return teamPrefix + id }
func userBudget(id string) string { return userPrefix + id }

// loadOwners puts every team and user in memory with its budget.
func (l *Ledger) loadOwners(ctx context.Context) error {
	l.tu.mu.Lock()
	l.tu.teams, l.tu.users = map[string]*store.Team{}, map[string]*store.User{}
	l.tu.mu.Unlock()
	// Read before the rows: a change made while they load is applied again, never missed.
	mark, err := l.st.OwnersMark(ctx)
	if err != nil {
		return fmt.Errorf("ledger: load teams: %w", err)
	}
	l.tu.sync.mark = mark
	teams, err := l.st.ListTeams(ctx, "")
	if err != nil {
		return fmt.Errorf("ledger: load teams: %w", err)
	}
	for _, t := range teams {
		l.putTeam(t)
		if err := l.adoptLimits(ctx, store.TeamOwner(t.TeamID), teamBudget(t.TeamID), t.Limits); err != nil {
			return err
		}
	}
	users, _, err := l.st.ListUsers(ctx, "", 0, 0)
	if err != nil {
		return fmt.Errorf("ledger: load users: %w", err)
	}
	for _, u := range users {
		l.putUser(u)
		if err := l.adoptLimits(ctx, store.UserOwner(u.UserID), userBudget(u.UserID), u.Limits); err != nil {
			return err
		}
	}
	return l.loadMembers(ctx)
}

func (l *Ledger) putTeam(t store.Team) {
	l.tu.mu.Lock()
	l.tu.teams[t.TeamID] = &t
	l.tu.mu.Unlock()
}

func (l *Ledger) putUser(u store.User) {
	l.tu.mu.Lock()
	l.tu.users[u.UserID] = &u
	l.tu.mu.Unlock()
}

// team returns a copy of the team, if there is one.
func (l *Ledger) team(id string) (store.Team, bool) {
	if id == "" {
		return store.Team{}, false
	}
	l.tu.mu.RLock()
	defer l.tu.mu.RUnlock()
	if t := l.tu.teams[id]; t != nil {
		return *t, true
	}
	return store.Team{}, false
}

// user returns a copy of the user, if there is one.
func (l *Ledger) user(id string) (store.User, bool) {
	if id == "" {
		return store.User{}, false
	}
	l.tu.mu.RLock()
	defer l.tu.mu.RUnlock()
	if u := l.tu.users[id]; u != nil {
		return *u, true
	}
	return store.User{}, false
}

// adoptLimits sets up a team's or user's budget from its row (already in memory): the spend of its current window is
// the row's spend (when it was set in this window) plus its logs since, and a window that ended
// while Clawgate was stopped rolls over now.
func (l *Ledger) adoptLimits(ctx context.Context, o store.Owner, id string, lim store.Limits) error {
	d, err := budget.ParseOptionalDuration(lim.BudgetDuration)
	if err != nil {
		l.log.Warn("ledger: a budget_duration is unreadable; it is treated as never resetting", "budget", id, "err", err)
	}
	since, base := lim.CreatedAt, lim.Spend
	if lim.SpendSince != nil {
		since = *lim.SpendSince
	}
	resetAt := lim.BudgetResetAt
	if d != nil && resetAt == nil {
		r := budget.NextReset(*d, l.now(), l.loc)
		resetAt = &r
	}
	if d != nil {
		if ws := budget.WindowStart(*d, *resetAt, l.loc); ws.After(since) {
			since, base = ws, 0 // the set spend belonged to a window that has ended
		}
	}
	logged, err := l.st.OwnerSpendSince(ctx, o, since)
	if err != nil {
		return fmt.Errorf("ledger: load %s: %w", id, err)
	}
	l.bl.SetBudget(id, lim.MaxBudget, base+logged, resetAt, d)
	l.markCrossed(id, d) // thresholds crossed before the restart do not alert again
	return nil
}

// resetOwner persists a new window of a team's or user's budget; false for other budgets.
func (l *Ledger) resetOwner(ctx context.Context, e budget.ResetEvent, since time.Time) bool {
	var o store.Owner
	switch {
	case strings.HasPrefix(e.ID, teamPrefix):
		o = store.TeamOwner(strings.TrimPrefix(e.ID, teamPrefix))
	case strings.HasPrefix(e.ID, userPrefix):
		o = store.UserOwner(strings.TrimPrefix(e.ID, userPrefix))
	default:
		return false
	}
	if err := l.st.SetOwnerSpend(ctx, o, 0, since, e.ResetAt); err != nil {
		l.log.Warn("ledger: could not store a budget reset; it is redone at the next start", "budget", e.ID, "err", err)
	}
	l.tu.mu.Lock()
	var lim *store.Limits
	if tid, ok := strings.CutPrefix(e.ID, teamPrefix); ok && l.tu.teams[tid] != nil {
		lim = &l.tu.teams[tid].Limits
	} else if uid, ok := strings.CutPrefix(e.ID, userPrefix); ok && l.tu.users[uid] != nil {
		lim = &l.tu.users[uid].Limits
	}
	if lim != nil {
		lim.Spend, lim.SpendSince, lim.BudgetResetAt = 0, &since, copyTime(e.ResetAt)
	}
	l.tu.mu.Unlock()
	return true
}

// ownerView describes a team's or user's budget for refusals, events and webhooks.
type ownerView struct {
	kind  string // "team", "user" or "member" (a user's budget in a team)
	id    string // the team's or user's id
	team  string // a member's team
	alias string // team_alias or user_alias; "" when unset
	soft  *float64
	limit *float64
}

// name is how people know it: its alias, else its id.
func (o ownerView) name() string {
	if o.alias != "" {
		return o.alias
	}
	return o.id
}

func (o ownerView) who() string {
	switch o.kind {
	case "team":
		return "Team " + o.name()
	case "member":
		return "User " + o.name() + " in Team " + o.team
	}
	return "User " + o.name()
}

// budgetOwner describes budget id when it is a team's or a user's.
func (l *Ledger) budgetOwner(id string) (ownerView, bool) {
	if tid, ok := strings.CutPrefix(id, teamPrefix); ok {
		if t, ok := l.team(tid); ok {
			return ownerView{kind: "team", id: tid, alias: t.TeamAlias, soft: t.SoftBudget, limit: t.MaxBudget}, true
		}
	}
	if uid, ok := strings.CutPrefix(id, userPrefix); ok {
		if u, ok := l.user(uid); ok {
			return ownerView{kind: "user", id: uid, alias: u.UserAlias, soft: u.SoftBudget, limit: u.MaxBudget}, true
		}
	}
	return l.memberView(id)
}

// details names the budget in a refusal's details: its kind and id ("team_id", "user_id"; a
// member budget: "team_member" with both).
func (o ownerView) details(d map[string]any) {
	if o.kind == "member" {
		d["budget"], d["team_id"], d["user_id"], d["user_alias"] = "team_member", o.team, o.id, nilIfEmpty(o.alias)
		return
	}
	d["budget"], d[o.kind+"_id"], d[o.kind+"_alias"] = o.kind, o.id, nilIfEmpty(o.alias)
}

// litellmWording is LiteLLM's own sentence for an exhausted team or user budget, kept in the
// message for tools that look for it.
func (o ownerView) litellmWording(spend, limit float64) string {
	switch o.kind {
	case "team":
		return fmt.Sprintf("Budget has been exceeded! Team=%s Current cost: %s, Max budget: %s", o.id, trimFloat(spend), trimFloat(limit))
	case "member":
		return fmt.Sprintf("Budget has been exceeded! User=%s in Team=%s Current cost: %s, Max budget: %s", o.id, o.team,
			trimFloat(spend), trimFloat(limit))
	}
	return fmt.Sprintf("ExceededBudget: User=%s over budget. Spend=%s, Budget=%s", o.id, trimFloat(spend), trimFloat(limit))
}

// teamBlockedError is the 401 for a key of a blocked team.
type teamBlockedError struct{ authError }

// teamUsable refuses a key whose team is blocked.
func (l *Ledger) teamUsable(k store.Key) error {
	if t, ok := l.team(k.TeamID); ok && t.Blocked {
		return &teamBlockedError{authError{fmt.Sprintf(
			"Authentication Error - Team=%s is blocked. Update via /team/unblock if you're an admin.", t.TeamID)}}
	}
	return nil
}

// keyModels is what a key may call: its own models, else its team's, else (a key of no team) its
// user's. Empty means every model.
func (l *Ledger) keyModels(k store.Key) []string {
	if len(k.Models) > 0 {
		return append([]string(nil), k.Models...)
	}
	if t, ok := l.team(k.TeamID); ok {
		return append([]string(nil), t.Models...)
	}
	if u, ok := l.user(k.UserID); ok && k.TeamID == "" {
		return append([]string(nil), u.Models...)
	}
	return nil
}

// modelListed reports whether a team's or user's model list allows model: an empty list allows
// every model; entries are names, "*", "all-proxy-models" or a "prefix/*" pattern.
func modelListed(list []string, model string) bool {
	if len(list) == 0 {
		return true
	}
	for _, m := range list {
		switch {
		case m == model, m == "*", m == "all-proxy-models":
			return true
		case strings.HasSuffix(m, "*") && strings.HasPrefix(model, strings.TrimSuffix(m, "*")):
			return true
		}
	}
	return false
}

// teamModelDenied is LiteLLM's 401 for a model outside the key's team's models.
type teamModelDenied struct{ msg string }

func (e *teamModelDenied) Error() string { return e.msg }

func (e *teamModelDenied) HTTPStatus() (int, string, time.Duration, map[string]any) {
	return http.StatusUnauthorized, "team_model_access_denied", 0, nil
}

// admitOwners admits a key's request on its team and user: the team must allow model, and each
// takes a slot under its rpm/tpm/parallel limits. It returns their budget ids (team first: its
// refusal is the one reported when both are spent) and how to free the slots.
func (l *Ledger) admitOwners(k store.Key, model string, estTokens int64) ([]string, func(int64), error) {
	type limited struct {
		id, who string
		lim     store.Limits
	}
	var ls []limited
	if t, ok := l.team(k.TeamID); ok {
		if model != "" && !modelListed(t.Models, model) {
			return nil, nil, &teamModelDenied{fmt.Sprintf("Team not allowed to access model. Team=%s, Model=%s. Allowed team models = %v",
				t.TeamID, model, t.Models)}
		}
		ls = append(ls, limited{teamBudget(t.TeamID), "team " + t.TeamID, t.Limits})
	}
	if u, ok := l.user(k.UserID); ok {
		ls = append(ls, limited{userBudget(u.UserID), "user " + u.UserID, u.Limits})
	}
	var ids []string
	var releases []func(int64)
	release := func(n int64) {
		for _, r := range releases {
			r(n)
		}
	}
	for _, o := range ls {
		if l.shared != nil { // the database counts their limits with the budgets (shared.go)
			ids = append(ids, o.id)
			continue
		}
		r, retry, err := l.lim.Acquire(o.id, o.lim.RPMLimit, o.lim.TPMLimit, o.lim.MaxParallelRequests, estTokens)
		if err != nil {
			release(0)
			return nil, nil, limitError(o.who, err, retry)
		}
		releases = append(releases, r)
		ids = append(ids, o.id)
	}
	return ids, release, nil
}

// ownerBudgets are the budget ids of a key's team, user and member budget, for spend recorded
// without a reservation.
func (l *Ledger) ownerBudgets(k store.Key) []string {
	ids := l.memberBudgets(k)
	if k.TeamID != "" {
		ids = append(ids, teamBudget(k.TeamID))
	}
	if k.UserID != "" {
		ids = append(ids, userBudget(k.UserID))
	}
	return ids
}

// checkKeyTeam refuses a key request (on top of key k as it is; zero for a new key) whose team
// does not exist, or that asks for models its team does not allow, as LiteLLM does.
func (l *Ledger) checkKeyTeam(ctx context.Context, q KeyRequest, k store.Key) error {
	if q.TeamID == nil && q.Models == nil {
		return nil
	}
	l.syncOwners(ctx)
	q.apply(&k)
	if k.TeamID == "" {
		return nil
	}
	t, ok := l.team(k.TeamID)
	if !ok {
		return invalid("Team doesn't exist in db. Team=%s. Create team via `/team/new` call.", k.TeamID)
	}
	for _, m := range k.Models {
		if !modelListed(t.Models, m) {
			return invalid("Model '%s' not in team's allowed models. Team allowed models=%v. Team: %s", m, t.Models, t.TeamID)
		}
	}
	return nil
}
