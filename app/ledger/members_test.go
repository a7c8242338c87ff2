package ledger

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// membership is a member's entry in /team/info's team_memberships.
func (e *env) membership(team, user string) map[string]any {
	e.t.Helper()
	for _, m := range e.ok("GET", "/team/info?team_id="+team, "")["team_memberships"].([]any) {
		if m := m.(map[string]any); m["user_id"] == user {
			return m
		}
	}
	e.t.Fatalf("no membership of %s in %s", user, team)
	return nil
}

// memberRefused wants key's next call refused by user's budget in team.
func (e *env) memberRefused(key, team, user string) {
	e.t.Helper()
	er := e.chat(key, exactChat).errOf(e.t, 429)
	if er.Type != "budget_exceeded" || !strings.HasPrefix(er.Message, "User "+user+" in Team "+team+" reached its usage limit") ||
		!strings.Contains(er.Message, "Budget has been exceeded! User="+user+" in Team="+team+" Current cost: ") {
		e.t.Errorf("refusal: %+v", er)
	}
	if d := er.Details; d["budget"] != "team_member" || d["team_id"] != team || d["user_id"] != user {
		e.t.Errorf("details: %v", d)
	}
}

func (e *env) served(key string, n int) {
	e.t.Helper()
	for i := range n {
		if r := e.chat(key, exactChat); r.status != 200 {
			e.t.Fatalf("call %d: %d %s", i, r.status, r.body)
		}
	}
}

// A team's team_member_budget caps each member on the team's keys they own, apart; the team's
// budget caps them together; max_budget_in_team overrides the default for one member; a key of
// no user is capped by the team's budget alone.
func TestTeamMemberBudget(t *testing.T) {
	e := newEnv(t)
	team := e.ok("POST", "/team/new", fmt.Sprintf(`{"team_id": "eng", "max_budget": %v, "team_member_budget": %v,
		"team_member_budget_duration": "30d", "members_with_roles": [{"role": "admin", "user_id": "ana"}, {"user_id": "bob"}]}`,
		20*callCost, 1.5*callCost))
	if team["team_member_budget"] != 1.5*callCost || team["team_member_budget_duration"] != "30d" {
		t.Errorf("/team/new: %v", team)
	}
	ana, _ := e.generate(`{"team_id": "eng", "user_id": "ana"}`)
	bob, _ := e.generate(`{"team_id": "eng", "user_id": "bob"}`)
	svc, _ := e.generate(`{"team_id": "eng", "key_alias": "ci-bot"}`)
	e.served(ana, 2)
	e.memberRefused(ana, "eng", "ana")
	e.served(bob, 1) // bob's budget is his own
	e.served(svc, 3) // a service account has no member budget
	m := e.membership("eng", "ana")
	bt, _ := m["litellm_budget_table"].(map[string]any)
	if !near(m["spend"].(float64), 2*callCost) || bt == nil || bt["max_budget"] != 1.5*callCost || bt["budget_duration"] != "30d" ||
		bt["budget_reset_at"] == nil || m["budget_id"] != "member:eng/ana" {
		t.Errorf("ana's membership: %v", m)
	}

	// max_budget_in_team raises ana's cap alone; the spend is kept.
	up := e.ok("POST", "/team/member_update", fmt.Sprintf(`{"team_id": "eng", "user_id": "ana", "max_budget_in_team": %v}`, 3.5*callCost))
	if up["team_id"] != "eng" || up["user_id"] != "ana" || up["max_budget_in_team"] != 3.5*callCost || up["user_email"] != nil {
		t.Errorf("/team/member_update: %v", up)
	}
	e.served(ana, 2)
	e.memberRefused(ana, "eng", "ana")
	e.served(bob, 1)
	e.memberRefused(bob, "eng", "bob")
	if bt := e.membership("eng", "ana")["litellm_budget_table"].(map[string]any); bt["max_budget"] != 3.5*callCost {
		t.Errorf("ana's budget after the update: %v", bt)
	}

	// A member added with max_budget_in_team has that cap, not the default.
	add := e.ok("POST", "/team/member_add", fmt.Sprintf(`{"team_id": "eng", "member": {"user_id": "cy", "role": "user",
		"max_budget_in_team": %v}}`, 0.5*callCost))
	if ms := add["updated_team_memberships"].([]any); len(ms) != 1 || ms[0].(map[string]any)["litellm_budget_table"].(map[string]any)["max_budget"] != 0.5*callCost {
		t.Errorf("/team/member_add: %v", add)
	}
	cy, _ := e.generate(`{"team_id": "eng", "user_id": "cy"}`)
	e.served(cy, 1)
	e.memberRefused(cy, "eng", "cy")

	// So does one named in /team/new's members_with_roles.
	e.ok("POST", "/team/new", fmt.Sprintf(`{"team_id": "ops", "team_member_budget": %v,
		"members_with_roles": [{"user_id": "dee", "max_budget_in_team": %v}]}`, 10*callCost, 0.5*callCost))
	dee, _ := e.generate(`{"team_id": "ops", "user_id": "dee"}`)
	e.served(dee, 1)
	e.memberRefused(dee, "ops", "dee")

	// Not a member, bad values: refused with the reason.
	for body, want := range map[string]string{
		`{"team_id": "eng", "user_id": "zed", "max_budget_in_team": 1}`:  "not a member",
		`{"team_id": "eng", "user_id": "ana", "max_budget_in_team": -1}`: "max_budget_in_team",
		`{"team_id": "nope", "user_id": "ana"}`:                          "Team doesn't exist",
	} {
		r := e.master("POST", "/team/member_update", body)
		if r.status < 400 || !strings.Contains(string(r.body), want) {
			t.Errorf("%s: %d %s", body, r.status, r.body)
		}
	}
	if r := e.master("POST", "/team/update", `{"team_id": "eng", "team_member_budget_duration": "often"}`); r.status != 400 {
		t.Errorf("bad duration: %d %s", r.status, r.body)
	}

	// A removed member's own cap goes with the membership: the key cy keeps is under the default.
	e.ok("POST", "/team/member_delete", `{"team_id": "eng", "user_id": "cy"}`)
	e.served(cy, 1)
	e.memberRefused(cy, "eng", "cy")
	// A deleted user's caps go too, in the store, for every gateway.
	e.ok("POST", "/user/delete", `{"user_ids": ["ana"]}`)
	rows, err := e.l.Store().MemberBudgets(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.UserID == "ana" && r.MaxBudget != nil {
			t.Errorf("a cap left behind: %+v", r)
		}
	}
}

