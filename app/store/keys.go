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

// Key is a virtual key, after LiteLLM's LiteLLM_VerificationToken. The sk- key itself is never
// stored: Token is its SHA-256 hex.
type Key struct {
	Token    string // SHA-256 hex of the key; primary key
	KeyName  string // "sk-...XXXX", for display
	KeyAlias string // unique when set
	// Spend is the spend in the current budget window. Only InsertSpendLogs, AddKeySpend,
	// SetKeySpend and ResetKeySpend change it; CreateKey takes it as the starting spend and
	// UpdateKey ignores it, so a read-modify-write of a key never loses spend written meanwhile.
	Spend float64
	// SpendSince is the start of the current budget window (nil: since the key was made). Set by
	// ResetKeySpend; logs that started before it do not count towards Spend. Read-only.
	SpendSince          *time.Time
	MaxBudget           *float64
	SoftBudget          *float64
	BudgetDuration      string
	BudgetResetAt       *time.Time
	Expires             *time.Time
	Models              []string          // never nil when read back
	Metadata            map[string]any    // never nil when read back; JSON numbers come back as float64
	Aliases             map[string]string // model alias -> model group; never nil when read back
	TPMLimit            *int64
	RPMLimit            *int64
	MaxParallelRequests *int64
	Blocked             bool
	UserID              string
	TeamID              string // "" when the key belongs to no team
	CreatedAt           time.Time
	UpdatedAt           time.Time
	LastActive          *time.Time // the end of its latest logged request
}

const keyCols = `token, key_name, key_alias, spend, spend_since, max_budget, soft_budget, budget_duration,
	budget_reset_at, expires, models, metadata, tpm_limit, rpm_limit, max_parallel_requests, blocked,
	user_id, created_at, updated_at, last_active, aliases, team_id`

type rowScanner interface{ Scan(...any) error }

func scanKey(r rowScanner) (Key, error) {
	var (
		k                           Key
		alias                       sql.NullString
		since, resetAt, exp, active sql.NullInt64
		maxB, softB                 sql.NullFloat64
		models, meta, aliases       string
		tpm, rpm, par               sql.NullInt64
		created, updated            int64
	)
	if err := r.Scan(&k.Token, &k.KeyName, &alias, &k.Spend, &since, &maxB, &softB, &k.BudgetDuration,
		&resetAt, &exp, &models, &meta, &tpm, &rpm, &par, &k.Blocked, &k.UserID, &created, &updated, &active, &aliases, &k.TeamID); err != nil {
		return Key{}, err
	}
	k.KeyAlias = alias.String
	k.SpendSince = timePtr(since)
	k.MaxBudget, k.SoftBudget = floatPtr(maxB), floatPtr(softB)
	k.BudgetResetAt, k.Expires, k.LastActive = timePtr(resetAt), timePtr(exp), timePtr(active)
	k.TPMLimit, k.RPMLimit, k.MaxParallelRequests = intPtr(tpm), intPtr(rpm), intPtr(par)
	k.CreatedAt, k.UpdatedAt = fromMicros(created), fromMicros(updated)
	if err := json.Unmarshal([]byte(models), &k.Models); err != nil {
		return Key{}, fmt.Errorf("key %s: models: %w", k.Token, err)
	}
	if k.Models == nil {
		k.Models = []string{}
	}
	if err := json.Unmarshal([]byte(meta), &k.Metadata); err != nil {
		return Key{}, fmt.Errorf("key %s: metadata: %w", k.Token, err)
	}
	if k.Metadata == nil {
		k.Metadata = map[string]any{}
	}
	if err := json.Unmarshal([]byte(aliases), &k.Aliases); err != nil {
		return Key{}, fmt.Errorf("key %s: aliases: %w", k.Token, err)
	}
	if k.Aliases == nil {
		k.Aliases = map[string]string{}
	}
	return k, nil
}

// aliasesJSON is k.Aliases as stored: a JSON object, {} when none.
func aliasesJSON(k Key) string {
	if len(k.Aliases) == 0 {
		return "{}"
	}
	b, _ := json.Marshal(k.Aliases) // a map of strings always encodes
	return string(b)
}

