package app

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/clawgate/clawgate/app/store"
	"github.com/clawgate/clawgate/internal/pgtest"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

// soloLedger makes a SQLite ledger in a new data folder: two keys (one regenerated, so a
// rename is on record), a setting and spend logs, extra rows added by more.
func soloLedger(t *testing.T, more ...store.SpendLog) string {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.Open(ctx, store.Path(dir))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	t0 := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	reset := t0.AddDate(0, 1, 0)
	for _, k := range []store.Key{
		{Token: "tok-a", KeyName: "sk-...aaaa", KeyAlias: "openclaw", MaxBudget: pv(10.0), BudgetDuration: "1mo", BudgetResetAt: &reset,
			Models: []string{"gpt-4o"}, Metadata: map[string]any{"team": "x"}},
		{Token: "tok-b", KeyName: "sk-...bbbb"},
	} {
		if err := st.CreateKey(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.RegenerateKey(ctx, "tok-b", "tok-b2", "sk-...bbb2"); err != nil {
		t.Fatal(err)
	}
	if err := st.SetSetting(ctx, "route", "claude"); err != nil {
		t.Fatal(err)
	}
	var logs []store.SpendLog
	for i := range 30 {
		logs = append(logs, store.SpendLog{RequestID: "r" + string(rune('A'+i)), APIKey: []string{"tok-a", "tok-b2", ""}[i%3],
			Spend: 0.125 * float64(i%4), StartTime: t0.Add(time.Duration(i) * time.Minute), EndTime: t0.Add(time.Duration(i)*time.Minute + time.Second),
			Model: "gpt-4o", Status: store.StatusSuccess, Metadata: map[string]any{"tags": []any{"n"}}})
	}
	if err := st.InsertSpendLogs(ctx, append(logs, more...)); err != nil {
		t.Fatal(err)
	}
	return dir
}

// counts is every copied table's rows in the database at url.
func counts(t *testing.T, url string) map[string]int64 {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	out := map[string]int64{}
	_, n, err := st.ListKeys(ctx, store.ListKeysOpts{})
	if err != nil {
		t.Fatal(err)
	}
	out["keys"] = int64(n)
	_, logs, err := st.QuerySpendLogs(ctx, store.SpendQuery{})
	if err != nil {
		t.Fatal(err)
	}
	out["spend_logs"] = int64(logs)
	return out
}

func TestMigrateDatabaseCopiesASoloLedger(t *testing.T) {
	ctx := context.Background()
	dir := soloLedger(t)
	url := pgtest.URL(t)
	rep, err := MigrateDatabase(ctx, dir, url)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, tc := range rep.Tables {
		if tc.Rows != 0 { // the tables this ledger never used (teams, shared budgets) are copied empty
			got[tc.Table] = tc.Rows
		}
	}
	if want := map[string]int64{"keys": 2, "spend_logs": 30, "settings": 1, "key_renames": 1}; !reflect.DeepEqual(got, want) {
		t.Errorf("copied %v, want %v", got, want)
	}
	// Σ 0.125 × (i mod 4) over the 30 rows, and over the 20 under a key (every third has none).
	if rep.LogSpend != 5.375 || rep.KeySpend != 3.5 {
		t.Errorf("sums: keys $%v, logs $%v", rep.KeySpend, rep.LogSpend)
	}

	src, err := store.Open(ctx, store.Path(dir))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := store.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	for _, tok := range []string{"tok-a", "tok-b2"} {
		a, err1 := src.GetKey(ctx, tok)
		b, err2 := dst.GetKey(ctx, tok)
		if err1 != nil || err2 != nil || !reflect.DeepEqual(a, b) {
			t.Errorf("key %s:\n data folder %+v (%v)\n database    %+v (%v)", tok, a, err1, b, err2)
		}
	}
	a, _, err1 := src.QuerySpendLogs(ctx, store.SpendQuery{})
	b, _, err2 := dst.QuerySpendLogs(ctx, store.SpendQuery{})
	if err1 != nil || err2 != nil || !reflect.DeepEqual(a, b) {
		t.Errorf("spend logs differ (%v, %v)", err1, err2)
	}
	if v, ok, err := dst.GetSetting(ctx, "route"); v != "claude" || !ok || err != nil {
		t.Errorf("setting: %q %v %v", v, ok, err)
	}
	// A late row under the regenerated key's old token still finds the key in the database.
	if to, err := dst.RenamedTo(ctx, "tok-b"); err != nil || to != "tok-b2" {
		t.Errorf("rename: %q %v", to, err)
	}
	// The search index of the database covers the copied rows.
	if page, err := dst.PageSpendLogs(ctx, store.RequestQuery{Text: "RA", Limit: 5}); err != nil || len(page) != 1 {
		t.Errorf("search in the copy: %d rows, %v", len(page), err)
	}

	// Copying again: the database is not empty, nothing changes.
	before := counts(t, url)
	if _, err := MigrateDatabase(ctx, dir, url); !errors.Is(err, store.ErrNotEmpty) {
		t.Errorf("second copy: %v, want ErrNotEmpty", err)
	}
	if after := counts(t, url); !reflect.DeepEqual(before, after) {
		t.Errorf("a refused copy changed the database: %v -> %v", before, after)
	}
}

// A row the database refuses (PostgreSQL's text cannot hold a NUL byte; SQLite's can) fails the
// copy after other rows went in: the transaction leaves the database without a row, and the
// error names the table without the password.
func TestMigrateDatabaseFailsWhole(t *testing.T) {
	ctx := context.Background()
	bad := store.SpendLog{RequestID: "zz-nul", Model: "gpt\x00x", Spend: 1, StartTime: time.Now(), EndTime: time.Now(), Status: store.StatusSuccess}
	dir := soloLedger(t, bad)
	url := pgtest.URL(t)
	// Something of the user's own in the database already: it must be left alone.
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE my_notes (note text)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	before, err := store.PostgresObjects(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	withPassword := strings.Replace(url, "postgres://postgres@", "postgres://postgres:pw-in-url@", 1)
	_, err = MigrateDatabase(ctx, dir, withPassword)
	if err == nil {
		t.Fatal("the copy succeeded with a row PostgreSQL cannot hold")
	}
	t.Logf("MigrateDatabase: %v", err)
	if !strings.Contains(err.Error(), "spend_logs") || strings.Contains(err.Error(), "pw-in-url") {
		t.Errorf("error %q: want the table named and no password", err)
	}
	// Nothing changed: the schema the attempt created (tables, functions, pg_trgm) is gone.
	if after, err := store.PostgresObjects(ctx, url); err != nil || !reflect.DeepEqual(before, after) || !after["table my_notes"] {
		t.Errorf("the database after a failed copy (%v):\n before %v\n after  %v", err, before, after)
	}
	if got := counts(t, url); got["keys"] != 0 || got["spend_logs"] != 0 {
		t.Errorf("a failed copy left rows: %v", got)
	}
}

func TestMigrateDatabaseRefuses(t *testing.T) {
	ctx := context.Background()
	if _, err := MigrateDatabase(ctx, t.TempDir(), "postgres://127.0.0.1:1/x"); err == nil || !strings.Contains(err.Error(), "no ledger") {
		t.Errorf("empty data folder: %v", err)
	}
	if _, err := MigrateDatabase(ctx, t.TempDir(), "mysql://h/x"); err == nil || !strings.Contains(err.Error(), "postgres://") {
		t.Errorf("not a PostgreSQL URL: %v", err)
	}
	dir := soloLedger(t)
	if err := os.WriteFile(store.Path(dir)+store.SpillSuffix, []byte("{}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := MigrateDatabase(ctx, dir, "postgres://127.0.0.1:1/x"); err == nil || !strings.Contains(err.Error(), "spill") {
		t.Errorf("with a spill file: %v", err)
	}
}
