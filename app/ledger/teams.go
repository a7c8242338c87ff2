package ledger

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/clawgate/clawgate/app/budget"
	"github.com/clawgate/clawgate/app/store"
)

// LimitsRequest is the budget and access part of LiteLLM's team and user requests (NewTeamRequest,
// NewUserRequest and their updates). Absent and null fields are nil: an update changes only what
// is set.
type LimitsRequest struct {
	Models              *[]string      `json:"models"`
	MaxBudget           *float64       `json:"max_budget"`
	SoftBudget          *float64       `json:"soft_budget"`
	BudgetDuration      *string        `json:"budget_duration"`
	Metadata            map[string]any `json:"metadata"`
	TPMLimit            *int64         `json:"tpm_limit"`
	RPMLimit            *int64         `json:"rpm_limit"`
	MaxParallelRequests *int64         `json:"max_parallel_requests"`
}

// validate checks the fields as a key's are checked and returns the parsed budget_duration.
func (q *LimitsRequest) validate() (*budget.Duration, error) {
	kq := KeyRequest{Models: q.Models, MaxBudget: q.MaxBudget, SoftBudget: q.SoftBudget, BudgetDuration: q.BudgetDuration,
		TPMLimit: q.TPMLimit, RPMLimit: q.RPMLimit, MaxParallelRequests: q.MaxParallelRequests}
	v, msg := kq.validate()
	if msg != "" {
		return nil, invalid("%s", msg)
	}
	return v.budgetDur, nil
}

// apply sets the fields of q that are set on lim; budget_duration only as text (see setLimits).
func (q *LimitsRequest) apply(lim *store.Limits) {
	kq := KeyRequest{Models: q.Models, Metadata: q.Metadata, MaxBudget: q.MaxBudget, SoftBudget: q.SoftBudget,
		TPMLimit: q.TPMLimit, RPMLimit: q.RPMLimit, MaxParallelRequests: q.MaxParallelRequests}
	var k store.Key
	k.Models, k.Metadata, k.MaxBudget, k.SoftBudget = lim.Models, lim.Metadata, lim.MaxBudget, lim.SoftBudget
	k.TPMLimit, k.RPMLimit, k.MaxParallelRequests = lim.TPMLimit, lim.RPMLimit, lim.MaxParallelRequests
	kq.apply(&k)
	lim.Models, lim.Metadata, lim.MaxBudget, lim.SoftBudget = k.Models, k.Metadata, k.MaxBudget, k.SoftBudget
	lim.TPMLimit, lim.RPMLimit, lim.MaxParallelRequests = k.TPMLimit, k.RPMLimit, k.MaxParallelRequests
	if q.BudgetDuration != nil {
		lim.BudgetDuration = strings.TrimSpace(*q.BudgetDuration)
	}
}

// newLimits is the Limits of a new team or user: q's fields, its first window armed.
func (l *Ledger) newLimits(q *LimitsRequest, d *budget.Duration) store.Limits {
	now := l.now()
	lim := store.Limits{Models: []string{}, Metadata: map[string]any{}, CreatedAt: now, UpdatedAt: now}
	q.apply(&lim)
	if d == nil {
		lim.BudgetDuration = ""
	} else {
		r := budget.NextReset(*d, now, l.loc)
		lim.BudgetResetAt = &r
	}
	return lim
}

// setLimits moves budget id from old to lim after a write: a new budget_duration starts a new window
// at spend 0 (OnReset stores it), a new max_budget applies at once with the window's spend kept.
func (l *Ledger) setLimits(id string, old, lim store.Limits, q *LimitsRequest, d *budget.Duration) {
	oldDur, _ := budget.ParseOptionalDuration(old.BudgetDuration)
	switch {
	case q.BudgetDuration != nil && !sameDuration(oldDur, d):
		l.bl.SetBudget(id, lim.MaxBudget, 0, nil, d)
	case q.MaxBudget != nil:
		l.bl.SetLimit(id, lim.MaxBudget)
	}
}

// TeamRequest is LiteLLM's NewTeamRequest / UpdateTeamRequest as far as Clawgate acts on it.
type TeamRequest struct {
	TeamID           *string         `json:"team_id"`
	TeamAlias        *string         `json:"team_alias"`
	MembersWithRoles []MemberRequest `json:"members_with_roles"`
	Blocked          *bool           `json:"blocked"`
	LimitsRequest
	MemberBudgetRequest // team_member_budget, team_member_budget_duration (members.go)
}

// MemberRequest is LiteLLM's Member: a user (by id, or by email when new) and a role.
type MemberRequest struct {
	UserID    *string `json:"user_id"`
	UserEmail *string `json:"user_email"`
	Role      string  `json:"role"`
	// MaxBudgetInTeam overrides the team's team_member_budget for this member (members.go).
	MaxBudgetInTeam *float64 `json:"max_budget_in_team"`
}

