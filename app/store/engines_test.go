package store

import (
	"context"
	"testing"

	"github.com/clawgate/clawgate/internal/pgtest"
)

// engine is one of the store's backends. The tests that take a store run once per engine, as
// subtests named after it; the PostgreSQL ones need scripts/with-postgres.sh (pgtest).
type engine string

const (
	sqliteEngine   engine = "sqlite"
	postgresEngine engine = "postgres"
)

var engines = []engine{sqliteEngine, postgresEngine}

// target is a new, empty database on e: a file in a temporary folder, or a schema of its own
// (pgtest.SchemaURL: a database costs most of a second a test).
func (e engine) target(t testing.TB) string {
	t.Helper()
	if e == postgresEngine {
		return pgtest.SchemaURL(t)
	}
	return Path(t.TempDir())
}

// database is a new, empty database on e, for the tests of what a new database goes through
// (migrations, the pg_trgm extension made by the first Open).
func (e engine) database(t testing.TB) string {
	t.Helper()
	if e == postgresEngine {
		return pgtest.URL(t)
	}
	return Path(t.TempDir())
}

// open opens a new store on e, closed at cleanup.
func (e engine) open(t testing.TB) *Store {
	t.Helper()
	return openTarget(t, e.target(t))
}

func openTarget(t testing.TB, target string) *Store {
	t.Helper()
	s, err := Open(context.Background(), target)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// eachEngine runs fn as a subtest per engine.
func eachEngine(t *testing.T, fn func(t *testing.T, e engine)) {
	t.Helper()
	for _, e := range engines {
		t.Run(string(e), func(t *testing.T) { fn(t, e) })
	}
}

// onBoth runs fn as a subtest per engine, each with a new store.
func onBoth(t *testing.T, fn func(t *testing.T, s *Store)) {
	t.Helper()
	eachEngine(t, func(t *testing.T, e engine) { fn(t, e.open(t)) })
}
