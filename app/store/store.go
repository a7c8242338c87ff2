// Package store keeps Clawgate's ledger: virtual keys, spend logs and settings. By default it is
// SQLite (modernc.org/sqlite, pure Go) in WAL mode with one writer connection and a small pool of
// read-only connections, so the auth path's key lookups never wait behind a batch of usage
// writes. Given a postgres:// URL it is PostgreSQL (pgx), which several gateways can share. The
// code and the SQL are the same for both; a dialect (dialect.go) holds what differs.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// FileName is the database's name inside the data folder.
const FileName = "clawgate.db"

// Path returns the database path inside dataDir.
func Path(dataDir string) string { return filepath.Join(dataDir, FileName) }

var (
	// ErrNotFound is returned when a key, log row or setting does not exist.
	ErrNotFound = errors.New("not found")
	// ErrAliasTaken is returned when another key already has the key_alias (LiteLLM keeps aliases unique).
	ErrAliasTaken = errors.New("key_alias already in use")
	// ErrKeyExists is returned when a key with the same token (hash) already exists.
	ErrKeyExists = errors.New("key already exists")
	// ErrSchemaTooNew is returned by Open when the database was written by a newer Clawgate.
	ErrSchemaTooNew = errors.New("database schema is newer than this version of clawgate")
	// ErrInvalidLog is returned by InsertSpendLogs for a row that can never be written (no request_id,
	// no start time, a spend that is not a number). Writer.Add repairs such rows instead.
	ErrInvalidLog = errors.New("invalid spend log")
)

// Store is the ledger. It is safe for concurrent use.
type Store struct {
	path string     // the database file, or the PostgreSQL URL without its password
	d    dialect    // where the engines differ (dialect.go)
	own  ownChanges // the key_changes rows this Store wrote (keychanges.go)
	// SQLite: w is one connection, so every write is serialised there, and r holds query_only
	// connections that WAL lets run beside the writer. PostgreSQL: both are the same pool.
	w *pool
	r *pool
}

// Open opens or creates the database at target and brings its schema up to date. target is a
// file path (use Path(dataDir)) for SQLite, or a postgres:// or postgresql:// URL (IsURL) for
// PostgreSQL. A SQLite file is created with mode 0600: it holds key hashes and, when enabled,
// prompts.
func Open(ctx context.Context, target string) (*Store, error) {
	if IsURL(target) {
		return openPostgres(ctx, target)
	}
	return openSQLite(ctx, target)
}

// IsURL reports whether target names a PostgreSQL database (postgres:// or postgresql://)
// rather than a SQLite file.
func IsURL(target string) bool { return isPostgres(target) }

func openSQLite(ctx context.Context, path string) (*Store, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o700); err != nil {
		return nil, fmt.Errorf("store: create folder: %w", err)
	}
	if err := ensurePrivate(abs); err != nil {
		return nil, err
	}
	d := sqliteDialect{}
	s := &Store{path: abs, d: d}
	// _txlock=immediate takes the write lock at BEGIN, so a transaction never fails half way when it
	// first writes; busy_timeout covers another process (a second clawgate) holding it.
	w, err := sql.Open("sqlite", dsn(abs,
		"_pragma=busy_timeout(5000)", "_pragma=synchronous(NORMAL)", "_pragma=foreign_keys(ON)",
		"_txlock=immediate"))
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", abs, err)
	}
	s.w = &pool{db: w, d: d}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if err := s.setWAL(ctx); err != nil {
		w.Close()
		return nil, err
	}
	texts, err := migrationTexts(d, migrations)
	if err == nil {
		err = migrate(ctx, s.w, texts)
	}
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("store: %s: %w", abs, err)
	}
	r, err := sql.Open("sqlite", dsn(abs,
		"_pragma=busy_timeout(5000)", "_pragma=foreign_keys(ON)", "_pragma=query_only(1)"))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("store: open %s: %w", abs, err)
	}
	s.r = &pool{db: r, d: d}
	n := min(max(runtime.GOMAXPROCS(0), 2), 8)
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	if err := s.r.PingContext(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("store: open %s: %w", abs, err)
	}
	return s, nil
}

