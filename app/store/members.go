package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// memberBudgetsMigration stores LiteLLM's team member budgets: a team's default for every member
// (team_member_budget, team_member_budget_duration: the row with an empty user_id), one member's
// max_budget_in_team (the row with the user's id), and the window each member's budget is in
// (spend, spend_since, budget_reset_at, as a team's row keeps its own). A member's spend is that
// of the spend logs of the team's keys the user owns, counted from spend_since. Portable SQL.
const memberBudgetsMigration = `
CREATE TABLE member_budgets (
	team_id         TEXT NOT NULL,
	user_id         TEXT NOT NULL,               -- '': the team's default for every member
	max_budget      REAL,                        -- NULL: none (a member's: the team's default applies)
	budget_duration TEXT NOT NULL DEFAULT '',    -- the default row's; members use it
	spend           REAL NOT NULL DEFAULT 0,
	spend_since     INTEGER,
	budget_reset_at INTEGER,
	updated_at      INTEGER NOT NULL,
	PRIMARY KEY (team_id, user_id)
);
`

// MemberBudget is one row of member_budgets: a team's default (UserID "") or one member's.
type MemberBudget struct {
	TeamID, UserID string
	MaxBudget      *float64
	BudgetDuration string
	Spend          float64 // the window's spend set at its start, counted from SpendSince
	SpendSince     *time.Time
	BudgetResetAt  *time.Time
}

// MemberBudgets returns every row.
func (s *Store) MemberBudgets(ctx context.Context) ([]MemberBudget, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT team_id, user_id, max_budget, budget_duration, spend, spend_since, budget_reset_at
		FROM member_budgets ORDER BY team_id, user_id`)
	if err != nil {
		return nil, fmt.Errorf("store: member budgets: %w", err)
	}
	defer rows.Close()
	var out []MemberBudget
	for rows.Next() {
		var m MemberBudget
		var maxB sql.NullFloat64
		var since, reset sql.NullInt64
		if err := rows.Scan(&m.TeamID, &m.UserID, &maxB, &m.BudgetDuration, &m.Spend, &since, &reset); err != nil {
			return nil, fmt.Errorf("store: member budgets: %w", err)
		}
		m.MaxBudget, m.SpendSince, m.BudgetResetAt = floatPtr(maxB), timePtr(since), timePtr(reset)
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: member budgets: %w", err)
	}
	return out, nil
}

// SetMemberBudget writes the cap (and, for a team's default, the duration) of a row, keeping its
// window; a new row starts without one.
func (s *Store) SetMemberBudget(ctx context.Context, team, user string, maxBudget *float64, duration string) error {
	return s.writeTx(ctx, "set member budget", func(tx *txn) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO member_budgets (team_id, user_id, max_budget, budget_duration, updated_at)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT (team_id, user_id) DO UPDATE SET max_budget = excluded.max_budget,
			budget_duration = excluded.budget_duration, updated_at = excluded.updated_at`,
			team, user, nullFloat(maxBudget), duration, micros(time.Now()))
		return err
	})
}

// SetMemberSpend starts a member's budget window at windowStart with spend so far, ending at
// nextReset (a reset: spend 0). It does not mark the row changed for other processes: the window
// is each process's own to follow, as a team's is.
func (s *Store) SetMemberSpend(ctx context.Context, team, user string, spend float64, windowStart time.Time, nextReset *time.Time) error {
	return s.writeTx(ctx, "set member spend", func(tx *txn) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO member_budgets (team_id, user_id, spend, spend_since, budget_reset_at, updated_at)
			VALUES (?, ?, ?, ?, ?, 0) ON CONFLICT (team_id, user_id) DO UPDATE SET spend = excluded.spend,
			spend_since = excluded.spend_since, budget_reset_at = excluded.budget_reset_at`,
			team, user, spend, micros(windowStart), nullMicros(nextReset))
		return err
	})
}

// DeleteMemberBudgets deletes a team's rows (the team is gone).
func (s *Store) DeleteMemberBudgets(ctx context.Context, team string) error {
	return s.writeTx(ctx, "delete member budgets", func(tx *txn) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM member_budgets WHERE team_id = ?`, team)
		return err
	})
}

// MemberSpendSince is the spend of the logs of team's keys owned by user that started at or after since.
func (s *Store) MemberSpendSince(ctx context.Context, team, user string, since time.Time) (float64, error) {
	var v float64
	if err := s.r.QueryRowContext(ctx, `SELECT COALESCE(SUM(spend), 0) FROM spend_logs WHERE team_id = ? AND user_id = ? AND start_time >= ?`,
		team, user, micros(since)).Scan(&v); err != nil {
		return 0, fmt.Errorf("store: member spend: %w", err)
	}
	return v, nil
}
