package ledger

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/clawgate/clawgate/app/store"
	"github.com/clawgate/clawgate/proxy"
)

// The /team/* and /user/* handlers decode LiteLLM's requests, call the team and user operations
// (teams.go, users.go) and answer in LiteLLM's shapes (LiteLLM_TeamTable, LiteLLM_UserTable). Like
// /key/*, they take the master key only.
func init() {
	for path, rt := range map[string]route{
		"/team/new":            {http.MethodPost, true, (*Ledger).teamNew},
		"/team/info":           {http.MethodGet, true, (*Ledger).teamInfo},
		"/team/update":         {http.MethodPost, true, (*Ledger).teamUpdate},
		"/team/delete":         {http.MethodPost, true, (*Ledger).teamDelete},
		"/team/list":           {http.MethodGet, true, (*Ledger).teamList},
		"/team/block":          {http.MethodPost, true, (*Ledger).teamBlock},
		"/team/unblock":        {http.MethodPost, true, (*Ledger).teamUnblock},
		"/team/member_add":     {http.MethodPost, true, (*Ledger).teamMemberAdd},
		"/team/member_delete":  {http.MethodPost, true, (*Ledger).teamMemberDelete},
		"/team/member_update":  {http.MethodPost, true, (*Ledger).teamMemberUpdate},
		"/team/daily/activity": {http.MethodGet, true, (*Ledger).teamDailyActivity},
		"/user/new":            {http.MethodPost, true, (*Ledger).userNew},
		"/user/info":           {http.MethodGet, true, (*Ledger).userInfo},
		"/user/update":         {http.MethodPost, true, (*Ledger).userUpdate},
		"/user/delete":         {http.MethodPost, true, (*Ledger).userDelete},
		"/user/list":           {http.MethodGet, true, (*Ledger).userList},
	} {
		serve := rt.serve
		rt.serve = func(l *Ledger, w http.ResponseWriter, r *http.Request, p *proxy.Principal) {
			l.syncOwners(r.Context()) // teams and users another gateway changed
			serve(l, w, r, p)
		}
		routes[path] = rt
	}
}

// limitsObject is the budget part of a team or user row, with the live spend and reset time of
// budget id.
func (l *Ledger) limitsObject(id string, lim store.Limits) map[string]any {
	spend, _, resetAt := l.bl.Spend(id)
	return map[string]any{
		"spend":                 spend,
		"max_budget":            lim.MaxBudget,
		"soft_budget":           lim.SoftBudget,
		"budget_duration":       nilIfEmpty(lim.BudgetDuration),
		"budget_reset_at":       timeJSON(resetAt),
		"models":                nonNilStrings(lim.Models),
		"metadata":              nonNilMap(lim.Metadata),
		"tpm_limit":             lim.TPMLimit,
		"rpm_limit":             lim.RPMLimit,
		"max_parallel_requests": lim.MaxParallelRequests,
		"model_spend":           map[string]any{},
		"model_max_budget":      map[string]any{},
		"created_at":            lim.CreatedAt.UTC(),
		"updated_at":            lim.UpdatedAt.UTC(),
	}
}

// teamObject is a team as LiteLLM_TeamTable shows it.
func (l *Ledger) teamObject(t store.Team, ms []store.Member) map[string]any {
	out := l.limitsObject(teamBudget(t.TeamID), t.Limits)
	roles := make([]map[string]any, 0, len(ms))
	admins, users := []string{}, []string{}
	for _, m := range ms {
		roles = append(roles, map[string]any{"user_id": m.UserID, "user_email": nilIfEmpty(m.UserEmail), "role": m.Role})
		if m.Role == "admin" {
			admins = append(admins, m.UserID)
		} else {
			users = append(users, m.UserID)
		}
	}
	out["team_id"] = t.TeamID
	out["team_alias"] = nilIfEmpty(t.TeamAlias)
	out["blocked"] = t.Blocked
	out["members_with_roles"] = roles
	out["admins"], out["members"] = admins, users
	out["organization_id"] = nil
	out["team_member_permissions"] = []string{}
	out["model_id"] = nil
	out["litellm_model_table"] = nil
	out["object_permission"] = nil
	mb, mbDur := l.TeamMemberBudget(t.TeamID) // members.go; LiteLLM keeps them behind metadata.team_member_budget_id
	out["team_member_budget"], out["team_member_budget_duration"] = mb, nilIfEmpty(mbDur)
	return out
}

