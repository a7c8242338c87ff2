package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ErrNotEmpty is returned by CopyInto when the target database already holds a ledger.
var ErrNotEmpty = errors.New("the target database is not empty")

// notCopied are tables the target keeps itself: its schema version, the key change log (its
// triggers write a row per key copied), requests in flight (holds, this minute's rate counts) and
// SQLite's derived text index and rollups.
var notCopied = []string{"schema_migrations", "key_changes", "budget_holds", "rate_counters"}

func copied(table string) bool {
	return !slices.Contains(notCopied, table) && !strings.HasPrefix(table, "spend_logs_text") &&
		!strings.HasPrefix(table, "spend_rollup_") && !strings.HasPrefix(table, "sqlite_")
}

// TableCount is one table's rows.
type TableCount struct {
	Table string
	Rows  int64
}

// CopyReport is what CopyInto copied, as counted in the target before its commit.
type CopyReport struct {
	Target   string // the database copied into, without its password
	Tables   []TableCount
	KeySpend float64 // sum of keys.spend
	LogSpend float64 // sum of spend_logs.spend
}

// CopyInto copies every row of s (a SQLite ledger: keys, settings, spend logs, and whatever
// tables later versions add) into dst, a PostgreSQL database with no rows yet, in one
// transaction: it counts each table's rows and sums the keys' and the logs' spend on both sides
// before it commits, and commits nothing unless they agree. s is read in one transaction, so
// the copy is of one moment; rows written to s afterwards are not copied (stop the gateway
// first). Both Stores are at this build's schema version (Open saw to it).
func (s *Store) CopyInto(ctx context.Context, dst *Store) (CopyReport, error) {
	var rep CopyReport
	if _, ok := s.d.(sqliteDialect); !ok {
		return rep, errors.New("store: copy: the source must be a SQLite data folder")
	}
	if _, ok := dst.d.(postgresDialect); !ok {
		return rep, errors.New("store: copy: the target must be a PostgreSQL database")
	}
	src, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return rep, fmt.Errorf("store: copy: %w", err)
	}
	defer src.Rollback()
	tables, err := sqliteTables(ctx, src)
	if err != nil {
		return rep, fmt.Errorf("store: copy: %w", err)
	}
	err = dst.writeTx(ctx, "copy", func(tx *txn) error {
		rep = CopyReport{Target: dst.Path()}
		for _, t := range tables {
			if err := emptyTable(ctx, tx, t); err != nil {
				return err
			}
		}
		for _, t := range tables {
			n, err := copyTable(ctx, src, tx, t)
			if err != nil {
				return fmt.Errorf("table %s: %w", t, err)
			}
			rep.Tables = append(rep.Tables, TableCount{t, n})
		}
		return verifyCopy(ctx, src, tx, &rep)
	})
	return rep, err
}

// sqliteTables lists the source's tables to copy, in the order they were made (so a table
// comes after those it refers to).
func sqliteTables(ctx context.Context, tx *txn) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY rowid`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, err
		}
		if copied(name) {
			out = append(out, name)
		}
	}
	return out, rows.Err()
}

func emptyTable(ctx context.Context, tx *txn, table string) error {
	var one int
	err := tx.QueryRowContext(ctx, `SELECT 1 FROM `+table+` LIMIT 1`).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil
	case err != nil:
		return err
	}
	return fmt.Errorf("%w: table %s has rows; copy into a new database", ErrNotEmpty, table)
}

// copyTable copies every row of table by the source's column names (the schemas are the same
// version, so the target has each of them).
func copyTable(ctx context.Context, src, dst *txn, table string) (int64, error) {
	rows, err := src.QueryContext(ctx, `SELECT * FROM `+table)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return 0, err
	}
	marks := strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ")
	ins, err := dst.PrepareContext(ctx, `INSERT INTO `+table+` (`+strings.Join(cols, ", ")+`) VALUES (`+marks+`)`)
	if err != nil {
		return 0, err
	}
	defer ins.Close()
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var n int64
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return n, err
		}
		if _, err := ins.ExecContext(ctx, vals...); err != nil {
			return n, err
		}
		n++
	}
	return n, rows.Err()
}

// verifyCopy compares each table's rows and the spend sums on both sides, in the copying
// transaction, and fills in the sums.
func verifyCopy(ctx context.Context, src, dst *txn, rep *CopyReport) error {
	for _, tc := range rep.Tables {
		var a, b int64
		if err := src.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+tc.Table).Scan(&a); err != nil {
			return err
		}
		if err := dst.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+tc.Table).Scan(&b); err != nil {
			return err
		}
		if a != b || b != tc.Rows {
			return fmt.Errorf("table %s: %d rows in the data folder, %d in the database: nothing was copied", tc.Table, a, b)
		}
	}
	for _, c := range []struct {
		what, query string
		sum         *float64
	}{
		{"keys' spend", `SELECT COALESCE(SUM(spend), 0) FROM keys`, &rep.KeySpend},
		{"spend logs' spend", `SELECT COALESCE(SUM(spend), 0) FROM spend_logs`, &rep.LogSpend},
	} {
		var a float64
		if err := src.QueryRowContext(ctx, c.query).Scan(&a); err != nil {
			return err
		}
		if err := dst.QueryRowContext(ctx, c.query).Scan(c.sum); err != nil {
			return err
		}
		if !sameSum(a, *c.sum) {
			return fmt.Errorf("%s: $%.9f in the data folder, $%.9f in the database: nothing was copied", c.what, a, *c.sum)
		}
	}
	return nil
}

// sameSum compares two sums of the same float64 values added in an order each engine chose.
func sameSum(a, b float64) bool {
	d := a - b
	if d < 0 {
		d = -d
	}
	return d <= 1e-9*max(1, a, -a)
}
