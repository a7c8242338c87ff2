package ledger

import (
	"context"
	"fmt"
	"net/url"
	"slices"
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
		l.bl.Remove(id)
		l.alert.Forget(id)
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
		l.bl.Remove(id)
		l.alert.Forget(id)
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

// TeamMemberBudget is a team's default member budget: team_member_budget (nil: none) and
// team_member_budget_duration ("": never resets).
func (l *Ledger) TeamMemberBudget(team string) (*float64, string) {
	l.tu.mb.mu.RLock()
	defer l.tu.mb.mu.RUnlock()
	def := l.tu.mb.rows[memberRef{team, ""}]
	return copyFloat(def.MaxBudget), def.BudgetDuration
}

// MemberBudgetRequest is the member-budget part of LiteLLM's NewTeamRequest / UpdateTeamRequest.
type MemberBudgetRequest struct {
	TeamMemberBudget         *float64 `json:"team_member_budget"`
	TeamMemberBudgetDuration *string  `json:"team_member_budget_duration"`
}

// checkMemberBudget checks the fields that are set.
func (q MemberBudgetRequest) checkMemberBudget() error {
	if q.TeamMemberBudget != nil && !(*q.TeamMemberBudget >= 0) {
		return invalid("team_member_budget must be a number >= 0, got %v.", *q.TeamMemberBudget)
	}
	if q.TeamMemberBudgetDuration != nil {
		if _, err := budget.ParseOptionalDuration(strings.TrimSpace(*q.TeamMemberBudgetDuration)); err != nil {
			return invalid("team_member_budget_duration: %v", err)
		}
	}
	return nil
}

// setMemberBudget writes the fields of q that are set on team's default.
func (q MemberBudgetRequest) setMemberBudget(ctx context.Context, l *Ledger, team string) error {
	if q.TeamMemberBudget == nil && q.TeamMemberBudgetDuration == nil {
		return nil
	}
	limit, dur := l.TeamMemberBudget(team)
	if q.TeamMemberBudget != nil {
		limit = q.TeamMemberBudget
	}
	if q.TeamMemberBudgetDuration != nil {
		dur = strings.TrimSpace(*q.TeamMemberBudgetDuration)
	}
	return l.setMemberRow(ctx, team, "", limit, dur)
}

// validMaxInTeam checks a max_budget_in_team.
func validMaxInTeam(v *float64) error {
	if v != nil && !(*v >= 0) {
		return invalid("max_budget_in_team must be a number >= 0, got %v.", *v)
	}
	return nil
}

// setMaxInTeam stores the max_budget_in_team of the members that set one.
func (l *Ledger) setMaxInTeam(ctx context.Context, team string, ms []MemberRequest) error {
	for _, m := range ms {
		if m.MaxBudgetInTeam == nil {
			continue
		}
		sm, err := m.member()
		if err != nil {
			return err
		}
		if err := l.setMemberRow(ctx, team, sm.UserID, m.MaxBudgetInTeam, ""); err != nil {
			return err
		}
	}
	return nil
}

// dropMaxInTeam forgets a removed member's max_budget_in_team: keys of the team the user still
// owns fall under the team's default.
func (l *Ledger) dropMaxInTeam(ctx context.Context, team, user string) error {
	l.tu.mb.mu.RLock()
	own := l.tu.mb.rows[memberRef{team, user}].MaxBudget
	l.tu.mb.mu.RUnlock()
	if own == nil {
		return nil
	}
	return l.setMemberRow(ctx, team, user, nil, "")
}

// dropMaxInTeams forgets a deleted user's max_budget_in_team in every team: a new user of the
// same id starts under the teams' defaults.
func (l *Ledger) dropMaxInTeams(ctx context.Context, user string) error {
	l.tu.mb.mu.RLock()
	var teams []string
	for r, row := range l.tu.mb.rows {
		if r.user == user && row.MaxBudget != nil {
			teams = append(teams, r.team)
		}
	}
	l.tu.mb.mu.RUnlock()
	for _, team := range teams {
		if err := l.dropMaxInTeam(ctx, team, user); err != nil {
			return err
		}
	}
	return nil
}

// MemberUpdate is LiteLLM's TeamMemberUpdateRequest.
type MemberUpdate struct {
	TeamID string `json:"team_id"`
	MemberRequest
}

// MemberUpdated is LiteLLM's TeamMemberUpdateResponse.
type MemberUpdated struct {
	TeamID          string   `json:"team_id"`
	UserID          string   `json:"user_id"`
	UserEmail       *string  `json:"user_email"`
	MaxBudgetInTeam *float64 `json:"max_budget_in_team"`
}

// UpdateTeamMember changes a member's role (when set) and max_budget_in_team (when set: it
// overrides the team's team_member_budget for this member).
func (l *Ledger) UpdateTeamMember(ctx context.Context, q MemberUpdate) (MemberUpdated, error) {
	t, ok := l.team(strings.TrimSpace(q.TeamID))
	if !ok {
		return MemberUpdated{}, teamMissing(q.TeamID)
	}
	if err := validMaxInTeam(q.MaxBudgetInTeam); err != nil {
		return MemberUpdated{}, err
	}
	sm, err := q.member()
	if err != nil {
		return MemberUpdated{}, err
	}
	ms, err := l.st.Members(ctx, t.TeamID)
	if err != nil {
		return MemberUpdated{}, err
	}
	i := slices.IndexFunc(ms, func(x store.Member) bool {
		return x.UserID == sm.UserID || (q.UserID == nil && sm.UserEmail != "" && x.UserEmail == sm.UserEmail)
	})
	if i < 0 {
		return MemberUpdated{}, invalid("User=%s is not a member of team=%s. Add them via /team/member_add.", sm.UserID, t.TeamID)
	}
	cur := ms[i]
	if q.Role != "" && q.Role != cur.Role {
		if err := l.st.AddMembers(ctx, t.TeamID, []store.Member{{UserID: cur.UserID, Role: sm.Role}}); err != nil {
			return MemberUpdated{}, fmt.Errorf("could not update the member: %w", err)
		}
	}
	if q.MaxBudgetInTeam != nil {
		if err := l.setMemberRow(ctx, t.TeamID, cur.UserID, q.MaxBudgetInTeam, ""); err != nil {
			return MemberUpdated{}, err
		}
	}
	l.tu.mb.mu.RLock()
	own := copyFloat(l.tu.mb.rows[memberRef{t.TeamID, cur.UserID}].MaxBudget)
	l.tu.mb.mu.RUnlock()
	return MemberUpdated{TeamID: t.TeamID, UserID: cur.UserID, UserEmail: nilIfEmpty(cur.UserEmail), MaxBudgetInTeam: own}, nil
}

// MemberBudgetInfo is one membership's budget as /team/info shows it.
type MemberBudgetInfo struct {
	BudgetID  string // "" when the member has no budget
	MaxBudget *float64
	Duration  string
	Spend     float64 // in the window
	ResetAt   *time.Time
}

// TeamMemberBudgetInfo is user's budget in team with its live spend; ok is false when there is none.
func (l *Ledger) TeamMemberBudgetInfo(ctx context.Context, team, user string) (MemberBudgetInfo, bool, error) {
	limit, d, capped := l.memberLimit(team, user)
	id := memberBudget(team, user)
	if !capped && !l.memberKnown(id) {
		return MemberBudgetInfo{}, false, nil
	}
	if err := l.adoptMember(ctx, team, user); err != nil {
		return MemberBudgetInfo{}, false, err
	}
	spend, reserved, resetAt := l.bl.Spend(id)
	spend, _ = l.sharedView(ctx, id, spend, reserved)
	return MemberBudgetInfo{BudgetID: id, MaxBudget: limit, Duration: durString(d), Spend: spend, ResetAt: resetAt}, true, nil
}

// membershipObject is LiteLLM's LiteLLM_TeamMembership: spend is the member's budget window's
// when it has a budget (litellm_budget_table), else logged (the member's spend on the team's keys).
func (l *Ledger) membershipObject(ctx context.Context, team, user string, logged float64) (map[string]any, error) {
	out := map[string]any{"team_id": team, "user_id": user, "spend": logged, "budget_id": nil, "litellm_budget_table": nil}
	b, ok, err := l.TeamMemberBudgetInfo(ctx, team, user)
	if err != nil || !ok {
		return out, err
	}
	out["spend"], out["budget_id"] = b.Spend, b.BudgetID
	out["litellm_budget_table"] = map[string]any{"budget_id": b.BudgetID, "max_budget": b.MaxBudget, "soft_budget": nil,
		"budget_duration": nilIfEmpty(b.Duration), "budget_reset_at": timeJSON(b.ResetAt), "tpm_limit": nil, "rpm_limit": nil,
		"max_parallel_requests": nil, "model_max_budget": nil}
	return out, nil
}
