// Package pgtest gives tests a fresh PostgreSQL database (or schema) of their own, created in the cluster
// that CLAWGATE_TEST_DATABASE_URL names (scripts/with-postgres.sh starts one) and dropped when
// the test ends. Without that variable the test fails: the PostgreSQL half of a suite is never
// skipped in silence.
package pgtest

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
)

// EnvURL names the variable holding the test cluster's URL.
const EnvURL = "CLAWGATE_TEST_DATABASE_URL"

var seq atomic.Int64

// SchemaURL is a cheaper URL than URL's: a new schema of its own in the cluster's database (the
// connections' search_path puts it first), dropped at cleanup. A new database costs most of a
// second here, a schema a few milliseconds. The pg_trgm extension is made once in the shared
// database's public schema (its migrations then find it there); everything else is the
// schema's. Use URL where the test is about a new database itself.
func SchemaURL(t testing.TB) string {
	t.Helper()
	base := baseURL(t)
	name := fmt.Sprintf("clawgate_test_%d_%d", os.Getpid(), seq.Add(1))
	// IF NOT EXISTS races with another test binary doing the same: the loser's error is harmless.
	admin(base, "CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public")
	if err := admin(base, "CREATE SCHEMA "+name); err != nil {
		t.Fatalf("pgtest: create schema: %v", err)
	}
	t.Cleanup(func() {
		if err := admin(base, "DROP SCHEMA IF EXISTS "+name+" CASCADE"); err != nil {
			t.Errorf("pgtest: drop schema %s: %v", name, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("pgtest: %s: %v", EnvURL, err)
	}
	q := u.Query()
	q.Set("search_path", name+",public")
	u.RawQuery = q.Encode()
	return u.String()
}

func baseURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvURL)
	if base == "" {
		t.Fatalf("%s is not set: the PostgreSQL tests need a server; run them inside scripts/with-postgres.sh "+
			"(e.g. scripts/with-postgres.sh go test ./app/store), which starts a throwaway cluster", EnvURL)
	}
	return base
}

// URL creates an empty database for t and returns its URL; the database is dropped at cleanup.
func URL(t testing.TB) string {
	t.Helper()
	base := baseURL(t)
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("pgtest: %s: %v", EnvURL, err)
	}
	name := fmt.Sprintf("clawgate_test_%d_%d", os.Getpid(), seq.Add(1))
	if err := admin(base, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	t.Cleanup(func() {
		// FORCE: a store the test forgot to close must not keep the database alive.
		if err := admin(base, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	u.Path = "/" + name
	return u.String()
}

// admin runs one statement on the cluster's own database, on a connection of its own (so no
// pool outlives the test binary's leak check).
func admin(base, stmt string) error {
	db, err := sql.Open("pgx", base)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err = db.ExecContext(ctx, stmt)
	return err
}
