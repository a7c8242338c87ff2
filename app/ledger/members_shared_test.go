package ledger

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/clawgate/clawgate/proxy"
)

func TestSharedMemberOvershoot(t *testing.T)         { testSharedMemberOvershoot(t, sqliteReplicas) }
func TestPostgresSharedMemberOvershoot(t *testing.T) { testSharedMemberOvershoot(t, pgReplicas) }

// A team member budget holds across gateways as a team's does: 200 requests at once on three
// gateways, on ana's key of a team whose member budget has room for 10 (and whose own budget has
// room for far more), stay within 15% of it; the refusal names the member, bob (another member)
// is still served, and a max_budget_in_team set on one gateway lets ana in on another.
func testSharedMemberOvershoot(t *testing.T, replicasOn func(*testing.T) replicaOpener) {
	ctx := context.Background()
	open := replicasOn(t)
	r := &replicas{t: t, clock: newClock(time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)), events: &events{}}
	o := Options{Now: r.clock.Now, OnEvent: r.events.add}
	r.ls = append(r.ls, open(t, o))
	team, limit, teamLimit := "eng", 10*unit, 1000*unit
	if _, err := r.ls[0].NewTeam(ctx, TeamRequest{TeamID: &team, LimitsRequest: LimitsRequest{MaxBudget: &teamLimit},
		MemberBudgetRequest: MemberBudgetRequest{TeamMemberBudget: &limit},
		MembersWithRoles:    []MemberRequest{{UserID: ptr("ana")}, {UserID: ptr("bob")}}}); err != nil {
		t.Fatalf("NewTeam: %v", err)
	}
	_, k, err := r.ls[0].GenerateKey(ctx, KeyRequest{TeamID: &team, UserID: ptr("ana")})
	if err != nil {
		t.Fatal(err)
	}
	_, kb, err := r.ls[0].GenerateKey(ctx, KeyRequest{TeamID: &team, UserID: ptr("bob")})
	if err != nil {
		t.Fatal(err)
	}
	r.key, r.p = k, &proxy.Principal{KeyHash: k.Token}
	for len(r.ls) < 3 {
		r.ls = append(r.ls, open(t, o))
	}
	overshoot(t, r, limit, memberBudget(team, "ana"))
	for i := range r.ls {
		_, err := r.admit(i, unit)
		var be *budgetExceeded
		if !refusedWith(err, "budget") || !strings.Contains(err.Error(), "Budget has been exceeded! User=ana in Team=eng") ||
			!asBudget(err, &be) || be.details["budget"] != "team_member" {
			t.Errorf("gateway %d: %v, want the member budget's refusal", i, err)
		}
		a, err := r.ls[i].Admit(ctx, &proxy.Principal{KeyHash: kb.Token}, "exact", unit, 100)
		if err != nil {
			t.Fatalf("gateway %d refused bob: %v", i, err)
		}
		a.Done(nil)
	}
	// Raised on gateway 0, the cap reaches gateway 1 when it next reads what changed.
	more := 1000 * unit
	if _, err := r.ls[0].UpdateTeamMember(ctx, MemberUpdate{TeamID: team, MemberRequest: MemberRequest{UserID: ptr("ana"), MaxBudgetInTeam: &more}}); err != nil {
		t.Fatal(err)
	}
	r.ls[1].tu.sync.next.Store(0)
	r.ls[1].syncOwners(ctx)
	a, err := r.admit(1, unit)
	if err != nil {
		t.Fatalf("after max_budget_in_team on another gateway: %v", err)
	}
	a.Done(nil)
}

func asBudget(err error, be **budgetExceeded) bool {
	e, ok := err.(*budgetExceeded)
	*be = e
	return ok
}
