package ledger

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"
)

// ok calls a management route with the master key and wants a 200 with a JSON object.
func (e *env) ok(method, path, body string) map[string]any {
	e.t.Helper()
	r := e.master(method, path, body)
	if r.status != http.StatusOK {
		e.t.Fatalf("%s %s: %d %s", method, path, r.status, r.body)
	}
	return r.obj(e.t)
}

// spendOf reads a team's or user's live spend from /team/info or /user/info.
func (e *env) teamSpend(id string) float64 {
	e.t.Helper()
	return e.ok("GET", "/team/info?team_id="+id, "")["team_info"].(map[string]any)["spend"].(float64)
}

func (e *env) userSpend(id string) float64 {
	e.t.Helper()
	return e.ok("GET", "/user/info?user_id="+id, "")["user_info"].(map[string]any)["spend"].(float64)
}

// The LiteLLM flow: a team with a budget, a user in it, a key for the user; the team's keys
// spend together until the team's budget refuses, in words that name the team.
func TestTeamBudgetRefusesNamingTheTeam(t *testing.T) {
	e := newEnv(t)
	team := e.ok("POST", "/team/new", fmt.Sprintf(`{"team_id": "eng", "team_alias": "Engineering", "max_budget": %v,
		"budget_duration": "1d", "members_with_roles": [{"role": "admin", "user_id": "ana"}], "metadata": {"cc": "42"}}`, 2.5*callCost))
	if team["team_id"] != "eng" || team["team_alias"] != "Engineering" || team["max_budget"] != 2.5*callCost ||
		team["budget_duration"] != "1d" || team["budget_reset_at"] == nil || team["spend"] != 0.0 || team["blocked"] != false ||
		fmt.Sprint(team["members_with_roles"]) != "[map[role:admin user_email:<nil> user_id:ana]]" || fmt.Sprint(team["metadata"]) != "map[cc:42]" {
		t.Errorf("/team/new: %v", team)
	}
	user := e.ok("POST", "/user/new", `{"user_id": "bob", "user_email": "bob@example.com", "teams": ["eng"]}`)
	if user["user_id"] != "bob" || user["user_role"] != "internal_user" || fmt.Sprint(user["teams"]) != "[eng]" ||
		!strings.HasPrefix(fmt.Sprint(user["key"]), "sk-") {
		t.Errorf("/user/new: %v", user)
	}
	bobKey, _ := e.generate(`{"team_id": "eng", "user_id": "bob", "key_alias": "bob-laptop"}`)
	anaKey, _ := e.generate(`{"team_id": "eng", "user_id": "ana"}`)
	if info := e.info(bobKey); info["team_id"] != "eng" || info["user_id"] != "bob" || info["max_budget"] != nil {
		t.Errorf("key info: %v", info)
	}
	for i, k := range []string{bobKey, anaKey, bobKey} {
		if r := e.chat(k, exactChat); r.status != 200 {
			t.Fatalf("call %d: %d %s", i, r.status, r.body)
		}
	}
	for _, k := range []string{anaKey, bobKey} { // the key has no budget: the team's refuses both
		er := e.chat(k, exactChat).errOf(t, 429)
		if er.Type != "budget_exceeded" || !strings.HasPrefix(er.Message, "Team Engineering reached its usage limit: the daily budget of $0.03 is spent; it resets ") ||
			!strings.Contains(er.Message, "Budget has been exceeded! Team=eng Current cost: ") {
			t.Errorf("refusal: %+v", er)
		}
		if d := er.Details; d["budget"] != "team" || d["team_id"] != "eng" || d["team_alias"] != "Engineering" || d["resets_at"] == nil {
			t.Errorf("details: %v", d)
		}
	}
	if e.up.Requests() != 3 {
		t.Errorf("upstream saw %d requests, want 3", e.up.Requests())
	}
	if got := e.teamSpend("eng"); !near(got, 3*callCost) {
		t.Errorf("team spend %v", got)
	}
	if got := e.userSpend("bob"); !near(got, 2*callCost) {
		t.Errorf("bob's spend %v", got)
	}

	// The spend logs carry the team and the key's user, and the views group by them.
	e.flush()
	var rows []map[string]any
	e.master("GET", "/spend/logs?team_id=eng", "").json(t, &rows)
	ok := 0
	for _, r := range rows {
		md := r["metadata"].(map[string]any)
		if r["team_id"] == "eng" && (r["user"] == "bob" || r["user"] == "ana") && md["user_api_key_team_id"] == "eng" && r["status"] == "success" {
			ok++
		}
	}
	if ok != 3 {
		t.Errorf("%d successful rows of team eng with its users, want 3: %v", ok, rows)
	}
	info := e.ok("GET", "/team/info?team_id=eng", "")
	if keys := info["keys"].([]any); len(keys) != 2 {
		t.Errorf("team keys: %v", keys)
	}
	for _, m := range info["team_memberships"].([]any) {
		m := m.(map[string]any)
		want := map[string]float64{"ana": callCost, "bob": 2 * callCost}[m["user_id"].(string)]
		if !near(m["spend"].(float64), want) {
			t.Errorf("membership %v, want spend %v", m, want)
		}
	}
	today := time.Now().UTC().Format(time.DateOnly)
	var report []map[string]any
	e.master("GET", "/global/spend/report?start_date="+today+"&end_date="+today, "").json(t, &report)
	if len(report) != 1 || len(report[0]["teams"].([]any)) != 1 {
		t.Fatalf("report: %v", report)
	}
	if tm := report[0]["teams"].([]any)[0].(map[string]any); tm["team_name"] != "Engineering" || !near(tm["total_spend"].(float64), 3*callCost) {
		t.Errorf("report team: %v", tm)
	}
	for path, entity := range map[string]string{"/team/daily/activity": "eng", "/user/daily/activity": "bob"} {
		act := e.ok("GET", path+"?start_date="+today+"&end_date="+today, "")
		days := act["results"].([]any)
		if len(days) != 1 {
			t.Fatalf("%s: %v", path, act)
		}
		ents := days[0].(map[string]any)["breakdown"].(map[string]any)["entities"].(map[string]any)
		m, found := ents[entity].(map[string]any)
		if !found {
			t.Fatalf("%s entities: %v", path, ents)
		}
		if got := m["metrics"].(map[string]any)["spend"].(float64); !near(got, map[string]float64{"eng": 3 * callCost, "bob": 2 * callCost}[entity]) {
			t.Errorf("%s %s spend %v", path, entity, got)
		}
	}
}

