package store

import (
	"errors"
	"reflect"
	"testing"
	"time"
)

func TestTeamRoundTripAndMembers(t *testing.T) {
	s := openTest(t)
	ctx := t.Context()
	now := time.Now().UTC().Truncate(time.Microsecond)
	reset := now.Add(24 * time.Hour)
	tm := Team{TeamID: "eng", TeamAlias: "Engineering", Blocked: true, Limits: Limits{Spend: 1.5, MaxBudget: ptr(10.0),
		SoftBudget: ptr(8.0), BudgetDuration: "1d", BudgetResetAt: &reset, Models: []string{"a", "b/*"},
		Metadata: map[string]any{"cc": "42"}, TPMLimit: ptr(int64(1000)), RPMLimit: ptr(int64(10)),
		MaxParallelRequests: ptr(int64(2)), CreatedAt: now, UpdatedAt: now}}
	if err := s.CreateTeam(ctx, tm, []Member{{UserID: "ana", UserEmail: "ana@x", Role: "admin"}}); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetTeam(ctx, "eng")
	if err != nil || !reflect.DeepEqual(got, tm) {
		t.Errorf("round trip:\n got %+v %v\nwant %+v", got, err, tm)
	}
	if err := s.CreateTeam(ctx, Team{TeamID: "eng"}, nil); !errors.Is(err, ErrExists) {
		t.Errorf("duplicate team: %v", err)
	}
	// Adding a member creates the user; adding again changes the role.
	u, err := s.GetUser(ctx, "ana")
	if err != nil || u.UserEmail != "ana@x" || u.UserRole != "internal_user" {
		t.Errorf("member's user: %+v %v", u, err)
	}
	if err := s.AddMembers(ctx, "eng", []Member{{UserID: "ana", Role: "user"}, {UserID: "bob", Role: "user"}}); err != nil {
		t.Fatal(err)
	}
	ms, err := s.Members(ctx, "eng")
	if err != nil || len(ms) != 2 || ms[0].UserID != "ana" || ms[0].Role != "user" || ms[0].UserEmail != "ana@x" || ms[1].UserID != "bob" {
		t.Errorf("members: %+v %v", ms, err)
	}
	if err := s.AddMembers(ctx, "nope", []Member{{UserID: "x"}}); !errors.Is(err, ErrNotFound) {
		t.Errorf("members of no team: %v", err)
	}
	if err := s.RemoveMember(ctx, "eng", "bob"); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveMember(ctx, "eng", "bob"); !errors.Is(err, ErrNotFound) {
		t.Errorf("removing twice: %v", err)
	}
	if teams, err := s.ListTeams(ctx, "ana"); err != nil || len(teams) != 1 {
		t.Errorf("ana's teams: %v %v", teams, err)
	}
	if teams, err := s.ListTeams(ctx, "bob"); err != nil || len(teams) != 0 {
		t.Errorf("bob's teams: %v %v", teams, err)
	}
	// UpdateTeam writes everything but the spend and its window.
	tm.TeamAlias, tm.Blocked, tm.Models, tm.Spend = "E", false, []string{}, 99
	if err := s.UpdateTeam(ctx, tm); err != nil {
		t.Fatal(err)
	}
	got, _ = s.GetTeam(ctx, "eng")
	if got.TeamAlias != "E" || got.Blocked || len(got.Models) != 0 || got.Spend != 1.5 {
		t.Errorf("after update: %+v", got)
	}
	if err := s.UpdateTeam(ctx, Team{TeamID: "nope"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("update of no team: %v", err)
	}
}

// Deleting a team deletes its keys and memberships in the same transaction; logs stay.
func TestDeleteTeamAndUser(t *testing.T) {
	s := openTest(t)
	ctx := t.Context()
	if err := s.CreateTeam(ctx, Team{TeamID: "t"}, []Member{{UserID: "u", Role: "user"}}); err != nil {
		t.Fatal(err)
	}
	for _, k := range []Key{{Token: "k1", TeamID: "t"}, {Token: "k2", TeamID: "t", UserID: "u"}, {Token: "k3", UserID: "u"}, {Token: "k4"}} {
		if err := s.CreateKey(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	if k, _ := s.GetKey(ctx, "k2"); k.TeamID != "t" {
		t.Errorf("key team_id %q", k.TeamID)
	}
	if keys, total, err := s.ListKeys(ctx, ListKeysOpts{TeamID: "t"}); err != nil || total != 2 || len(keys) != 2 {
		t.Errorf("team keys: %d %v", total, err)
	}
	if err := s.InsertSpendLogs(ctx, []SpendLog{{RequestID: "r", APIKey: "k1", TeamID: "t", Spend: 1, StartTime: time.Now()}}); err != nil {
		t.Fatal(err)
	}
	tokens, err := s.DeleteTeam(ctx, "t")
	if err != nil || !reflect.DeepEqual(tokens, []string{"k1", "k2"}) {
		t.Errorf("deleted keys %v %v", tokens, err)
	}
	if _, err := s.GetKey(ctx, "k2"); !errors.Is(err, ErrNotFound) {
		t.Errorf("a deleted team's key: %v", err)
	}
	if teams, _ := s.UserTeams(ctx, "u"); len(teams) != 0 {
		t.Errorf("memberships left: %v", teams)
	}
	if logs, _, _ := s.QuerySpendLogs(ctx, SpendQuery{TeamID: "t"}); len(logs) != 1 || logs[0].TeamID != "t" {
		t.Errorf("the team's logs: %+v", logs)
	}
	if _, err := s.DeleteTeam(ctx, "t"); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleting twice: %v", err)
	}
	tokens, err = s.DeleteUser(ctx, "u")
	if err != nil || !reflect.DeepEqual(tokens, []string{"k3"}) {
		t.Errorf("a user's deleted keys %v %v", tokens, err)
	}
	if _, err := s.GetKey(ctx, "k4"); err != nil {
		t.Errorf("an unrelated key: %v", err)
	}
}

// A team's or user's spend is its set spend plus its logs since the window began.
func TestOwnerSpend(t *testing.T) {
	s := openTest(t)
	ctx := t.Context()
	t0 := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	if err := s.CreateUser(ctx, User{UserID: "u", Limits: Limits{CreatedAt: t0}}, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateUser(ctx, User{UserID: "u"}, nil); !errors.Is(err, ErrExists) {
		t.Errorf("duplicate user: %v", err)
	}
	if err := s.CreateUser(ctx, User{UserID: "v"}, []string{"nope"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("user in no team: %v", err)
	}
	logs := []SpendLog{
		{RequestID: "a", User: "u", TeamID: "t", Spend: 1, StartTime: t0.Add(time.Hour)},
		{RequestID: "b", User: "u", Spend: 2, StartTime: t0.Add(3 * time.Hour)},
		{RequestID: "c", User: "w", TeamID: "t", Spend: 4, StartTime: t0.Add(3 * time.Hour)},
	}
	if err := s.InsertSpendLogs(ctx, logs); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		o     Owner
		since time.Time
		want  float64
	}{{UserOwner("u"), t0, 3}, {UserOwner("u"), t0.Add(2 * time.Hour), 2}, {TeamOwner("t"), t0, 5}, {TeamOwner("t"), t0.Add(2 * time.Hour), 4}} {
		if got, err := s.OwnerSpendSince(ctx, c.o, c.since); err != nil || got != c.want {
			t.Errorf("%+v since %v: %v %v, want %v", c.o, c.since, got, err, c.want)
		}
	}
	next := t0.Add(48 * time.Hour)
	if err := s.SetOwnerSpend(ctx, UserOwner("u"), 0.5, t0.Add(2*time.Hour), &next); err != nil {
		t.Fatal(err)
	}
	u, _ := s.GetUser(ctx, "u")
	if u.Spend != 0.5 || !u.SpendSince.Equal(t0.Add(2*time.Hour)) || !u.BudgetResetAt.Equal(next) {
		t.Errorf("after SetOwnerSpend: %+v", u.Limits)
	}
	if err := s.SetOwnerSpend(ctx, TeamOwner("nope"), 0, t0, nil); !errors.Is(err, ErrNotFound) {
		t.Errorf("no such team: %v", err)
	}
	if us, total, err := s.ListUsers(ctx, "internal_user", 1, 10); err != nil || total != 1 || len(us) != 1 {
		t.Errorf("list users: %v %d %v", us, total, err)
	}
	groups, err := s.SpendSummary(ctx, SummaryQuery{By: ByTeam})
	if err != nil || len(groups) != 2 || groups[0].TeamID != "t" || groups[0].Spend != 5 || groups[1].TeamID != "" {
		t.Errorf("summary by team: %+v %v", groups, err)
	}
}