// Ping reports whether the database answers (for /health/readiness).
func (s *Store) Ping(ctx context.Context) error { return s.r.PingContext(ctx) }

// Path is the database file, or for PostgreSQL its URL without the password.
func (s *Store) Path() string { return s.path }

// Close closes the pools. Close a Writer first so its rows reach the database.
func (s *Store) Close() error {
	var errs []error
	if s.r != nil && s.r != s.w {
		errs = append(errs, s.r.Close())
	}
	if s.w != nil {
		errs = append(errs, s.w.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	return nil
}

// setWAL switches the file to WAL mode, which persists in the file (a no-op once done). SQLite does
// not run its busy handler for that switch, so two processes opening a new file at once see
// SQLITE_BUSY: retry for as long as busy_timeout would have waited.
func (s *Store) setWAL(ctx context.Context) error {
	deadline := time.Now().Add(5 * time.Second)
	for {
		var mode string
		err := s.w.QueryRowContext(ctx, "PRAGMA journal_mode=WAL").Scan(&mode)
		switch {
		case err == nil && mode == "wal":
			return nil
		case err == nil:
			return fmt.Errorf("store: open %s: journal_mode is %q, want wal (is the folder on a network file system?)", s.path, mode)
		case !isBusy(err) || time.Now().After(deadline):
			return fmt.Errorf("store: open %s: set WAL mode: %w", s.path, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("store: open %s: %w", s.path, ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// dsn builds a file: URI so that a path holding '?' or '#' is not mistaken for parameters.
func dsn(path string, params ...string) string {
	p := filepath.ToSlash(path)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // C:/x must read file:///C:/x, or SQLite takes C: for a host
	}
	u := url.URL{Scheme: "file", Path: p}
	if len(params) == 0 {
		return u.String()
	}
	q := params[0]
	for _, p := range params[1:] {
		q += "&" + p
	}
	return u.String() + "?" + q
}

// ensurePrivate creates the database file 0600 before SQLite does (SQLite would use 0644 under the
// usual umask; its -wal and -shm files copy the main file's mode), and tightens an existing one.
func ensurePrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("store: create %s: %w", path, err)
	}
	fi, err := f.Stat()
	f.Close()
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if p != path {
			if fi, err = os.Stat(p); err != nil {
				continue
			}
		}
		if fi.Mode().Perm()&0o077 != 0 {
			if err := os.Chmod(p, 0o600); err != nil {
				return fmt.Errorf("store: %w", err)
			}
		}
	}
	return nil
}

// isBusy reports whether err is SQLITE_BUSY or one of its extended codes.
func isBusy(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_BUSY
}

// Times are stored as INTEGER microseconds since the Unix epoch (UTC): compact, ordered, exact to
// what Go's clocks give, and range queries hit the indexes without string comparisons.

func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(v int64) time.Time { return time.UnixMicro(v).UTC() }

func nullMicros(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixMicro()
}

func timePtr(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMicros(v.Int64)
	return &t
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullFloat(f *float64) any {
	if f == nil {
		return nil
	}
	return *f
}

func floatPtr(v sql.NullFloat64) *float64 {
	if !v.Valid {
		return nil
	}
	f := v.Float64
	return &f
}

func nullInt(i *int64) any {
	if i == nil {
		return nil
	}
	return *i
}

func intPtr(v sql.NullInt64) *int64 {
	if !v.Valid {
		return nil
	}
	i := v.Int64
	return &i
}

// limitOffset turns a 1-based page and a size into SQL LIMIT/OFFSET; size <= 0 means no limit
// (the largest LIMIT: PostgreSQL refuses SQLite's -1).
func limitOffset(page, size int) (limit int64, offset int) {
	if size <= 0 {
		return math.MaxInt64, 0
	}
	if page < 1 {
		page = 1
	}
	return int64(size), (page - 1) * size
}