// A user's budget holds over all of the user's keys together.
func TestUserBudgetAcrossKeys(t *testing.T) {
	e := newEnv(t)
	u := e.ok("POST", "/user/new", fmt.Sprintf(`{"user_id": "carol", "user_alias": "Carol", "max_budget": %v}`, 1.5*callCost))
	first := u["key"].(string)
	second, _ := e.generate(`{"user_id": "carol"}`)
	other, _ := e.generate(`{"user_id": "dave"}`) // no such user: no user budget
	for _, k := range []string{first, second} {
		if r := e.chat(k, exactChat); r.status != 200 {
			t.Fatalf("%d %s", r.status, r.body)
		}
	}
	for _, k := range []string{first, second} {
		er := e.chat(k, exactChat).errOf(t, 429)
		if !strings.HasPrefix(er.Message, "User Carol reached its usage limit: the budget of $0.02 is spent; raise its max_budget to continue") ||
			!strings.Contains(er.Message, "ExceededBudget: User=carol over budget.") || er.Details["budget"] != "user" || er.Details["user_id"] != "carol" {
			t.Errorf("refusal: %+v", er)
		}
	}
	if r := e.chat(other, exactChat); r.status != 200 {
		t.Errorf("another user's key: %d %s", r.status, r.body)
	}
	// Raising the user's budget lets the keys in again, with the spend kept.
	up := e.ok("POST", "/user/update", fmt.Sprintf(`{"user_id": "carol", "max_budget": %v}`, 3*callCost))
	if d := up["data"].(map[string]any); up["user_id"] != "carol" || d["max_budget"] != 3*callCost || !near(d["spend"].(float64), 2*callCost) {
		t.Errorf("/user/update: %v", up)
	}
	if r := e.chat(second, exactChat); r.status != 200 {
		t.Errorf("after raising: %d %s", r.status, r.body)
	}
	// A personal key that names no models has its user's.
	scoped := e.ok("POST", "/user/new", `{"user_id": "erin", "models": ["exact"]}`)["key"].(string)
	if r := e.chat(scoped, exactChat); r.status != 200 {
		t.Errorf("the user's model: %d %s", r.status, r.body)
	}
	e.chat(scoped, `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`).errOf(t, 403)
}

