package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrExists is returned when a team or user with the same id is already stored.
var ErrExists = errors.New("already exists")

// Limits are the budget and access fields LiteLLM's team and user tables share with a key's.
type Limits struct {
	// Spend is the starting or last set spend, counted from SpendSince; the logs since SpendSince
	// add to it (the ledger sums them at start). Only SetOwnerSpend changes it after creation.
	Spend               float64
	SpendSince          *time.Time
	MaxBudget           *float64
	SoftBudget          *float64
	BudgetDuration      string
	BudgetResetAt       *time.Time
	Models              []string       // never nil when read back
	Metadata            map[string]any // never nil when read back
	TPMLimit            *int64
	RPMLimit            *int64
	MaxParallelRequests *int64
	CreatedAt           time.Time
	UpdatedAt           time.Time
}

// Team is a team, after LiteLLM's LiteLLM_TeamTable. Its members are in team_memberships.
type Team struct {
	TeamID    string
	TeamAlias string
	Blocked   bool
	Limits
}

// Member is one user's place in a team: LiteLLM's members_with_roles entry ("admin" or "user").
type Member struct {
	TeamID    string
	UserID    string
	UserEmail string // the user's, when read back
	Role      string
	CreatedAt time.Time
}

// limitCols are the Limits columns, in scanLimits' order.
const limitCols = `spend, spend_since, max_budget, soft_budget, budget_duration, budget_reset_at, models, metadata,
	tpm_limit, rpm_limit, max_parallel_requests, created_at, updated_at`

// limitScan holds a row's Limits columns while they are scanned.
type limitScan struct {
	since, resetAt, tpm, rpm, par sql.NullInt64
	maxB, softB                   sql.NullFloat64
	models, meta                  string
	created, updated              int64
}

func (s *limitScan) dest(l *Limits) []any {
	return []any{&l.Spend, &s.since, &s.maxB, &s.softB, &l.BudgetDuration, &s.resetAt, &s.models, &s.meta,
		&s.tpm, &s.rpm, &s.par, &s.created, &s.updated}
}

func (s *limitScan) finish(l *Limits) error {
	l.SpendSince, l.BudgetResetAt = timePtr(s.since), timePtr(s.resetAt)
	l.MaxBudget, l.SoftBudget = floatPtr(s.maxB), floatPtr(s.softB)
	l.TPMLimit, l.RPMLimit, l.MaxParallelRequests = intPtr(s.tpm), intPtr(s.rpm), intPtr(s.par)
	l.CreatedAt, l.UpdatedAt = fromMicros(s.created), fromMicros(s.updated)
	if err := json.Unmarshal([]byte(s.models), &l.Models); err != nil {
		return fmt.Errorf("models: %w", err)
	}
	if l.Models == nil {
		l.Models = []string{}
	}
	if err := json.Unmarshal([]byte(s.meta), &l.Metadata); err != nil {
		return fmt.Errorf("metadata: %w", err)
	}
	if l.Metadata == nil {
		l.Metadata = map[string]any{}
	}
	return nil
}

// args are the Limits values for an INSERT in limitCols order (spend_since starts NULL).
func (l *Limits) args(now time.Time) ([]any, error) {
	models, meta, err := keyJSON(Key{Models: l.Models, Metadata: l.Metadata})
	if err != nil {
		return nil, err
	}
	if l.CreatedAt.IsZero() {
		l.CreatedAt = now
	}
	if l.UpdatedAt.IsZero() {
		l.UpdatedAt = l.CreatedAt
	}
	return []any{l.Spend, nullMicros(l.SpendSince), nullFloat(l.MaxBudget), nullFloat(l.SoftBudget), l.BudgetDuration,
		nullMicros(l.BudgetResetAt), models, meta, nullInt(l.TPMLimit), nullInt(l.RPMLimit), nullInt(l.MaxParallelRequests),
		micros(l.CreatedAt), micros(l.UpdatedAt)}, nil
}

// updateSet is the SET clause and values that UpdateTeam and UpdateUser write from Limits: every
// field but the spend and its window, which have their own writer.
func (l *Limits) updateSet() (string, []any, error) {
	models, meta, err := keyJSON(Key{Models: l.Models, Metadata: l.Metadata})
	if err != nil {
		return "", nil, err
	}
	return `max_budget = ?, soft_budget = ?, budget_duration = ?, budget_reset_at = ?, models = ?, metadata = ?,
		tpm_limit = ?, rpm_limit = ?, max_parallel_requests = ?, updated_at = ?`,
		[]any{nullFloat(l.MaxBudget), nullFloat(l.SoftBudget), l.BudgetDuration, nullMicros(l.BudgetResetAt), models, meta,
			nullInt(l.TPMLimit), nullInt(l.RPMLimit), nullInt(l.MaxParallelRequests), micros(time.Now())}, nil
}

const teamCols = `team_id, team_alias, blocked, ` + limitCols

