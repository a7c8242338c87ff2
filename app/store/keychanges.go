package store

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// KeyChange is one write to a key, by any process: Seq orders them, Token is the key written (a
// regenerated key appears under its old and its new token, a deleted one under its last). Own is
// true for a write made through this Store.
type KeyChange struct {
	Seq   int64
	Token string
	Own   bool
}

// KeyChanges returns up to limit changes after seq, oldest first. The keys table's triggers
// write them in the same transaction as the change, so a reader never sees a key changed without
// its row. A first Seq other than seq+1 means rows were pruned: re-read everything. Marks of own
// changes at or before seq are forgotten: pass a seq that only grows.
func (s *Store) KeyChanges(ctx context.Context, seq int64, limit int) ([]KeyChange, error) {
	s.own.mu.Lock()
	defer s.own.mu.Unlock()
	out, err := s.keyChanges(ctx, seq, limit)
	if err != nil {
		return nil, err
	}
	s.own.mark(out, seq)
	return out, nil
}

func (s *Store) keyChanges(ctx context.Context, seq int64, limit int) ([]KeyChange, error) {
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
	err := s.writeTx(ctx, "prune key changes", func(tx *txn) error {
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
func followRename(ctx context.Context, tx *txn, token string) (string, error) {
	var cur string
	if err := tx.QueryRowContext(ctx, `SELECT new_token FROM key_renames WHERE old_token = ?`, token).Scan(&cur); err != nil {
		return "", err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE spend_logs SET api_key = ? WHERE api_key = ?`, cur, token); err != nil {
		return "", err
	}
	return cur, nil
}

// ownChanges is the seq ranges of key_changes rows this Store wrote, so that a reader can tell
// its own process's changes (already in its memory) from other processes'. A range is noted in
// the same critical section as its commit, and KeyChanges reads under the same lock, so no
// reader sees a row of this Store's before it is marked; a commit that fails marks nothing.
type ownChanges struct {
	mu     sync.Mutex
	ranges [][2]int64 // (from, to]: seqs from+1..to; ascending
}

// commit commits tx, noting as own the change rows it wrote (d.ownChanges, after mark).
func (o *ownChanges) commit(ctx context.Context, d dialect, tx *txn, mark int64) error {
	before, after, err := d.ownChanges(ctx, tx, mark)
	if err != nil {
		return err
	}
	if after == before {
		return tx.Commit()
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if err := tx.Commit(); err != nil {
		return err
	}
	if n := len(o.ranges); n > 0 && o.ranges[n-1][1] == before {
		o.ranges[n-1][1] = after // the usual run of this Store's own writes stays one range
	} else {
		o.ranges = append(o.ranges, [2]int64{before, after})
	}
	return nil
}

// mark sets Own on the changes this Store wrote and forgets the ranges at or before seq, which
// the caller has read past. Called with o.mu held.
func (o *ownChanges) mark(changes []KeyChange, seq int64) {
	i := 0
	for i < len(o.ranges) && o.ranges[i][1] <= seq {
		i++
	}
	o.ranges = o.ranges[i:]
	for k := range changes {
		for _, r := range o.ranges {
			if changes[k].Seq > r[0] && changes[k].Seq <= r[1] {
				changes[k].Own = true
				break
			}
		}
	}
}

// RenamedTo returns the current token of a key regenerated from token (key_renames), or
// ErrNotFound when token was never regenerated.
func (s *Store) RenamedTo(ctx context.Context, token string) (string, error) {
	var cur string
	err := s.r.QueryRowContext(ctx, `SELECT new_token FROM key_renames WHERE old_token = ?`, token).Scan(&cur)
	return cur, wrapGet("key rename", err)
}
