// Package pgtest gives tests a fresh PostgreSQL database of their own, created in the cluster
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

// URL creates an empty database for t and returns its URL; the database is dropped at cleanup.
func URL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvURL)
	if base == "" {
		t.Fatalf("%s is not set: the PostgreSQL tests need a server; run them inside scripts/with-postgres.sh "+
			"(e.g. scripts/with-postgres.sh go test ./app/store), which starts a throwaway cluster", EnvURL)
	}
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
