package store

import (
	"testing"
	"time"
)

// Member budgets round-trip on every engine: a team's default and a member's cap keep the
// member's window when rewritten, a window keeps the caps, the mark moves with a cap, and a
// member's spend is the logs of the team's keys the user owns.
func TestMemberBudgets(t *testing.T) {
	for _, e := range engines {
		t.Run(string(e), func(t *testing.T) {
			s := e.open(t)
			ctx := t.Context()
			t0 := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
			two, five := 2.0, 5.0
			mark0, err := s.OwnersMark(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.SetMemberBudget(ctx, "t", "", &two, "30d"); err != nil {
				t.Fatal(err)
			}
			next := t0.Add(24 * time.Hour)
			if err := s.SetMemberSpend(ctx, "t", "u", 0.25, t0, &next); err != nil {
				t.Fatal(err)
			}
			if err := s.SetMemberBudget(ctx, "t", "u", &five, ""); err != nil {
				t.Fatal(err)
			}
			if mark, _ := s.OwnersMark(ctx); mark == mark0 {
				t.Error("the owners mark did not move with a member budget")
			}
			rows, err := s.MemberBudgets(ctx)
			if err != nil || len(rows) != 2 {
				t.Fatalf("rows %+v %v", rows, err)
			}
			if d := rows[0]; d.UserID != "" || *d.MaxBudget != 2 || d.BudgetDuration != "30d" || d.SpendSince != nil {
				t.Errorf("default %+v", d)
			}
			if m := rows[1]; m.UserID != "u" || *m.MaxBudget != 5 || m.Spend != 0.25 || !m.SpendSince.Equal(t0) || !m.BudgetResetAt.Equal(next) {
				t.Errorf("member %+v", m)
			}
			logs := []SpendLog{
				{RequestID: "a", User: "u", TeamID: "t", Spend: 1, StartTime: t0.Add(time.Hour)},
				{RequestID: "b", User: "u", TeamID: "other", Spend: 2, StartTime: t0.Add(time.Hour)},
				{RequestID: "c", User: "w", TeamID: "t", Spend: 4, StartTime: t0.Add(time.Hour)},
				{RequestID: "d", User: "u", TeamID: "t", Spend: 8, StartTime: t0.Add(-time.Hour)},
			}
			if err := s.InsertSpendLogs(ctx, logs); err != nil {
				t.Fatal(err)
			}
			if got, err := s.MemberSpendSince(ctx, "t", "u", t0); err != nil || got != 1 {
				t.Errorf("member spend %v %v, want 1", got, err)
			}
			if err := s.DeleteMemberBudgets(ctx, "t"); err != nil {
				t.Fatal(err)
			}
			if rows, _ := s.MemberBudgets(ctx); len(rows) != 0 {
				t.Errorf("after delete: %+v", rows)
			}
		})
	}
}