func keyJSON(k Key) (models, meta string, err error) {
	m := k.Models
	if m == nil {
		m = []string{}
	}
	b, err := json.Marshal(m)
	if err != nil {
		return "", "", fmt.Errorf("models: %w", err)
	}
	md := k.Metadata
	if md == nil {
		md = map[string]any{}
	}
	c, err := json.Marshal(md)
	if err != nil {
		return "", "", fmt.Errorf("metadata: %w", err)
	}
	return string(b), string(c), nil
}

// CreateKey inserts k. Zero CreatedAt/UpdatedAt become now. It returns ErrAliasTaken when another
// key has k.KeyAlias and ErrKeyExists when k.Token is already stored.
func (s *Store) CreateKey(ctx context.Context, k Key) error {
	if k.Token == "" {
		return errors.New("store: create key: empty token")
	}
	models, meta, err := keyJSON(k)
	if err != nil {
		return fmt.Errorf("store: create key: %w", err)
	}
	now := time.Now()
	if k.CreatedAt.IsZero() {
		k.CreatedAt = now
	}
	if k.UpdatedAt.IsZero() {
		k.UpdatedAt = k.CreatedAt
	}
	return s.writeTx(ctx, "create key", func(tx *txn) error {
		if err := aliasFree(ctx, tx, k.KeyAlias, k.Token); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO keys (`+keyCols+`)
			VALUES (?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			k.Token, k.KeyName, nullString(k.KeyAlias), k.Spend, nullFloat(k.MaxBudget), nullFloat(k.SoftBudget),
			k.BudgetDuration, nullMicros(k.BudgetResetAt), nullMicros(k.Expires), models, meta,
			nullInt(k.TPMLimit), nullInt(k.RPMLimit), nullInt(k.MaxParallelRequests), k.Blocked, k.UserID,
			micros(k.CreatedAt), micros(k.UpdatedAt), nullMicros(k.LastActive), aliasesJSON(k), k.TeamID)
		switch {
		case isUnique(err) && k.KeyAlias != "" && strings.Contains(err.Error(), "alias"):
			// Taken by a key created meanwhile (PostgreSQL: another gateway's, after aliasFree).
			return fmt.Errorf("%w: %q", ErrAliasTaken, k.KeyAlias)
		case isUnique(err):
			return ErrKeyExists
		}
		return err
	})
}

// aliasFree returns ErrAliasTaken when a key other than token holds alias. The unique index is the
// backstop; checking first gives the caller a clean error.
func aliasFree(ctx context.Context, tx *txn, alias, token string) error {
	if alias == "" {
		return nil
	}
	var other string
	err := tx.QueryRowContext(ctx, `SELECT token FROM keys WHERE key_alias = ?`, alias).Scan(&other)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil
	case err != nil:
		return err
	case other != token:
		return fmt.Errorf("%w: %q", ErrAliasTaken, alias)
	}
	return nil
}

// GetKey returns the key whose hash is token, or ErrNotFound.
func (s *Store) GetKey(ctx context.Context, token string) (Key, error) {
	k, err := scanKey(s.r.QueryRowContext(ctx, `SELECT `+keyCols+` FROM keys WHERE token = ?`, token))
	return k, wrapGet("key", err)
}

// GetKeyByAlias returns the key with key_alias alias, or ErrNotFound.
func (s *Store) GetKeyByAlias(ctx context.Context, alias string) (Key, error) {
	if alias == "" {
		return Key{}, fmt.Errorf("store: get key: %w", ErrNotFound)
	}
	k, err := scanKey(s.r.QueryRowContext(ctx, `SELECT `+keyCols+` FROM keys WHERE key_alias = ?`, alias))
	return k, wrapGet("key", err)
}

func wrapGet(what string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("store: get %s: %w", what, ErrNotFound)
	}
	return fmt.Errorf("store: get %s: %w", what, err)
}

