package app

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clawgate/clawgate/app/store"
	"github.com/clawgate/clawgate/internal/pgtest"
)

const databaseURLConfig = `model_list:
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, api_base: "http://127.0.0.1:9/v1", api_key: sk-upstream}
general_settings:
  master_key: sk-master-0123456789
  database_url: os.environ/CLAWGATE_TEST_TEAM_DB
`

// general_settings.database_url (here through os.environ, as LiteLLM configs write it) puts the
// ledger on PostgreSQL: a key made through the app is in the database, and no SQLite file is
// made in the data folder.
func TestDatabaseURLPutsTheLedgerOnPostgres(t *testing.T) {
	db := pgtest.URL(t)
	t.Setenv("CLAWGATE_TEST_TEAM_DB", db)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte(databaseURLConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	a := startApp(t, Options{ConfigPath: cfg, DataDir: filepath.Join(dir, "data")})
	ctx := context.Background()
	if _, err := a.CreateKey(ctx, KeySpec{Alias: "team-key", MaxBudget: pv(3.0)}); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if k, err := st.GetKeyByAlias(ctx, "team-key"); err != nil || k.MaxBudget == nil || *k.MaxBudget != 3 {
		t.Errorf("the key in PostgreSQL: %+v, %v", k, err)
	}
	if _, err := os.Stat(store.Path(filepath.Join(dir, "data"))); err == nil {
		t.Error("a SQLite database was made in the data folder too")
	}
}

// A database that cannot be reached stops the start with an error naming the server and the
// database; the password appears neither in the error nor in the log.
func TestDatabaseURLUnreachable(t *testing.T) {
	t.Setenv("CLAWGATE_TEST_TEAM_DB", "postgresql://gw:s3cret-pw@127.0.0.1:1/teamdb?connect_timeout=2")
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte(databaseURLConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	var logged bytes.Buffer
	_, err := New(Options{ConfigPath: cfg, DataDir: filepath.Join(dir, "data"), NoKeychain: true, Port: freePort(t),
		Logger: slog.New(slog.NewTextHandler(&logged, nil))})
	if err == nil {
		t.Fatal("New succeeded without a database server")
	}
	t.Logf("New: %v", err)
	for _, want := range []string{"127.0.0.1:1", "teamdb", "database_url"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
	if strings.Contains(err.Error()+logged.String(), "s3cret-pw") {
		t.Errorf("the password shows:\n%v\n%s", err, logged.String())
	}
}
