package ledger

import (
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