// userObject is a user as LiteLLM_UserTable shows it.
func (l *Ledger) userObject(u store.User, teams []string) map[string]any {
	out := l.limitsObject(userBudget(u.UserID), u.Limits)
	out["user_id"] = u.UserID
	out["user_alias"] = nilIfEmpty(u.UserAlias)
	out["user_email"] = nilIfEmpty(u.UserEmail)
	out["user_role"] = u.UserRole
	out["teams"] = nonNilStrings(teams)
	out["organization_memberships"] = []any{}
	out["sso_user_id"] = nil
	return out
}

// membersOf reads a team's members for an answer; on error it has answered.
func (l *Ledger) membersOf(w http.ResponseWriter, r *http.Request, team string) ([]store.Member, bool) {
	ms, err := l.st.Members(r.Context(), team)
	if err != nil {
		serverError(w, err)
		return nil, false
	}
	return ms, true
}

// teamAnswer writes a team with its members.
func (l *Ledger) teamAnswer(w http.ResponseWriter, r *http.Request, t store.Team, wrap func(map[string]any) any) {
	ms, ok := l.membersOf(w, r, t.TeamID)
	if !ok {
		return
	}
	obj := l.teamObject(t, ms)
	if wrap == nil {
		writeJSON(w, http.StatusOK, obj)
		return
	}
	writeJSON(w, http.StatusOK, wrap(obj))
}

func (l *Ledger) teamNew(w http.ResponseWriter, r *http.Request, _ *proxy.Principal) {
	var q TeamRequest
	if _, err := readBody(r, &q); err != nil {
		badRequest(w, "%v", err)
		return
	}
	t, err := l.NewTeam(r.Context(), q)
	if err != nil {
		writeOpError(w, err)
		return
	}
	l.teamAnswer(w, r, t, nil)
}

// keysWhere are the keys o selects, as /key/info shows them (live spend from memory).
func (l *Ledger) keysWhere(r *http.Request, o store.ListKeysOpts) ([]map[string]any, error) {
	keys, _, err := l.st.ListKeys(r.Context(), o)
	if err != nil {
		return nil, err
	}
	return l.keyObjects(r.Context(), keys), nil
}

// keyObjects is keys as /key/info shows them: memory's key (its live budget window) where this
// gateway holds it, and in shared mode the database's spend, read in one query for the list.
func (l *Ledger) keyObjects(ctx context.Context, keys []store.Key) []map[string]any {
	ids := make([]string, len(keys))
	for i, k := range keys {
		ids[i] = k.Token
	}
	views := l.sharedViews(ctx, ids)
	out := make([]map[string]any, 0, len(keys))
	for _, k := range keys {
		l.mu.RLock()
		if e := l.keys[k.Token]; e != nil {
			k = e.k
		}
		l.mu.RUnlock()
		out = append(out, l.keyObjectFrom(k, views))
	}
	return out
}