// The team's budget still refuses every member once it is spent, though their own have room.
func TestTeamBudgetBeforeMemberBudget(t *testing.T) {
	e := newEnv(t)
	e.ok("POST", "/team/new", fmt.Sprintf(`{"team_id": "eng", "max_budget": %v, "members_with_roles": [{"user_id": "ana"}, {"user_id": "bob"}]}`,
		2.5*callCost))
	e.ok("POST", "/team/update", fmt.Sprintf(`{"team_id": "eng", "team_member_budget": %v}`, 2*callCost))
	ana, _ := e.generate(`{"team_id": "eng", "user_id": "ana"}`)
	bob, _ := e.generate(`{"team_id": "eng", "user_id": "bob"}`)
	e.served(ana, 1)
	e.served(bob, 2)
	for _, k := range []string{ana, bob} {
		er := e.chat(k, exactChat).errOf(t, 429)
		if er.Details["budget"] != "team" || !strings.Contains(er.Message, "Budget has been exceeded! Team=eng") {
			t.Errorf("refusal: %+v", er)
		}
	}
}

// A member's spend survives a restart, and resets with the window once.
func TestTeamMemberBudgetRestartAndReset(t *testing.T) {
	clk := newClock(time.Now().UTC())
	e := newEnv(t, withClock(clk))
	e.ok("POST", "/team/new", fmt.Sprintf(`{"team_id": "eng", "team_member_budget": %v, "team_member_budget_duration": "1d",
		"members_with_roles": [{"user_id": "ana"}]}`, 1.5*callCost))
	ana, _ := e.generate(`{"team_id": "eng", "user_id": "ana"}`)
	e.served(ana, 2)
	e.restart()
	e.memberRefused(ana, "eng", "ana")
	bt := e.membership("eng", "ana")["litellm_budget_table"].(map[string]any)
	reset, err := time.Parse(time.RFC3339, bt["budget_reset_at"].(string))
	if err != nil {
		t.Fatal(err)
	}
	clk.Set(reset)
	e.served(ana, 1)
	e.restart()
	// The old window's two calls do not come back (the one call was logged, by the real clock,
	// before the new window began).
	if m := e.membership("eng", "ana"); m["spend"] != 0.0 {
		t.Errorf("spend in the new window after restart: %v", m)
	}
	e.served(ana, 2)
	e.memberRefused(ana, "eng", "ana")
	rows, err := e.l.Store().MemberBudgets(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, r := range rows {
		if r.TeamID == "eng" && r.UserID == "ana" {
			found = true
			if r.SpendSince == nil || !r.SpendSince.Equal(reset) || r.BudgetResetAt == nil || !r.BudgetResetAt.After(reset) {
				t.Errorf("stored window: %+v", r)
			}
		}
	}
	if !found {
		t.Errorf("no stored window: %+v", rows)
	}
}