// member turns m into a membership: its role must be LiteLLM's "admin" or "user" (default "user");
// a member named only by email gets that email as its user_id.
func (m MemberRequest) member() (store.Member, error) {
	var sm store.Member
	if m.UserID != nil {
		sm.UserID = strings.TrimSpace(*m.UserID)
	}
	if m.UserEmail != nil {
		sm.UserEmail = strings.TrimSpace(*m.UserEmail)
	}
	if sm.UserID == "" {
		sm.UserID = sm.UserEmail
	}
	if sm.UserID == "" {
		return sm, invalid("Either user_id or user_email must be provided for a team member.")
	}
	if err := validMaxInTeam(m.MaxBudgetInTeam); err != nil {
		return sm, err
	}
	sm.Role = m.Role
	switch sm.Role {
	case "":
		sm.Role = "user"
	case "admin", "user":
	default:
		return sm, invalid("Invalid role %q for team member %s: it must be \"admin\" or \"user\".", m.Role, sm.UserID)
	}
	return sm, nil
}

func members(ms []MemberRequest) ([]store.Member, error) {
	out := make([]store.Member, 0, len(ms))
	for _, m := range ms {
		sm, err := m.member()
		if err != nil {
			return nil, err
		}
		out = append(out, sm)
	}
	return out, nil
}

// newUUID is a random RFC 4122 version 4 id, as LiteLLM gives teams and users.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	x := hex.EncodeToString(b[:])
	return x[:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:]
}

// teamMissing is LiteLLM's 404 for an unknown team.
func teamMissing(id string) error {
	return missing(fmt.Sprintf("Team doesn't exist in db. Team=%s. Create team via `/team/new` call.", id))
}

// NewTeam creates a team (its id generated unless q.TeamID is set) with its members.
func (l *Ledger) NewTeam(ctx context.Context, q TeamRequest) (store.Team, error) {
	d, err := q.validate()
	if err != nil {
		return store.Team{}, err
	}
	ms, err := members(q.MembersWithRoles)
	if err != nil {
		return store.Team{}, err
	}
	if err := q.checkMemberBudget(); err != nil {
		return store.Team{}, err
	}
	t := store.Team{TeamID: newUUID(), Limits: l.newLimits(&q.LimitsRequest, d)}
	if q.TeamID != nil && strings.TrimSpace(*q.TeamID) != "" {
		t.TeamID = strings.TrimSpace(*q.TeamID)
	}
	if q.TeamAlias != nil {
		t.TeamAlias = strings.TrimSpace(*q.TeamAlias)
	}
	if q.Blocked != nil {
		t.Blocked = *q.Blocked
	}
	if err := l.st.CreateTeam(ctx, t, ms); err != nil {
		if errors.Is(err, store.ErrExists) {
			return store.Team{}, invalid("Team id = %s already exists. Please use a different team id.", t.TeamID)
		}
		return store.Team{}, fmt.Errorf("could not create the team: %w", err)
	}
	l.putTeam(t)
	l.bl.SetBudget(teamBudget(t.TeamID), t.MaxBudget, 0, t.BudgetResetAt, d)
	l.alert.Forget(teamBudget(t.TeamID))
	if err := l.addedUsers(ctx, ms); err != nil {
		return store.Team{}, err
	}
	if err := q.setMemberBudget(ctx, l, t.TeamID); err != nil {
		return store.Team{}, err
	}
	return t, l.setMaxInTeam(ctx, t.TeamID, q.MembersWithRoles)
}

// addedUsers loads the users that adding members created.
func (l *Ledger) addedUsers(ctx context.Context, ms []store.Member) error {
	for _, m := range ms {
		if _, ok := l.user(m.UserID); ok {
			continue
		}
		u, err := l.st.GetUser(ctx, m.UserID)
		if err != nil {
			return fmt.Errorf("could not read a new team member: %w", err)
		}
		l.putUser(u)
		l.bl.SetBudget(userBudget(u.UserID), nil, 0, nil, nil)
	}
	return nil
}

// TeamInfo returns the team and its members.
func (l *Ledger) TeamInfo(ctx context.Context, id string) (store.Team, []store.Member, error) {
	t, ok := l.team(strings.TrimSpace(id))
	if !ok {
		return store.Team{}, nil, teamMissing(id)
	}
	ms, err := l.st.Members(ctx, t.TeamID)
	if err != nil {
		return store.Team{}, nil, err
	}
	return t, ms, nil
}

// Teams lists every team, or those userID is a member of.
func (l *Ledger) Teams(ctx context.Context, userID string) ([]store.Team, error) {
	ts, err := l.st.ListTeams(ctx, userID)
	if err != nil {
		return nil, err
	}
	for i, t := range ts {
		if m, ok := l.team(t.TeamID); ok {
			ts[i] = m // memory has the live window
		}
	}
	return ts, nil
}