// teamInfo serves GET /team/info?team_id=: {"team_id", "team_info", "keys", "team_memberships"}.
func (l *Ledger) teamInfo(w http.ResponseWriter, r *http.Request, _ *proxy.Principal) {
	id := strings.TrimSpace(r.URL.Query().Get("team_id"))
	if id == "" {
		badRequest(w, "Malformed request. No team id passed in. Pass ?team_id=.")
		return
	}
	t, ms, err := l.TeamInfo(r.Context(), id)
	if err != nil {
		writeOpError(w, err)
		return
	}
	keys, err := l.keysWhere(r, store.ListKeysOpts{TeamID: t.TeamID})
	if err != nil {
		serverError(w, err)
		return
	}
	// Each member's spend through the team's keys, from the logs.
	groups, err := l.st.SpendSummary(r.Context(), store.SummaryQuery{By: store.ByUser, TeamID: t.TeamID})
	if err != nil {
		serverError(w, err)
		return
	}
	spent := map[string]float64{}
	for _, g := range groups {
		spent[g.User] += g.Spend
	}
	memberships := make([]map[string]any, 0, len(ms))
	for _, m := range ms {
		mb, err := l.membershipObject(r.Context(), t.TeamID, m.UserID, spent[m.UserID])
		if err != nil {
			serverError(w, err)
			return
		}
		memberships = append(memberships, mb)
	}
	writeJSON(w, http.StatusOK, map[string]any{"team_id": t.TeamID, "team_info": l.teamObject(t, ms), "keys": keys,
		"team_memberships": memberships})
}

// teamList serves GET /team/list (user_id narrows it to the user's teams): a list of teams, each
// with its keys.
func (l *Ledger) teamList(w http.ResponseWriter, r *http.Request, _ *proxy.Principal) {
	ts, err := l.Teams(r.Context(), strings.TrimSpace(r.URL.Query().Get("user_id")))
	if err != nil {
		serverError(w, err)
		return
	}
	out := make([]map[string]any, 0, len(ts))
	for _, t := range ts {
		ms, ok := l.membersOf(w, r, t.TeamID)
		if !ok {
			return
		}
		keys, err := l.keysWhere(r, store.ListKeysOpts{TeamID: t.TeamID})
		if err != nil {
			serverError(w, err)
			return
		}
		obj := l.teamObject(t, ms)
		obj["keys"] = keys
		out = append(out, obj)
	}
	writeJSON(w, http.StatusOK, out)
}

// teamUpdate serves POST /team/update: {"team_id", ...fields} -> {"team_id", "data": team}.
func (l *Ledger) teamUpdate(w http.ResponseWriter, r *http.Request, _ *proxy.Principal) {
	var q TeamRequest
	if _, err := readBody(r, &q); err != nil {
		badRequest(w, "%v", err)
		return
	}
	t, err := l.UpdateTeam(r.Context(), q)
	if err != nil {
		writeOpError(w, err)
		return
	}
	l.teamAnswer(w, r, t, func(obj map[string]any) any { return map[string]any{"team_id": t.TeamID, "data": obj} })
}

// teamDelete serves POST /team/delete {"team_ids": [...]}: the teams go with their keys.
func (l *Ledger) teamDelete(w http.ResponseWriter, r *http.Request, _ *proxy.Principal) {
	var q struct {
		TeamIDs []string `json:"team_ids"`
	}
	if _, err := readBody(r, &q); err != nil {
		badRequest(w, "%v", err)
		return
	}
	tokens, err := l.DeleteTeams(r.Context(), q.TeamIDs)
	if err != nil {
		writeOpError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"deleted_teams": q.TeamIDs, "deleted_keys": nonNilStrings(tokens)})
}

func (l *Ledger) teamBlock(w http.ResponseWriter, r *http.Request, _ *proxy.Principal) {
	l.setTeamBlocked(w, r, true)
}

func (l *Ledger) teamUnblock(w http.ResponseWriter, r *http.Request, _ *proxy.Principal) {
	l.setTeamBlocked(w, r, false)
}

// setTeamBlocked serves /team/block and /team/unblock: {"team_id"} -> the team.
func (l *Ledger) setTeamBlocked(w http.ResponseWriter, r *http.Request, blocked bool) {
	var q struct {
		TeamID string `json:"team_id"`
	}
	if _, err := readBody(r, &q); err != nil {
		badRequest(w, "%v", err)
		return
	}
	if strings.TrimSpace(q.TeamID) == "" {
		badRequest(w, "team_id is required.")
		return
	}
	t, err := l.SetTeamBlocked(r.Context(), strings.TrimSpace(q.TeamID), blocked)
	if err != nil {
		writeOpError(w, err)
		return
	}
	l.teamAnswer(w, r, t, nil)
}