// A team key may ask only for the team's models, and inherits them when it names none.
func TestTeamModels(t *testing.T) {
	e := newEnv(t)
	e.ok("POST", "/team/new", `{"team_id": "t", "models": ["exact", "gpt-4o-mini"]}`)
	r := e.master("POST", "/key/generate", `{"team_id": "t", "models": ["exact", "gpt-4o"]}`)
	if er := r.errOf(t, 400); !strings.Contains(er.Message, "Model 'gpt-4o' not in team's allowed models. Team allowed models=[exact gpt-4o-mini]. Team: t") {
		t.Errorf("outside the team's models: %+v", er)
	}
	if er := e.master("POST", "/key/generate", `{"team_id": "nope"}`).errOf(t, 400); !strings.Contains(er.Message, "Team doesn't exist in db. Team=nope") {
		t.Errorf("unknown team: %+v", er)
	}
	inherit, _ := e.generate(`{"team_id": "t"}`)
	own, _ := e.generate(`{"team_id": "t", "models": ["gpt-4o-mini"]}`)
	if r := e.master("POST", "/key/update", `{"key": "`+own+`", "models": ["gpt-4o"]}`); r.status != 400 {
		t.Errorf("update outside the team's models: %d %s", r.status, r.body)
	}
	if r := e.chat(inherit, exactChat); r.status != 200 {
		t.Errorf("team model: %d %s", r.status, r.body)
	}
	if er := e.chat(inherit, `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`).errOf(t, 403); !strings.Contains(er.Message, "key not allowed to access model") {
		t.Errorf("inherited models: %+v", er)
	}
	var models struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	e.do("GET", "/v1/models", inherit, "").json(t, &models)
	var ids []string
	for _, m := range models.Data {
		ids = append(ids, m.ID)
	}
	if slices.Sort(ids); fmt.Sprint(ids) != "[exact gpt-4o-mini]" {
		t.Errorf("/v1/models for a team key: %v", ids)
	}
	// Narrowing the team later holds against a key's own older list, in LiteLLM's words.
	e.ok("POST", "/team/update", `{"team_id": "t", "models": ["exact"]}`)
	er := e.chat(own, `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}`).errOf(t, 401)
	if er.Type != "team_model_access_denied" || er.Message != "Team not allowed to access model. Team=t, Model=gpt-4o-mini. Allowed team models = [exact]" {
		t.Errorf("narrowed team: %+v", er)
	}
}

// A blocked team's keys are refused with a 401 until it is unblocked.
func TestTeamBlockUnblock(t *testing.T) {
	e := newEnv(t)
	e.ok("POST", "/team/new", `{"team_id": "ops"}`)
	key, _ := e.generate(`{"team_id": "ops"}`)
	if b := e.ok("POST", "/team/block", `{"team_id": "ops"}`); b["blocked"] != true || b["team_id"] != "ops" {
		t.Errorf("/team/block: %v", b)
	}
	er := e.chat(key, exactChat).errOf(t, 401)
	if er.Message != "Authentication Error - Team=ops is blocked. Update via /team/unblock if you're an admin." {
		t.Errorf("blocked team: %+v", er)
	}
	if e.up.Requests() != 0 {
		t.Errorf("upstream called for a blocked team")
	}
	if b := e.ok("POST", "/team/unblock", `{"team_id": "ops"}`); b["blocked"] != false {
		t.Errorf("/team/unblock: %v", b)
	}
	if r := e.chat(key, exactChat); r.status != 200 {
		t.Errorf("after unblock: %d %s", r.status, r.body)
	}
	e.master("POST", "/team/block", `{"team_id": "nope"}`).errOf(t, 404)
}

