package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// KeyChange is one write to a key, by any process: Seq orders them, Token is the key written (a
// regenerated key appears under its old and its new token, a deleted one under its last).
type KeyChange struct {
	Seq   int64
	Token string
}

// KeyChanges returns up to limit changes after seq, oldest first. The keys table's triggers
// write them in the same transaction as the change, so a reader never sees a key changed without
// its row. A first Seq other than seq+1 means rows were pruned: re-read everything.
func (s *Store) KeyChanges(ctx context.Context, seq int64, limit int) ([]KeyChange, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT seq, token FROM key_changes WHERE seq > ? ORDER BY seq LIMIT ?`, seq, limit)
	if err != nil {
		return nil, fmt.Errorf("store: key changes: %w", err)
	}
	defer rows.Close()
	var out []KeyChange
	for rows.Next() {
		var c KeyChange
		if err := rows.Scan(&c.Seq, &c.Token); err != nil {
			return nil, fmt.Errorf("store: key changes: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: key changes: %w", err)
	}
	return out, nil
}

// LastKeyChange is the seq of the latest change to any key (0: none yet).
func (s *Store) LastKeyChange(ctx context.Context) (int64, error) {
	var seq int64
	if err := s.r.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM key_changes`).Scan(&seq); err != nil {
		return 0, fmt.Errorf("store: last key change: %w", err)
	}
	return seq, nil
}

// PruneKeyChanges deletes the change rows written before t, except the latest, and returns how
// many it deleted. Keeping the latest is what shows a reader that fell behind the pruning a gap
// (KeyChanges), even when nothing changed since.
func (s *Store) PruneKeyChanges(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := s.writeTx(ctx, "prune key changes", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM key_changes WHERE at < ?
			AND seq < (SELECT MAX(seq) FROM key_changes)`, before.Unix())
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}

// followRename returns the current token of a key regenerated from token, after moving the logs
// still under token to it, or sql.ErrNoRows when token was never regenerated. Renames are chained
// by their trigger, so one step reaches the current token.
func followRename(ctx context.Context, tx *sql.Tx, token string) (string, error) {
	var cur string
	if err := tx.QueryRowContext(ctx, `SELECT new_token FROM key_renames WHERE old_token = ?`, token).Scan(&cur); err != nil {
		return "", err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE spend_logs SET api_key = ? WHERE api_key = ?`, cur, token); err != nil {
		return "", err
	}
	return cur, nil
}