func scanTeam(r rowScanner) (Team, error) {
	var t Team
	var ls limitScan
	if err := r.Scan(append([]any{&t.TeamID, &t.TeamAlias, &t.Blocked}, ls.dest(&t.Limits)...)...); err != nil {
		return Team{}, err
	}
	if err := ls.finish(&t.Limits); err != nil {
		return Team{}, fmt.Errorf("team %s: %w", t.TeamID, err)
	}
	return t, nil
}

// CreateTeam inserts t with its members (users missing from the users table are added with just
// their id and email, as LiteLLM's member_add does). It returns ErrExists for a team_id taken.
func (s *Store) CreateTeam(ctx context.Context, t Team, members []Member) error {
	if t.TeamID == "" {
		return errors.New("store: create team: empty team_id")
	}
	args, err := t.Limits.args(time.Now())
	if err != nil {
		return fmt.Errorf("store: create team: %w", err)
	}
	return s.writeTx(ctx, "create team", func(tx *txn) error {
		if err := absent(ctx, tx, `SELECT team_id FROM teams WHERE team_id = ?`, t.TeamID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO teams (`+teamCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			append([]any{t.TeamID, t.TeamAlias, t.Blocked}, args...)...); err != nil {
			return err
		}
		return addMembers(ctx, tx, t.TeamID, members)
	})
}

// absent returns ErrExists when query (a lookup by id) finds a row.
func absent(ctx context.Context, tx *txn, query string, id string) error {
	var found string
	err := tx.QueryRowContext(ctx, query, id).Scan(&found)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil
	case err != nil:
		return err
	}
	return fmt.Errorf("%w: %q", ErrExists, id)
}

// GetTeam returns the team, or ErrNotFound.
func (s *Store) GetTeam(ctx context.Context, id string) (Team, error) {
	t, err := scanTeam(s.r.QueryRowContext(ctx, `SELECT `+teamCols+` FROM teams WHERE team_id = ?`, id))
	return t, wrapGet("team", err)
}

// ListTeams returns every team (of userID only, when set), oldest first.
func (s *Store) ListTeams(ctx context.Context, userID string) ([]Team, error) {
	q, args := `SELECT `+teamCols+` FROM teams ORDER BY created_at, team_id`, []any{}
	if userID != "" {
		q = `SELECT ` + teamCols + ` FROM teams WHERE team_id IN (SELECT team_id FROM team_memberships WHERE user_id = ?)
			ORDER BY created_at, team_id`
		args = append(args, userID)
	}
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list teams: %w", err)
	}
	defer rows.Close()
	out := []Team{}
	for rows.Next() {
		t, err := scanTeam(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list teams: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list teams: %w", err)
	}
	return out, nil
}

// UpdateTeam writes every field of t but its spend and window (SetOwnerSpend, ResetOwnerSpend) and
// CreatedAt. It returns ErrNotFound.
func (s *Store) UpdateTeam(ctx context.Context, t Team) error {
	set, args, err := t.Limits.updateSet()
	if err != nil {
		return fmt.Errorf("store: update team: %w", err)
	}
	return s.writeTx(ctx, "update team", func(tx *txn) error {
		res, err := tx.ExecContext(ctx, `UPDATE teams SET team_alias = ?, blocked = ?, `+set+` WHERE team_id = ?`,
			append(append([]any{t.TeamAlias, t.Blocked}, args...), t.TeamID)...)
		if err != nil {
			return err
		}
		return mustAffect(res)
	})
}

// DeleteTeam deletes the team, its memberships and its keys (LiteLLM deletes a team's keys with
// it), in one transaction, and returns the tokens of the keys deleted. Spend logs stay. It returns
// ErrNotFound when there is no such team.
func (s *Store) DeleteTeam(ctx context.Context, id string) ([]string, error) {
	return s.deleteOwner(ctx, "delete team", "teams", "team_id", id)
}

// deleteOwner deletes the row of table whose col is id, the memberships and keys with the same
// col, and returns the tokens of those keys.
func (s *Store) deleteOwner(ctx context.Context, what, table, col, id string) ([]string, error) {
	var tokens []string
	err := s.writeTx(ctx, what, func(tx *txn) error {
		tokens = tokens[:0]
		rows, err := tx.QueryContext(ctx, `SELECT token FROM keys WHERE `+col+` = ?`, id)
		if err != nil {
			return err
		}
		for rows.Next() {
			var t string
			if err := rows.Scan(&t); err != nil {
				rows.Close()
				return err
			}
			tokens = append(tokens, t)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, q := range []string{`DELETE FROM keys WHERE ` + col + ` = ?`, `DELETE FROM team_memberships WHERE ` + col + ` = ?`} {
			if _, err := tx.ExecContext(ctx, q, id); err != nil {
				return err
			}
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE `+col+` = ?`, id)
		if err != nil {
			return err
		}
		return mustAffect(res)
	})
	if err != nil {
		return nil, err
	}
	return tokens, nil
}

// addMembers upserts members of team (a member added again takes the new role) and adds the users
// it does not know.
func addMembers(ctx context.Context, tx *txn, team string, members []Member) error {
	now := micros(time.Now())
	for _, m := range members {
		if strings.TrimSpace(m.UserID) == "" {
			return errors.New("a member needs a user_id")
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO users (user_id, user_email, created_at, updated_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (user_id) DO NOTHING`, m.UserID, m.UserEmail, now, now); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO team_memberships (team_id, user_id, role, created_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (team_id, user_id) DO UPDATE SET role = excluded.role`, team, m.UserID, m.Role, now); err != nil {
			return err
		}
	}
	return nil
}

// AddMembers adds members to the team (see CreateTeam). It returns ErrNotFound for no such team.
func (s *Store) AddMembers(ctx context.Context, team string, members []Member) error {
	return s.writeTx(ctx, "add team members", func(tx *txn) error {
		if err := teamExists(ctx, tx, team); err != nil {
			return err
		}
		return addMembers(ctx, tx, team, members)
	})
}

// teamExists returns ErrNotFound when there is no such team.
func teamExists(ctx context.Context, tx *txn, team string) error {
	err := absent(ctx, tx, `SELECT team_id FROM teams WHERE team_id = ?`, team)
	switch {
	case err == nil:
		return ErrNotFound
	case errors.Is(err, ErrExists):
		return nil
	}
	return err
}

// RemoveMember takes the user out of the team. It returns ErrNotFound when the user was not in it.
// The user's keys for the team stay (LiteLLM keeps them too); the team's budget still covers them.
func (s *Store) RemoveMember(ctx context.Context, team, user string) error {
	return s.writeTx(ctx, "remove team member", func(tx *txn) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM team_memberships WHERE team_id = ? AND user_id = ?`, team, user)
		if err != nil {
			return err
		}
		return mustAffect(res)
	})
}

// Members returns the team's members with their emails, oldest first.
func (s *Store) Members(ctx context.Context, team string) ([]Member, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT m.team_id, m.user_id, COALESCE(u.user_email, ''), m.role, m.created_at
		FROM team_memberships m LEFT JOIN users u ON u.user_id = m.user_id WHERE m.team_id = ?
		ORDER BY m.created_at, m.user_id`, team)
	if err != nil {
		return nil, fmt.Errorf("store: team members: %w", err)
	}
	defer rows.Close()
	out := []Member{}
	for rows.Next() {
		var m Member
		var at int64
		if err := rows.Scan(&m.TeamID, &m.UserID, &m.UserEmail, &m.Role, &at); err != nil {
			return nil, fmt.Errorf("store: team members: %w", err)
		}
		m.CreatedAt = fromMicros(at)
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: team members: %w", err)
	}
	return out, nil
}

// Owner names a team's or a user's row for the spend functions.
type Owner struct {
	table, col, id string
}

// TeamOwner and UserOwner name the row of a team and of a user.
func TeamOwner(id string) Owner { return Owner{"teams", "team_id", id} }

// UserOwner names a user's row; its spend is that of its keys' logs (spend_logs.user_id).
func UserOwner(id string) Owner { return Owner{"users", "user_id", id} }

// OwnerSpendSince is the spend of the owner's logs that started at or after since.
func (s *Store) OwnerSpendSince(ctx context.Context, o Owner, since time.Time) (float64, error) {
	var v float64
	if err := s.r.QueryRowContext(ctx, `SELECT COALESCE(SUM(spend), 0) FROM spend_logs WHERE `+o.col+` = ? AND start_time >= ?`,
		o.id, micros(since)).Scan(&v); err != nil {
		return 0, fmt.Errorf("store: %s spend: %w", o.col, err)
	}
	return v, nil
}

// SetOwnerSpend starts the owner's budget window at windowStart with spend as its spend so far
// (a reset: 0; an admin's "spend"), ending at nextReset. Logs that started before windowStart no
// longer count. It returns ErrNotFound.
func (s *Store) SetOwnerSpend(ctx context.Context, o Owner, spend float64, windowStart time.Time, nextReset *time.Time) error {
	return s.writeTx(ctx, "set "+o.col+" spend", func(tx *txn) error {
		res, err := tx.ExecContext(ctx, `UPDATE `+o.table+` SET spend = ?, spend_since = ?, budget_reset_at = ? WHERE `+o.col+` = ?`,
			spend, micros(windowStart), nullMicros(nextReset), o.id)
		if err != nil {
			return err
		}
		return mustAffect(res)
	})
}

// OwnersMark changes whenever a team, user or member budget is created, updated or deleted, by any process: a
// running gateway compares it to the last it saw to know when to re-read them.
func (s *Store) OwnersMark(ctx context.Context) (string, error) {
	var tn, tu, un, uu, mn, mu int64
	if err := s.r.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM teams), (SELECT COALESCE(MAX(updated_at), 0) FROM teams),
		(SELECT COUNT(*) FROM users), (SELECT COALESCE(MAX(updated_at), 0) FROM users),
		(SELECT COUNT(*) FROM member_budgets), (SELECT COALESCE(MAX(updated_at), 0) FROM member_budgets)`).Scan(&tn, &tu, &un, &uu, &mn, &mu); err != nil {
		return "", fmt.Errorf("store: owners mark: %w", err)
	}
	return fmt.Sprint(tn, tu, un, uu, mn, mu), nil
}