// Members come and go; adding a member creates the user.
func TestTeamMembers(t *testing.T) {
	e := newEnv(t)
	e.ok("POST", "/team/new", `{"team_id": "t", "team_alias": "T"}`)
	added := e.ok("POST", "/team/member_add", `{"team_id": "t", "member": {"role": "admin", "user_id": "ana", "user_email": "ana@example.com"}}`)
	if fmt.Sprint(added["members_with_roles"]) != "[map[role:admin user_email:ana@example.com user_id:ana]]" ||
		len(added["updated_users"].([]any)) != 1 || len(added["updated_team_memberships"].([]any)) != 1 {
		t.Errorf("member_add: %v", added)
	}
	e.ok("POST", "/team/member_add", `{"team_id": "t", "member": [{"role": "user", "user_id": "bob"}, {"user_email": "cy@example.com"}]}`)
	if u := e.ok("GET", "/user/info?user_id=bob", ""); fmt.Sprint(u["user_info"].(map[string]any)["teams"]) != "[t]" || len(u["teams"].([]any)) != 1 {
		t.Errorf("a new member's user: %v", u)
	}
	roles := func() string {
		var out []string
		for _, m := range e.ok("GET", "/team/info?team_id=t", "")["team_info"].(map[string]any)["members_with_roles"].([]any) {
			m := m.(map[string]any)
			out = append(out, fmt.Sprint(m["user_id"], ":", m["role"]))
		}
		slices.Sort(out)
		return strings.Join(out, " ")
	}
	if got := roles(); got != "ana:admin bob:user cy@example.com:user" {
		t.Errorf("members %q", got)
	}
	e.ok("POST", "/team/member_delete", `{"team_id": "t", "user_id": "bob"}`)
	e.ok("POST", "/team/member_delete", `{"team_id": "t", "user_email": "cy@example.com"}`)
	if got := roles(); got != "ana:admin" {
		t.Errorf("members after delete %q", got)
	}
	e.master("POST", "/team/member_delete", `{"team_id": "t", "user_id": "bob"}`).errOf(t, 400)
	if er := e.master("POST", "/team/member_add", `{"team_id": "t", "member": {"role": "owner", "user_id": "x"}}`).errOf(t, 400); !strings.Contains(er.Message, `"admin" or "user"`) {
		t.Errorf("bad role: %+v", er)
	}
	e.master("POST", "/team/member_add", `{"team_id": "nope", "member": {"user_id": "x"}}`).errOf(t, 404)
	var list []map[string]any
	e.master("GET", "/team/list?user_id=ana", "").json(t, &list)
	if len(list) != 1 || list[0]["team_id"] != "t" {
		t.Errorf("/team/list?user_id=ana: %v", list)
	}
}

// Deleting a team deletes its keys, as LiteLLM does; its spend logs stay.
func TestDeleteTeamDeletesItsKeys(t *testing.T) {
	e := newEnv(t)
	e.ok("POST", "/team/new", `{"team_id": "gone", "members_with_roles": [{"user_id": "ana"}]}`)
	e.ok("POST", "/team/new", `{"team_id": "stays"}`)
	k1, t1 := e.generate(`{"team_id": "gone"}`)
	_, t2 := e.generate(`{"team_id": "gone", "user_id": "ana"}`)
	k3, _ := e.generate(`{"team_id": "stays"}`)
	if r := e.chat(k1, exactChat); r.status != 200 {
		t.Fatal(r.status)
	}
	del := e.ok("POST", "/team/delete", `{"team_ids": ["gone"]}`)
	got := fmt.Sprint(del["deleted_keys"])
	if fmt.Sprint(del["deleted_teams"]) != "[gone]" || !strings.Contains(got, t1) || !strings.Contains(got, t2) {
		t.Errorf("/team/delete: %v", del)
	}
	e.chat(k1, exactChat).errOf(t, 401)
	if r := e.chat(k3, exactChat); r.status != 200 {
		t.Errorf("another team's key: %d", r.status)
	}
	if er := e.master("GET", "/team/info?team_id=gone", "").errOf(t, 404); !strings.Contains(er.Message, "Team doesn't exist in db. Team=gone") {
		t.Errorf("info of a deleted team: %+v", er)
	}
	if u := e.ok("GET", "/user/info?user_id=ana", ""); fmt.Sprint(u["user_info"].(map[string]any)["teams"]) != "[]" {
		t.Errorf("the member's teams after the delete: %v", u)
	}
	e.master("POST", "/team/delete", `{"team_ids": ["gone"]}`).errOf(t, 404)
	e.flush()
	var rows []map[string]any
	e.master("GET", "/spend/logs?team_id=gone", "").json(t, &rows)
	if len(rows) != 1 {
		t.Errorf("the deleted team's logs: %v", rows)
	}
	// A user goes with its keys too.
	e.ok("POST", "/user/new", `{"user_id": "zed", "auto_create_key": false}`)
	kz, _ := e.generate(`{"user_id": "zed"}`)
	e.ok("POST", "/user/delete", `{"user_ids": ["zed"]}`)
	e.chat(kz, exactChat).errOf(t, 401)
}