// teamMemberAdd serves POST /team/member_add {"team_id", "member": Member or [Member]}: the team,
// with "updated_users" and "updated_team_memberships" (LiteLLM's TeamAddMemberResponse).
func (l *Ledger) teamMemberAdd(w http.ResponseWriter, r *http.Request, _ *proxy.Principal) {
	var q struct {
		TeamID string          `json:"team_id"`
		Member json.RawMessage `json:"member"`
		// LiteLLM's request-level max_budget_in_team: for each member that sets none.
		MaxBudgetInTeam *float64 `json:"max_budget_in_team"`
	}
	if _, err := readBody(r, &q); err != nil {
		badRequest(w, "%v", err)
		return
	}
	var ms []MemberRequest
	raw := bytes.TrimSpace(q.Member)
	switch {
	case len(raw) > 0 && raw[0] == '[':
		if err := json.Unmarshal(raw, &ms); err != nil {
			badRequest(w, "member: %v", jsonErr(err))
			return
		}
	case len(raw) > 0 && raw[0] == '{':
		var m MemberRequest
		if err := json.Unmarshal(raw, &m); err != nil {
			badRequest(w, "member: %v", jsonErr(err))
			return
		}
		ms = []MemberRequest{m}
	}
	for i := range ms {
		if ms[i].MaxBudgetInTeam == nil {
			ms[i].MaxBudgetInTeam = q.MaxBudgetInTeam
		}
	}
	t, err := l.AddTeamMembers(r.Context(), q.TeamID, ms)
	if err != nil {
		writeOpError(w, err)
		return
	}
	var users, memberships []map[string]any
	for _, m := range ms {
		sm, _ := m.member() // AddTeamMembers checked it
		u, teams, err := l.UserInfo(r.Context(), sm.UserID)
		if err != nil {
			writeOpError(w, err)
			return
		}
		users = append(users, l.userObject(u, teams))
		mb, err := l.membershipObject(r.Context(), t.TeamID, sm.UserID, 0)
		if err != nil {
			serverError(w, err)
			return
		}
		memberships = append(memberships, mb)
	}
	l.teamAnswer(w, r, t, func(obj map[string]any) any {
		obj["updated_users"], obj["updated_team_memberships"] = users, memberships
		return obj
	})
}

// teamMemberDelete serves POST /team/member_delete {"team_id", "user_id" or "user_email"}.
func (l *Ledger) teamMemberDelete(w http.ResponseWriter, r *http.Request, _ *proxy.Principal) {
	var q struct {
		TeamID string `json:"team_id"`
		MemberRequest
	}
	if _, err := readBody(r, &q); err != nil {
		badRequest(w, "%v", err)
		return
	}
	t, err := l.RemoveTeamMember(r.Context(), q.TeamID, q.MemberRequest)
	if err != nil {
		writeOpError(w, err)
		return
	}
	l.teamAnswer(w, r, t, nil)
}

// userNew serves POST /user/new: the user, and (unless auto_create_key is false) a key for it,
// as LiteLLM's NewUserResponse.
func (l *Ledger) userNew(w http.ResponseWriter, r *http.Request, _ *proxy.Principal) {
	var q UserRequest
	if _, err := readBody(r, &q); err != nil {
		badRequest(w, "%v", err)
		return
	}
	u, key, k, err := l.NewUser(r.Context(), q)
	if err != nil {
		writeOpError(w, err)
		return
	}
	out := l.userObject(u, q.Teams)
	out["key"], out["key_name"], out["token"], out["token_id"], out["key_alias"], out["expires"] = nil, nil, nil, nil, nil, nil
	if key != "" {
		out["key"], out["key_name"], out["token"], out["token_id"], out["key_alias"] = key, k.KeyName, k.Token, k.Token, nilIfEmpty(k.KeyAlias)
	}
	writeJSON(w, http.StatusOK, out)
}

