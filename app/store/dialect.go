package store

import (
	"context"
	"errors"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// dialect is where the two engines differ. The store's SQL is one text, written with `?`
// placeholders in the subset both engines read alike; a dialect turns it into its engine's
// spelling and supplies the few fragments that are really different (text search, day of a
// timestamp, row locks, the key change log's bookkeeping, error classes).
type dialect interface {
	// rebind turns the shared text into the engine's (placeholders).
	rebind(query string) string
	// args converts argument values the engine's driver would not take for its column types.
	args(args []any) []any
	// migration is version's text for this engine (0: the schema_migrations table itself).
	migration(version int, sqlite string) (string, error)
	// lockMigrations makes a migrating transaction the only one: two processes opening the same
	// new database at once then apply every version exactly once.
	lockMigrations(ctx context.Context, tx *txn) error
	isUnique(err error) bool
	// retry reports whether a transaction that failed with err may simply be run again
	// (a serialization failure or deadlock between concurrent writers).
	retry(err error) bool
	// forUpdate is the suffix that locks the rows a SELECT reads until the transaction ends.
	forUpdate() string
	// rowID names a column that identifies a spend_logs row, for deletes and sub-selects.
	rowID() string
	// like is the case-insensitive LIKE operator.
	like() string
	// tags is metadata's "tags" value as JSON text (or NULL).
	tags() string
	// textIndex is the condition that narrows a text search through the engine's trigram
	// index before the exact LIKE tests; nil when the index cannot help with text.
	textIndex(text string) *clause
	// day is the calendar date ("2006-01-02") of secs, an expression in Unix seconds.
	day(secs string) string
	// rollups reports whether the spend_rollup_* tables exist (summary.go).
	rollups() bool
	// changeMark and ownChanges find the key_changes rows a write transaction wrote:
	// mark before it writes, range (from, to] after, before its commit.
	changeMark(ctx context.Context, tx *txn) (int64, error)
	ownChanges(ctx context.Context, tx *txn, mark int64) (from, to int64, err error)
}

// sqliteDialect: modernc.org/sqlite, one writer connection, transactions BEGIN IMMEDIATE.
type sqliteDialect struct{}

func (sqliteDialect) rebind(query string) string { return query }
func (sqliteDialect) args(args []any) []any      { return args }
func (sqliteDialect) migration(_ int, sqlite string) (string, error) {
	return sqlite, nil
}

// Transactions on the writer begin IMMEDIATE: the write lock is the migrations' lock.
func (sqliteDialect) lockMigrations(context.Context, *txn) error { return nil }

func (sqliteDialect) isUnique(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// One writer connection and busy_timeout: SQLite's writers wait for each other instead.
func (sqliteDialect) retry(error) bool { return false }

func (sqliteDialect) forUpdate() string { return "" } // the one writer holds the file's write lock
func (sqliteDialect) rowID() string     { return "rowid" }
func (sqliteDialect) like() string      { return "LIKE" } // case-insensitive for ASCII
func (sqliteDialect) tags() string      { return "json_extract(metadata, '$.tags')" }

func (sqliteDialect) textIndex(text string) *clause {
	m := trigramMatch(text)
	if m == "" {
		return nil
	}
	return &clause{"rowid IN (SELECT rowid FROM spend_logs_text WHERE spend_logs_text MATCH ?)", []any{m}}
}

func (sqliteDialect) day(secs string) string { return "date(" + secs + ", 'unixepoch')" }
func (sqliteDialect) rollups() bool          { return true }

func (sqliteDialect) changeMark(ctx context.Context, tx *txn) (int64, error) {
	return lastChangeSeq(ctx, tx)
}

func (sqliteDialect) ownChanges(ctx context.Context, tx *txn, mark int64) (int64, int64, error) {
	after, err := lastChangeSeq(ctx, tx)
	return mark, after, err
}

// lastChangeSeq is the highest seq key_changes ever gave (AUTOINCREMENT's counter), 0 for none.
// The writer is the only one, so the rows past it at commit are this transaction's.
func lastChangeSeq(ctx context.Context, tx *txn) (int64, error) {
	var seq int64
	err := tx.QueryRowContext(ctx, `SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'key_changes'), 0)`).Scan(&seq)
	return seq, err
}

// postgresDialect: PostgreSQL through pgx, READ COMMITTED, any number of processes writing.
type postgresDialect struct{}

// Advisory lock keys (pg_advisory_xact_lock), fixed so that every Clawgate agrees on them.
const (
	pgLockMigrate    = 0x436c6177_0001 // "Claw" 1
	pgLockKeyChanges = 0x436c6177_0002 // also in migration 4's trigger function (pgmigrations.go)
)

func (postgresDialect) rebind(query string) string { return rebindDollar(query) }

// args: the schema keeps flags as BIGINT 0/1 (as SQLite does), and pgx will not put a Go bool
// into a BIGINT parameter.
func (postgresDialect) args(args []any) []any {
	for i, a := range args {
		if _, ok := a.(bool); !ok {
			continue
		}
		out := append([]any(nil), args...) // the caller's slice stays as it was
		for j := i; j < len(out); j++ {
			if b, ok := out[j].(bool); ok {
				out[j] = boolInt(b)
			}
		}
		return out
	}
	return args
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func (postgresDialect) migration(version int, sqlite string) (string, error) {
	if pg, ok := pgMigrations[version]; ok {
		return pg, nil
	}
	return portableToPostgres(sqlite)
}

func (postgresDialect) lockMigrations(ctx context.Context, tx *txn) error {
	_, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(?)`, int64(pgLockMigrate))
	return err
}

func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

func (postgresDialect) isUnique(err error) bool { return pgCode(err) == "23505" }

func (postgresDialect) retry(err error) bool {
	c := pgCode(err)
	return c == "40001" || c == "40P01" // serialization_failure, deadlock_detected
}

func (postgresDialect) forUpdate() string { return " FOR UPDATE" }
func (postgresDialect) rowID() string     { return "request_id" }
func (postgresDialect) like() string      { return "ILIKE" }
func (postgresDialect) tags() string      { return "(metadata::jsonb ->> 'tags')" }

// textIndex: pgSearchDoc is the expression the GIN trigram index of migration 5 is built on;
// the same expression here lets the planner use it. It only narrows: the per-column tests that
// follow decide, so a match across two columns' boundary is no match.
func (postgresDialect) textIndex(text string) *clause {
	if len([]rune(text)) < 3 {
		return nil
	}
	return &clause{pgSearchDoc + ` ILIKE ? ESCAPE '\'`, []any{"%" + likeEscape.Replace(text) + "%"}}
}

func (postgresDialect) day(secs string) string {
	return "to_char(to_timestamp(" + secs + ") AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
}

// No rollup tables on PostgreSQL: their triggers would make every spend row of every replica
// update the same few bucket rows, a lock queue (and deadlocks) between replicas. Summaries
// read the rows through the (start_time, ...) indexes instead.
func (postgresDialect) rollups() bool { return false }

// Key change rows are written at commit (a deferred trigger, migration 4); SET CONSTRAINTS
// fires them now, and txid tells this transaction's rows from the others'.
func (postgresDialect) changeMark(context.Context, *txn) (int64, error) { return 0, nil }

func (postgresDialect) ownChanges(ctx context.Context, tx *txn, _ int64) (int64, int64, error) {
	if _, err := tx.ExecContext(ctx, `SET CONSTRAINTS ALL IMMEDIATE`); err != nil {
		return 0, 0, err
	}
	var from, to int64
	err := tx.QueryRowContext(ctx, `SELECT COALESCE(MIN(seq) - 1, 0), COALESCE(MAX(seq), 0) FROM key_changes
		WHERE txid = txid_current_if_assigned()`).Scan(&from, &to)
	return from, to, err
}

// isPostgres reports whether target names a PostgreSQL database rather than a file.
func isPostgres(target string) bool {
	t := strings.ToLower(target)
	return strings.HasPrefix(t, "postgres://") || strings.HasPrefix(t, "postgresql://")
}

// isUnique reports whether err is a UNIQUE or PRIMARY KEY violation, on either engine (for code
// that holds no dialect).
func isUnique(err error) bool {
	return sqliteDialect{}.isUnique(err) || postgresDialect{}.isUnique(err)
}