// A team's and a user's spend survive a restart and reset with their window.
func TestTeamAndUserSpendSurviveRestart(t *testing.T) {
	clk := newClock(time.Now().UTC())
	e := newEnv(t, withClock(clk))
	e.ok("POST", "/team/new", fmt.Sprintf(`{"team_id": "t", "max_budget": %v, "budget_duration": "1d"}`, 2.5*callCost))
	e.ok("POST", "/user/new", `{"user_id": "u", "budget_duration": "1d", "auto_create_key": false}`)
	key, _ := e.generate(`{"team_id": "t", "user_id": "u"}`)
	for range 2 {
		if r := e.chat(key, exactChat); r.status != 200 {
			t.Fatalf("%d %s", r.status, r.body)
		}
	}
	e.restart()
	if got, gotU := e.teamSpend("t"), e.userSpend("u"); !near(got, 2*callCost) || !near(gotU, 2*callCost) {
		t.Errorf("after restart: team %v, user %v", got, gotU)
	}
	if r := e.chat(key, exactChat); r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	e.chat(key, exactChat).errOf(t, 429)
	// Past the window's end the team starts again at 0, and a restart does not bring the old
	// spend back.
	reset, _ := time.Parse(time.RFC3339, e.ok("GET", "/team/info?team_id=t", "")["team_info"].(map[string]any)["budget_reset_at"].(string))
	clk.Set(reset)
	if r := e.chat(key, exactChat); r.status != 200 {
		t.Fatalf("after the reset: %d %s", r.status, r.body)
	}
	e.restart()
	if got := e.teamSpend("t"); got != 0 {
		t.Errorf("team spend in the new window after restart %v, want 0 (the call was logged before the window began)", got)
	}
	team, err := e.l.Store().GetTeam(t.Context(), "t")
	if err != nil || team.SpendSince == nil || !team.SpendSince.Equal(reset) || team.BudgetResetAt == nil || !team.BudgetResetAt.After(reset) {
		t.Errorf("stored window: %+v %v", team.Limits, err)
	}
}

// A team's rpm_limit holds over all its keys together.
func TestTeamRateLimit(t *testing.T) {
	e := newEnv(t)
	e.ok("POST", "/team/new", `{"team_id": "slow", "rpm_limit": 1}`)
	a, _ := e.generate(`{"team_id": "slow"}`)
	b, _ := e.generate(`{"team_id": "slow"}`)
	if r := e.chat(a, exactChat); r.status != 200 {
		t.Fatal(r.status)
	}
	if er := e.chat(b, exactChat).errOf(t, 429); !strings.HasPrefix(er.Message, "Rate limit exceeded for team slow: rpm_limit is 1 requests a minute") {
		t.Errorf("team rpm: %+v", er)
	}
}