// userInfo serves GET /user/info?user_id=: {"user_id", "user_info", "keys", "teams"}.
func (l *Ledger) userInfo(w http.ResponseWriter, r *http.Request, _ *proxy.Principal) {
	id := strings.TrimSpace(r.URL.Query().Get("user_id"))
	if id == "" {
		badRequest(w, "Pass ?user_id= to read a user's info.")
		return
	}
	u, teamIDs, err := l.UserInfo(r.Context(), id)
	if err != nil {
		writeOpError(w, err)
		return
	}
	keys, err := l.keysWhere(r, store.ListKeysOpts{UserID: u.UserID})
	if err != nil {
		serverError(w, err)
		return
	}
	teams := make([]map[string]any, 0, len(teamIDs))
	for _, tid := range teamIDs {
		if t, ok := l.team(tid); ok {
			ms, ok := l.membersOf(w, r, tid)
			if !ok {
				return
			}
			teams = append(teams, l.teamObject(t, ms))
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"user_id": u.UserID, "user_info": l.userObject(u, teamIDs), "keys": keys, "teams": teams})
}

// userUpdate serves POST /user/update: {"user_id", ...fields} -> {"user_id", "data": user}.
func (l *Ledger) userUpdate(w http.ResponseWriter, r *http.Request, _ *proxy.Principal) {
	var q UserRequest
	if _, err := readBody(r, &q); err != nil {
		badRequest(w, "%v", err)
		return
	}
	u, err := l.UpdateUser(r.Context(), q)
	if err != nil {
		writeOpError(w, err)
		return
	}
	teams, err := l.st.UserTeams(r.Context(), u.UserID)
	if err != nil {
		serverError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"user_id": u.UserID, "data": l.userObject(u, teams)})
}

// userDelete serves POST /user/delete {"user_ids": [...]}: the users go with their keys.
func (l *Ledger) userDelete(w http.ResponseWriter, r *http.Request, _ *proxy.Principal) {
	var q struct {
		UserIDs []string `json:"user_ids"`
	}
	if _, err := readBody(r, &q); err != nil {
		badRequest(w, "%v", err)
		return
	}
	tokens, err := l.DeleteUsers(r.Context(), q.UserIDs)
	if err != nil {
		writeOpError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"deleted_users": q.UserIDs, "deleted_keys": nonNilStrings(tokens)})
}

// userList serves GET /user/list (page, page_size, role): {"users", "total", "page", "page_size",
// "total_pages"}.
func (l *Ledger) userList(w http.ResponseWriter, r *http.Request, _ *proxy.Principal) {
	q := r.URL.Query()
	page, err := intParam(q.Get("page"), 1, 1, 1<<31-1)
	if err != nil {
		badRequest(w, "page: %v", err)
		return
	}
	size, err := intParam(q.Get("page_size"), 25, 1, 100)
	if err != nil {
		badRequest(w, "page_size: %v", err)
		return
	}
	us, total, err := l.Users(r.Context(), q.Get("role"), page, size)
	if err != nil {
		serverError(w, err)
		return
	}
	out := make([]map[string]any, 0, len(us))
	for _, u := range us {
		teams, err := l.st.UserTeams(r.Context(), u.UserID)
		if err != nil {
			serverError(w, err)
			return
		}
		out = append(out, l.userObject(u, teams))
	}
	writeJSON(w, http.StatusOK, map[string]any{"users": out, "total": total, "page": page, "page_size": size,
		"total_pages": (total + size - 1) / size})
}

// teamDailyActivity serves GET /team/daily/activity (start_date, end_date, team_ids as a comma
// list, model, api_key, page, page_size), as /user/daily/activity with the breakdown by team.
func (l *Ledger) teamDailyActivity(w http.ResponseWriter, r *http.Request, _ *proxy.Principal) {
	l.activity(w, r, l.teamEntities(r.URL.Query()))
}