// UpdateKey writes every field of k to the stored key with the same Token, except Token, Spend,
// SpendSince, CreatedAt and LastActive, which have their own writers; UpdatedAt becomes now. It
// returns ErrNotFound or ErrAliasTaken.
func (s *Store) UpdateKey(ctx context.Context, k Key) error {
	models, meta, err := keyJSON(k)
	if err != nil {
		return fmt.Errorf("store: update key: %w", err)
	}
	k.UpdatedAt = time.Now()
	return s.writeTx(ctx, "update key", func(tx *txn) error {
		if err := aliasFree(ctx, tx, k.KeyAlias, k.Token); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE keys SET key_name = ?, key_alias = ?, max_budget = ?,
			soft_budget = ?, budget_duration = ?, budget_reset_at = ?, expires = ?, models = ?, metadata = ?,
			tpm_limit = ?, rpm_limit = ?, max_parallel_requests = ?, blocked = ?, user_id = ?, updated_at = ?,
			aliases = ?, team_id = ? WHERE token = ?`,
			k.KeyName, nullString(k.KeyAlias), nullFloat(k.MaxBudget), nullFloat(k.SoftBudget), k.BudgetDuration,
			nullMicros(k.BudgetResetAt), nullMicros(k.Expires), models, meta, nullInt(k.TPMLimit),
			nullInt(k.RPMLimit), nullInt(k.MaxParallelRequests), k.Blocked, k.UserID, micros(k.UpdatedAt), aliasesJSON(k), k.TeamID, k.Token)
		if isUnique(err) {
			return fmt.Errorf("%w: %q", ErrAliasTaken, k.KeyAlias)
		}
		if err != nil {
			return err
		}
		return mustAffect(res)
	})
}

func mustAffect(res sql.Result) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// RegenerateKey moves the key oldToken to newToken (a new secret for the same key, LiteLLM's
// /key/regenerate) and rewrites its spend logs' api_key in the same transaction, so the key's spend
// still equals the sum of its logs. It returns ErrNotFound or ErrKeyExists.
func (s *Store) RegenerateKey(ctx context.Context, oldToken, newToken, newKeyName string) error {
	if newToken == "" {
		return errors.New("store: regenerate key: empty token")
	}
	return s.writeTx(ctx, "regenerate key", func(tx *txn) error {
		res, err := tx.ExecContext(ctx, `UPDATE keys SET token = ?, key_name = ?, updated_at = ? WHERE token = ?`,
			newToken, newKeyName, micros(time.Now()), oldToken)
		if isUnique(err) {
			return ErrKeyExists
		}
		if err != nil {
			return err
		}
		if err := mustAffect(res); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE spend_logs SET api_key = ? WHERE api_key = ?`, newToken, oldToken)
		return err
	})
}