// Bad input, the master key, and LiteLLM's organizations.
func TestTeamAndUserAdminErrors(t *testing.T) {
	e := newEnv(t)
	key, _ := e.generate(`{}`)
	e.do("POST", "/team/new", key, `{}`).errOf(t, 403)
	e.do("GET", "/user/list", key, "").errOf(t, 403)
	er := e.master("POST", "/organization/new", `{"organization_alias": "acme"}`).errOf(t, 501)
	if !strings.Contains(er.Message, "not supported by Clawgate") {
		t.Errorf("organization: %+v", er)
	}
	e.master("GET", "/organization/info?organization_id=o", "").errOf(t, 501)
	e.ok("POST", "/team/new", `{"team_id": "dup"}`)
	if er := e.master("POST", "/team/new", `{"team_id": "dup"}`).errOf(t, 400); er.Message != "Team id = dup already exists. Please use a different team id." {
		t.Errorf("duplicate: %+v", er)
	}
	for _, body := range []string{`{"budget_duration": "monthlyish"}`, `{"max_budget": -1}`, `{"models": "exact"}`, `{"rpm_limit": -2}`} {
		e.master("POST", "/team/new", body).errOf(t, 400)
		e.master("POST", "/user/new", body).errOf(t, 400)
	}
	e.master("POST", "/user/new", `{"user_role": "king"}`).errOf(t, 400)
	e.master("POST", "/user/new", `{"teams": ["nope"]}`).errOf(t, 404)
	e.master("GET", "/team/info", "").errOf(t, 400)
	e.master("GET", "/user/info?user_id=nobody", "").errOf(t, 404)
	e.master("POST", "/team/update", `{"max_budget": 1}`).errOf(t, 400)
	// A generated id is a UUID; the list pages.
	id := e.ok("POST", "/user/new", `{"auto_create_key": false}`)["user_id"].(string)
	if len(id) != 36 || strings.Count(id, "-") != 4 {
		t.Errorf("generated user_id %q", id)
	}
	if l := e.ok("GET", "/user/list?page_size=1", ""); l["total"] != 1.0 || len(l["users"].([]any)) != 1 || l["total_pages"] != 1.0 {
		t.Errorf("/user/list: %v", l)
	}
}

// The Go functions behind the routes refuse with OpErrors the tray can show.
func TestTeamFunctions(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	alias, bad := "A", "fortnightly"
	if _, err := e.l.NewTeam(ctx, TeamRequest{TeamAlias: &alias, LimitsRequest: LimitsRequest{BudgetDuration: &bad}}); !isOp(err, 400) {
		t.Errorf("bad duration: %v", err)
	}
	tm, err := e.l.NewTeam(ctx, TeamRequest{TeamAlias: &alias})
	if err != nil || tm.TeamAlias != "A" || tm.TeamID == "" {
		t.Fatalf("NewTeam: %+v %v", tm, err)
	}
	blocked, err := e.l.SetTeamBlocked(ctx, tm.TeamID, true)
	if err != nil || !blocked.Blocked {
		t.Errorf("SetTeamBlocked: %+v %v", blocked, err)
	}
	if _, err := e.l.RemoveTeamMember(ctx, tm.TeamID, MemberRequest{}); !isOp(err, 400) {
		t.Errorf("member with no id: %v", err)
	}
	if _, err := e.l.DeleteTeams(ctx, []string{tm.TeamID, "nope"}); !isOp(err, 404) {
		t.Errorf("delete with one unknown: %v", err)
	}
	if _, _, err := e.l.TeamInfo(ctx, tm.TeamID); err != nil {
		t.Errorf("nothing may be deleted when one team is unknown: %v", err)
	}
}

func isOp(err error, status int) bool {
	var op *OpError
	return errors.As(err, &op) && op.Status == status
}

