package store

import (
	"context"
	"database/sql"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// openTest opens a new SQLite store, for the tests of what only the file has (modes, WAL, spill).
func openTest(t testing.TB) *Store {
	t.Helper()
	return sqliteEngine.open(t)
}

// rawDB opens path without the store, to look at or tamper with the file as another program would.
func rawDB(t testing.TB, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", dsn(path, "_pragma=busy_timeout(5000)"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// rawPool opens target without the store (no migrations), as another program would.
func rawPool(t testing.TB, target string) *pool {
	t.Helper()
	if !IsURL(target) {
		return &pool{db: rawDB(t, target), d: sqliteDialect{}}
	}
	db, err := sql.Open("pgx", target)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &pool{db: db, d: postgresDialect{}}
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func versions(t testing.TB, db querier) []int {
	t.Helper()
	rows, err := db.QueryContext(context.Background(), `SELECT version FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var vs []int
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		vs = append(vs, v)
	}
	return vs
}

func wantVersions(n int) []int {
	vs := make([]int, n)
	for i := range vs {
		vs[i] = i + 1
	}
	return vs
}

func TestOpenFromEmptyAndReopen(t *testing.T) {
	ctx := context.Background()
	// A folder that does not exist yet, with characters a file: URI must escape.
	dir := filepath.Join(t.TempDir(), "odd name?#%20", "data")
	path := Path(dir)
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if got := versions(t, s.w); !slices.Equal(got, wantVersions(SchemaVersion())) {
		t.Fatalf("versions after first open = %v, want %v", got, wantVersions(SchemaVersion()))
	}
	if err := s.SetSetting(ctx, "kept", "yes"); err != nil {
		t.Fatal(err)
	}
	// The database and its WAL files must be private: they hold key hashes and maybe prompts.
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode = %v, want 0600", filepath.Base(p), fi.Mode().Perm())
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	if got := versions(t, s.w); !slices.Equal(got, wantVersions(SchemaVersion())) {
		t.Fatalf("versions after reopen = %v, want %v", got, wantVersions(SchemaVersion()))
	}
	if v, ok, err := s.GetSetting(ctx, "kept"); err != nil || !ok || v != "yes" {
		t.Fatalf("setting after reopen = %q, %v, %v", v, ok, err)
	}
}

func TestOpenTightensLooseMode(t *testing.T) {
	path := Path(t.TempDir())
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil { // umask may have narrowed it
		t.Fatal(err)
	}
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode = %v, want 0600", fi.Mode().Perm())
	}
}

func TestOpenPragmas(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	for _, c := range []struct {
		db     *pool
		pragma string
		want   string
	}{
		{s.w, "journal_mode", "wal"},
		{s.w, "synchronous", "1"}, // NORMAL
		{s.w, "busy_timeout", "5000"},
		{s.w, "foreign_keys", "1"},
		{s.r, "journal_mode", "wal"},
		{s.r, "busy_timeout", "5000"},
		{s.r, "query_only", "1"},
	} {
		var got string
		if err := c.db.QueryRowContext(ctx, "PRAGMA "+c.pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("PRAGMA %s = %q, want %q", c.pragma, got, c.want)
		}
	}
	if _, err := s.r.ExecContext(ctx, `INSERT INTO settings VALUES ('x', 'y', 0)`); err == nil {
		t.Error("the read pool accepted a write")
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) { eachEngine(t, testOpenRefusesNewerSchema) }

func testOpenRefusesNewerSchema(t *testing.T, e engine) {
	ctx := context.Background()
	target := e.database(t)
	s, err := Open(ctx, target)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	future := SchemaVersion() + 3
	if _, err := rawPool(t, target).ExecContext(ctx, `INSERT INTO schema_migrations VALUES (?, 0)`, future); err != nil {
		t.Fatal(err)
	}
	_, err = Open(ctx, target)
	if !errors.Is(err, ErrSchemaTooNew) {
		t.Fatalf("Open = %v, want ErrSchemaTooNew", err)
	}
	where := target
	if u, err := url.Parse(target); err == nil && IsURL(target) {
		where = strings.TrimPrefix(u.Path, "/") // the database's name
	}
	for _, want := range []string{where, "version " + strconv.Itoa(future), "up to " + strconv.Itoa(SchemaVersion())} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	// Refusing must not have touched the database.
	if got := versions(t, rawPool(t, target)); got[len(got)-1] != future || len(got) != SchemaVersion()+1 {
		t.Errorf("versions after refusal = %v", got)
	}
}

func TestMigrateSteps(t *testing.T) { eachEngine(t, testMigrateSteps) }

func testMigrateSteps(t *testing.T, e engine) {
	ctx := context.Background()
	db := rawPool(t, e.database(t))
	db.db.SetMaxOpenConns(1)
	ms := []string{
		`CREATE TABLE a (x INTEGER)`,
		`CREATE TABLE b (y INTEGER); INSERT INTO b VALUES (7)`,
		`CREATE TABLE c (z INTEGER); INSERT INTO nowhere VALUES (1)`, // fails half way
	}
	if e == postgresEngine {
		for i := range ms {
			var err error
			if ms[i], err = portableToPostgres(ms[i]); err != nil {
				t.Fatal(err)
			}
		}
	}
	m1, m2, bad := ms[0], ms[1], ms[2]
	if err := migrate(ctx, db, []string{m1}); err != nil {
		t.Fatal(err)
	}
	if err := migrate(ctx, db, []string{m1, m2}); err != nil {
		t.Fatal(err)
	}
	if err := migrate(ctx, db, []string{m1, m2}); err != nil { // nothing left to do
		t.Fatal(err)
	}
	var n int
	if err := db.QueryRow(`SELECT COUNT(*) FROM b`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("rows in b = %d, %v; want 1 (migration 2 ran once)", n, err)
	}
	err := migrate(ctx, db, []string{m1, m2, bad})
	if err == nil || !strings.Contains(err.Error(), "version 3") {
		t.Fatalf("bad migration: err = %v", err)
	}
	if got := versions(t, db); !slices.Equal(got, []int{1, 2}) {
		t.Errorf("versions after failed migration = %v, want [1 2]", got)
	}
	// The failed migration's first statement was rolled back with it.
	if _, err := db.ExecContext(ctx, `SELECT * FROM c`); err == nil {
		t.Error("table c exists after failed migration")
	}
}

// Processes (here Stores) opening a new database at once must apply each migration once: on
// PostgreSQL, as three replicas starting together would.
func TestConcurrentOpen(t *testing.T) { eachEngine(t, testConcurrentOpen) }

func testConcurrentOpen(t *testing.T, e engine) {
	target := e.database(t)
	var wg sync.WaitGroup
	errs := make([]error, 6)
	start := make(chan struct{})
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			s, err := Open(context.Background(), target)
			if err == nil {
				err = s.Close()
			}
			errs[i] = err
		}()
	}
	close(start)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := versions(t, rawPool(t, target)); !slices.Equal(got, wantVersions(SchemaVersion())) {
		t.Fatalf("versions = %v", got)
	}
}

func TestSettings(t *testing.T) { onBoth(t, testSettings) }

func testSettings(t *testing.T, s *Store) {
	ctx := context.Background()
	if _, ok, err := s.GetSetting(ctx, "route"); err != nil || ok {
		t.Fatalf("missing setting: ok=%v err=%v", ok, err)
	}
	for _, v := range []string{"claude", "gpt", ""} {
		if err := s.SetSetting(ctx, "route", v); err != nil {
			t.Fatal(err)
		}
		if got, ok, err := s.GetSetting(ctx, "route"); err != nil || !ok || got != v {
			t.Fatalf("after set %q: got %q ok=%v err=%v", v, got, ok, err)
		}
	}
	if err := s.DeleteSetting(ctx, "route"); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.GetSetting(ctx, "route"); ok {
		t.Fatal("setting still there after delete")
	}
}