// DeleteKeys deletes the keys with the given tokens and returns those that existed. Their spend
// logs stay.
func (s *Store) DeleteKeys(ctx context.Context, tokens []string) ([]string, error) {
	deleted := []string{}
	err := s.writeTx(ctx, "delete keys", func(tx *txn) error {
		deleted = deleted[:0]
		stmt, err := tx.PrepareContext(ctx, `DELETE FROM keys WHERE token = ?`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, t := range tokens {
			res, err := stmt.ExecContext(ctx, t)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n > 0 {
				deleted = append(deleted, t)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return deleted, nil
}

// ListKeysOpts filters and pages ListKeys. Page is 1-based; Size <= 0 returns every match.
type ListKeysOpts struct {
	Page, Size int
	Alias      string // exact key_alias
	UserID     string
	TeamID     string
	Token      string // exact hash (LiteLLM's key_hash filter)
}

// ListKeys returns one page of keys, newest first, and the number of keys matching the filter.
func (s *Store) ListKeys(ctx context.Context, o ListKeysOpts) ([]Key, int, error) {
	var where []string
	var args []any
	if o.Alias != "" {
		where, args = append(where, "key_alias = ?"), append(args, o.Alias)
	}
	if o.UserID != "" {
		where, args = append(where, "user_id = ?"), append(args, o.UserID)
	}
	if o.TeamID != "" {
		where, args = append(where, "team_id = ?"), append(args, o.TeamID)
	}
	if o.Token != "" {
		where, args = append(where, "token = ?"), append(args, o.Token)
	}
	w := ""
	if len(where) > 0 {
		w = " WHERE " + strings.Join(where, " AND ")
	}
	var total int
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM keys`+w, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("store: list keys: %w", err)
	}
	limit, offset := limitOffset(o.Page, o.Size)
	rows, err := s.r.QueryContext(ctx, `SELECT `+keyCols+` FROM keys`+w+
		` ORDER BY created_at DESC, token LIMIT ? OFFSET ?`, append(args, limit, offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("store: list keys: %w", err)
	}
	defer rows.Close()
	keys := []Key{}
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("store: list keys: %w", err)
		}
		keys = append(keys, k)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("store: list keys: %w", err)
	}
	return keys, total, nil
}

// AddKeySpend adds delta to a key's spend without a log row (e.g. a correction). Prefer
// InsertSpendLogs, which keeps spend equal to the sum of the logs.
func (s *Store) AddKeySpend(ctx context.Context, token string, delta float64) error {
	return s.writeTx(ctx, "add key spend", func(tx *txn) error {
		res, err := tx.ExecContext(ctx, `UPDATE keys SET spend = spend + ? WHERE token = ?`, delta, token)
		if err != nil {
			return err
		}
		return mustAffect(res)
	})
}

// SetKeySpend sets a key's spend (LiteLLM's /key/{key}/reset_spend {"reset_to": x}).
func (s *Store) SetKeySpend(ctx context.Context, token string, spend float64) error {
	return s.writeTx(ctx, "set key spend", func(tx *txn) error {
		res, err := tx.ExecContext(ctx, `UPDATE keys SET spend = ?, updated_at = ? WHERE token = ?`,
			spend, micros(time.Now()), token)
		if err != nil {
			return err
		}
		return mustAffect(res)
	})
}

// ResetKeySpend starts a new budget window for the key at windowStart: its spend becomes the sum of
// its logs that started at or after windowStart (usually none, but a reset noticed late keeps what
// was already spent in the new window), SpendSince becomes windowStart and BudgetResetAt becomes
// nextReset. Logs that started before windowStart and arrive later are stored but not counted.
// It returns the key's new spend, or ErrNotFound.
func (s *Store) ResetKeySpend(ctx context.Context, token string, windowStart time.Time, nextReset *time.Time) (float64, error) {
	var spend float64
	err := s.writeTx(ctx, "reset key spend", func(tx *txn) error {
		// Locked first (PostgreSQL), so a batch of logs another gateway is committing for the
		// key is either in the sum below or added after this write, never lost between them.
		var one int
		if err := tx.QueryRowContext(ctx, `SELECT 1 FROM keys WHERE token = ?`+s.d.forUpdate(), token).Scan(&one); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return ErrNotFound
			}
			return err
		}
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(SUM(spend), 0) FROM spend_logs
			WHERE api_key = ? AND start_time >= ?`, token, micros(windowStart)).Scan(&spend); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE keys SET spend = ?, spend_since = ?, budget_reset_at = ?
			WHERE token = ?`, spend, micros(windowStart), nullMicros(nextReset), token)
		if err != nil {
			return err
		}
		return mustAffect(res)
	})
	return spend, err
}

// writeTx runs fn in a write transaction (SQLite: on the single writer connection) and notes
// the key_changes rows it wrote as this Store's own. On PostgreSQL a transaction that lost a
// serialization conflict or deadlock with another writer is run again: fn must start afresh
// each time it is called.
func (s *Store) writeTx(ctx context.Context, what string, fn func(*txn) error) error {
	for attempt := 1; ; attempt++ {
		err := s.tryWriteTx(ctx, fn)
		if err == nil {
			return nil
		}
		if attempt >= maxTxAttempts || !s.d.retry(err) || ctx.Err() != nil {
			return fmt.Errorf("store: %s: %w", what, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("store: %s: %w", what, err)
		case <-time.After(time.Duration(attempt*attempt) * 5 * time.Millisecond):
		}
	}
}

// maxTxAttempts bounds the runs of one write transaction that keeps losing conflicts.
const maxTxAttempts = 6

func (s *Store) tryWriteTx(ctx context.Context, fn func(*txn) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	mark, err := s.d.changeMark(ctx, tx)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		return err
	}
	return s.own.commit(ctx, s.d, tx, mark)
}