// A team's budget raises the same alerts as a key's, with LiteLLM's team fields in the webhook,
// and a restart does not raise them again.
func TestTeamBudgetAlerts(t *testing.T) {
	hooks := make(chan map[string]any, 100)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m map[string]any
		if json.NewDecoder(r.Body).Decode(&m) == nil {
			hooks <- m
		}
	}))
	defer recv.Close()
	e := newEnv(t, withSettings(Settings{WebhookURL: recv.URL}))
	e.ok("POST", "/team/new", fmt.Sprintf(`{"team_id": "eng", "team_alias": "Engineering", "max_budget": %v}`, 2*callCost))
	key, _ := e.generate(`{"team_id": "eng"}`)
	for range 2 {
		if r := e.chat(key, exactChat); r.status != 200 {
			t.Fatalf("%d %s", r.status, r.body)
		}
	}
	var levels []float64
	for _, ev := range e.events.of(EventThreshold, "team:eng") {
		levels = append(levels, ev.Level)
		if ev.Alias != "Engineering" {
			t.Errorf("event alias %q", ev.Alias)
		}
	}
	if fmt.Sprint(levels) != "[0.5 0.8 1]" {
		t.Errorf("team threshold levels %v", levels)
	}
	var crossed map[string]any
	for crossed == nil {
		select {
		case h := <-hooks:
			if h["event"] == "budget_crossed" {
				crossed = h
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no budget_crossed webhook")
		}
	}
	for f, v := range map[string]any{"event_group": "team", "team_id": "eng", "team_alias": "Engineering", "token": nil,
		"max_budget": 2 * callCost} {
		if crossed[f] != v {
			t.Errorf("webhook %s = %#v, want %#v", f, crossed[f], v)
		}
	}
	e.restart()
	e.chat(key, exactChat).errOf(t, 429)
	if n := len(e.events.of(EventThreshold, "team:eng")); n != 3 {
		t.Errorf("%d threshold events after a restart in the same window, want the 3 from before", n)
	}
}

// Teams and users written through another ledger on the same database (another gateway of the
// team, the CLI) take effect here without a restart.
func TestTeamChangesFromAnotherLedger(t *testing.T) {
	e := newEnv(t)
	other := openSecond(t, e)
	ctx := t.Context()
	id, alias := "remote", "Remote"
	if _, err := other.NewTeam(ctx, TeamRequest{TeamID: &id, TeamAlias: &alias, LimitsRequest: LimitsRequest{Models: &[]string{"exact"}}}); err != nil {
		t.Fatal(err)
	}
	// The team exists here for /key/generate, and its models bind the key.
	var key string
	seenWithin(t, "a team made by another ledger", func() bool {
		r := e.master("POST", "/key/generate", `{"team_id": "remote"}`)
		if r.status == 200 {
			key = r.obj(t)["key"].(string)
		}
		return r.status == 200
	})
	if r := e.chat(key, `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`); r.status != 403 {
		t.Errorf("a model outside the remote team's: %d %s", r.status, r.body)
	}
	if _, err := other.SetTeamBlocked(ctx, id, true); err != nil {
		t.Fatal(err)
	}
	seenWithin(t, "team blocked by another ledger refused", e.answers(key, 401))
	if _, err := other.UpdateTeam(ctx, TeamRequest{TeamID: &id, Blocked: ptr(false), LimitsRequest: LimitsRequest{MaxBudget: ptr(0.0)}}); err != nil {
		t.Fatal(err)
	}
	seenWithin(t, "budget set to 0 by another ledger refuses", e.answers(key, 429))
	user := "u2"
	if _, _, _, err := other.NewUser(ctx, UserRequest{UserID: &user, AutoCreateKey: ptr(false),
		LimitsRequest: LimitsRequest{MaxBudget: ptr(0.0)}}); err != nil {
		t.Fatal(err)
	}
	userKey, _ := e.generate(`{"user_id": "u2"}`)
	seenWithin(t, "a user made by another ledger has its budget here", e.answers(userKey, 429))
	if _, err := other.DeleteUsers(ctx, []string{user}); err != nil {
		t.Fatal(err)
	}
	seenWithin(t, "a user deleted by another ledger takes its keys", e.answers(userKey, 401))
	if _, err := other.DeleteTeams(ctx, []string{id}); err != nil {
		t.Fatal(err)
	}
	seenWithin(t, "a team deleted by another ledger takes its keys", e.answers(key, 401))
	seenWithin(t, "a team deleted by another ledger is gone", func() bool { return e.master("GET", "/team/info?team_id=remote", "").status == 404 })
}