// UpdateTeam changes the fields of q that are set on the team q.TeamID (members excepted: use
// AddTeamMembers and RemoveTeamMember).
func (l *Ledger) UpdateTeam(ctx context.Context, q TeamRequest) (store.Team, error) {
	if q.TeamID == nil || strings.TrimSpace(*q.TeamID) == "" {
		return store.Team{}, invalid("team_id is required.")
	}
	d, err := q.validate()
	if err != nil {
		return store.Team{}, err
	}
	if err := q.checkMemberBudget(); err != nil {
		return store.Team{}, err
	}
	old, ok := l.team(strings.TrimSpace(*q.TeamID))
	if !ok {
		return store.Team{}, teamMissing(*q.TeamID)
	}
	t := old
	q.apply(&t.Limits)
	if q.BudgetDuration != nil && d == nil {
		t.BudgetDuration, t.BudgetResetAt = "", nil
	}
	if q.TeamAlias != nil {
		t.TeamAlias = strings.TrimSpace(*q.TeamAlias)
	}
	if q.Blocked != nil {
		t.Blocked = *q.Blocked
	}
	t.UpdatedAt = l.now()
	if err := l.st.UpdateTeam(ctx, t); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return store.Team{}, teamMissing(t.TeamID)
		}
		return store.Team{}, fmt.Errorf("could not update the team: %w", err)
	}
	l.putTeam(t)
	l.setLimits(teamBudget(t.TeamID), old.Limits, t.Limits, &q.LimitsRequest, d)
	if err := q.setMemberBudget(ctx, l, t.TeamID); err != nil {
		return store.Team{}, err
	}
	t, _ = l.team(t.TeamID)
	return t, nil
}

// SetTeamBlocked blocks or unblocks a team: the keys of a blocked team are refused with a 401.
func (l *Ledger) SetTeamBlocked(ctx context.Context, id string, blocked bool) (store.Team, error) {
	return l.UpdateTeam(ctx, TeamRequest{TeamID: &id, Blocked: &blocked})
}

// DeleteTeams deletes the teams with their keys and memberships, as LiteLLM does. Nothing is
// deleted unless every team exists. It returns the tokens of the keys deleted.
func (l *Ledger) DeleteTeams(ctx context.Context, ids []string) ([]string, error) {
	if len(ids) == 0 {
		return nil, invalid(`Name the teams to delete: {"team_ids": ["..."]}.`)
	}
	for _, id := range ids {
		if _, ok := l.team(id); !ok {
			return nil, teamMissing(id)
		}
	}
	var tokens []string
	for _, id := range ids {
		deleted, err := l.st.DeleteTeam(ctx, id)
		if err != nil {
			return tokens, fmt.Errorf("could not delete team %s: %w", id, err)
		}
		tokens = append(tokens, deleted...)
		l.tu.mu.Lock()
		delete(l.tu.teams, id)
		l.tu.mu.Unlock()
		l.forgetBudget(teamBudget(id))
		l.forgetKeys(deleted)
		if err := l.forgetMembers(ctx, id); err != nil {
			return tokens, fmt.Errorf("could not delete team %s's member budgets: %w", id, err)
		}
	}
	return tokens, nil
}

// forgetKeys drops deleted keys from memory.
func (l *Ledger) forgetKeys(tokens []string) {
	for _, t := range tokens {
		l.mu.Lock()
		delete(l.keys, t)
		l.mu.Unlock()
		l.forgetBudget(t)
	}
}

// AddTeamMembers adds (or re-roles) members of a team; unknown users are created.
func (l *Ledger) AddTeamMembers(ctx context.Context, team string, ms []MemberRequest) (store.Team, error) {
	t, ok := l.team(strings.TrimSpace(team))
	if !ok {
		return store.Team{}, teamMissing(team)
	}
	if len(ms) == 0 {
		return store.Team{}, invalid(`Name the member to add: {"team_id": "...", "member": {"role": "user", "user_id": "..."}}.`)
	}
	sms, err := members(ms)
	if err != nil {
		return store.Team{}, err
	}
	if err := l.st.AddMembers(ctx, t.TeamID, sms); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return store.Team{}, teamMissing(t.TeamID)
		}
		return store.Team{}, fmt.Errorf("could not add the members: %w", err)
	}
	if err := l.addedUsers(ctx, sms); err != nil {
		return store.Team{}, err
	}
	return t, l.setMaxInTeam(ctx, t.TeamID, ms)
}

// RemoveTeamMember takes a user (by id, or by email) out of a team.
func (l *Ledger) RemoveTeamMember(ctx context.Context, team string, m MemberRequest) (store.Team, error) {
	t, ok := l.team(strings.TrimSpace(team))
	if !ok {
		return store.Team{}, teamMissing(team)
	}
	sm, err := m.member()
	if err != nil {
		return store.Team{}, err
	}
	if m.UserID == nil {
		// Named by email: find the member with it.
		ms, err := l.st.Members(ctx, t.TeamID)
		if err != nil {
			return store.Team{}, err
		}
		if i := slices.IndexFunc(ms, func(x store.Member) bool { return x.UserEmail == sm.UserEmail }); i >= 0 {
			sm.UserID = ms[i].UserID
		}
	}
	if err := l.st.RemoveMember(ctx, t.TeamID, sm.UserID); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return store.Team{}, &OpError{Status: http.StatusBadRequest, Type: typeInvalid,
				Msg: fmt.Sprintf("User=%s is not a member of team=%s.", sm.UserID, t.TeamID)}
		}
		return store.Team{}, fmt.Errorf("could not remove the member: %w", err)
	}
	return t, l.dropMaxInTeam(ctx, t.TeamID, sm.UserID)
}
