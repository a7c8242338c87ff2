package ledger

import (
	"context"
	"net/http"

	"github.com/clawgate/clawgate/proxy"
)

// teamMemberUpdate serves POST /team/member_update {"team_id", "user_id" or "user_email", "role",
// "max_budget_in_team"} -> {"team_id", "user_id", "user_email", "max_budget_in_team"}.
func (l *Ledger) teamMemberUpdate(w http.ResponseWriter, r *http.Request, _ *proxy.Principal) {
	var q MemberUpdate
	if _, err := readBody(r, &q); err != nil {
		badRequest(w, "%v", err)
		return
	}
	out, err := l.UpdateTeamMember(r.Context(), q)
	if err != nil {
		writeOpError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
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
