package ledger

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/clawgate/clawgate/app/budget"
	"github.com/clawgate/clawgate/app/store"
)

// The member budget operations (members.go has how the budgets are kept): a team's default, one
// member's max_budget_in_team, and what /team/info shows of them.

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
