package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// User is an internal user, after LiteLLM's LiteLLM_UserTable: the owner of keys (keys.user_id),
// with a budget over all of them.
type User struct {
	UserID    string
	UserAlias string
	UserEmail string
	UserRole  string // proxy_admin, internal_user, ...; "" reads back as internal_user
	Limits
}

const userCols = `user_id, user_alias, user_email, user_role, ` + limitCols

func scanUser(r rowScanner) (User, error) {
	var u User
	var ls limitScan
	if err := r.Scan(append([]any{&u.UserID, &u.UserAlias, &u.UserEmail, &u.UserRole}, ls.dest(&u.Limits)...)...); err != nil {
		return User{}, err
	}
	if err := ls.finish(&u.Limits); err != nil {
		return User{}, fmt.Errorf("user %s: %w", u.UserID, err)
	}
	return u, nil
}

// CreateUser inserts u and makes it a member of teams (role "user"). It returns ErrExists for a
// user_id taken and ErrNotFound when a team does not exist.
func (s *Store) CreateUser(ctx context.Context, u User, teams []string) error {
	if u.UserID == "" {
		return errors.New("store: create user: empty user_id")
	}
	if u.UserRole == "" {
		u.UserRole = "internal_user"
	}
	args, err := u.Limits.args(time.Now())
	if err != nil {
		return fmt.Errorf("store: create user: %w", err)
	}
	return s.writeTx(ctx, "create user", func(tx *txn) error {
		if err := absent(ctx, tx, `SELECT user_id FROM users WHERE user_id = ?`, u.UserID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO users (`+userCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			append([]any{u.UserID, u.UserAlias, u.UserEmail, u.UserRole}, args...)...); err != nil {
			return err
		}
		for _, t := range teams {
			if err := teamExists(ctx, tx, t); err != nil {
				return fmt.Errorf("team %q: %w", t, err)
			}
			if err := addMembers(ctx, tx, t, []Member{{UserID: u.UserID, UserEmail: u.UserEmail, Role: "user"}}); err != nil {
				return err
			}
		}
		return nil
	})
}

// GetUser returns the user, or ErrNotFound.
func (s *Store) GetUser(ctx context.Context, id string) (User, error) {
	u, err := scanUser(s.r.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE user_id = ?`, id))
	return u, wrapGet("user", err)
}

// ListUsers returns one page of users (1-based; size <= 0: all), oldest first, with role as a
// filter when set, and how many match.
func (s *Store) ListUsers(ctx context.Context, role string, page, size int) ([]User, int, error) {
	w, args := "", []any{}
	if role != "" {
		w, args = " WHERE user_role = ?", append(args, role)
	}
	var total int
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`+w, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("store: list users: %w", err)
	}
	limit, offset := limitOffset(page, size)
	rows, err := s.r.QueryContext(ctx, `SELECT `+userCols+` FROM users`+w+` ORDER BY created_at, user_id LIMIT ? OFFSET ?`,
		append(args, limit, offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("store: list users: %w", err)
	}
	defer rows.Close()
	out := []User{}
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("store: list users: %w", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("store: list users: %w", err)
	}
	return out, total, nil
}

// UserTeams returns the ids of the teams the user is a member of.
func (s *Store) UserTeams(ctx context.Context, id string) ([]string, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT team_id FROM team_memberships WHERE user_id = ? ORDER BY created_at, team_id`, id)
	if err != nil {
		return nil, fmt.Errorf("store: user teams: %w", err)
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, fmt.Errorf("store: user teams: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// UpdateUser writes every field of u but its spend and window and CreatedAt. It returns ErrNotFound.
func (s *Store) UpdateUser(ctx context.Context, u User) error {
	set, args, err := u.Limits.updateSet()
	if err != nil {
		return fmt.Errorf("store: update user: %w", err)
	}
	return s.writeTx(ctx, "update user", func(tx *txn) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET user_alias = ?, user_email = ?, user_role = ?, `+set+` WHERE user_id = ?`,
			append(append([]any{u.UserAlias, u.UserEmail, u.UserRole}, args...), u.UserID)...)
		if err != nil {
			return err
		}
		return mustAffect(res)
	})
}

// DeleteUser deletes the user, its team memberships and its keys (LiteLLM deletes a user's keys
// with it) in one transaction, and returns the tokens of the keys deleted. Spend logs stay.
func (s *Store) DeleteUser(ctx context.Context, id string) ([]string, error) {
	return s.deleteOwner(ctx, "delete user", "users", "user_id", id)
}
