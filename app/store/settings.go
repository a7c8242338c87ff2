package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// GetSetting returns a setting's value and whether it is set.
func (s *Store) GetSetting(ctx context.Context, name string) (string, bool, error) {
	var v string
	err := s.r.QueryRowContext(ctx, `SELECT value FROM settings WHERE name = ?`, name).Scan(&v)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", false, nil
	case err != nil:
		return "", false, fmt.Errorf("store: get setting %s: %w", name, err)
	}
	return v, true, nil
}

// SetSetting stores a setting, replacing any value it had.
func (s *Store) SetSetting(ctx context.Context, name, value string) error {
	if _, err := s.w.ExecContext(ctx, `INSERT INTO settings (name, value, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
		name, value, micros(time.Now())); err != nil {
		return fmt.Errorf("store: set setting %s: %w", name, err)
	}
	return nil
}

// DeleteSetting removes a setting; removing one that is not set is not an error.
func (s *Store) DeleteSetting(ctx context.Context, name string) error {
	if _, err := s.w.ExecContext(ctx, `DELETE FROM settings WHERE name = ?`, name); err != nil {
		return fmt.Errorf("store: delete setting %s: %w", name, err)
	}
	return nil
}
