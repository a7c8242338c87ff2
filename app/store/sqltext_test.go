package store

import (
	"strings"
	"testing"
)

func TestRebindDollar(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`SELECT 1`, `SELECT 1`},
		{`SELECT * FROM keys WHERE token = ? AND user_id = ?`, `SELECT * FROM keys WHERE token = $1 AND user_id = $2`},
		{`x LIKE ? ESCAPE '\' OR y LIKE ? ESCAPE '\'`, `x LIKE $1 ESCAPE '\' OR y LIKE $2 ESCAPE '\'`},
		{`SELECT '?', "a?b", ? -- what?` + "\n" + `, ? /* ? */`, `SELECT '?', "a?b", $1 -- what?` + "\n" + `, $2 /* ? */`},
		{`SELECT 'it''s ?', ?`, `SELECT 'it''s ?', $1`},
		{`(a, b) < (?, ?) LIMIT ?`, `(a, b) < ($1, $2) LIMIT $3`},
		{`WHERE x = '` + "unterminated ?", `WHERE x = '` + "unterminated ?"},
	} {
		if got := rebindDollar(c.in); got != c.want {
			t.Errorf("rebindDollar(%q)\n got %q\nwant %q", c.in, got, c.want)
		}
	}
}

// Other helpers append portable migrations: their PostgreSQL text is derived, or refused with
// a message saying what to do, never guessed at.
func TestPortableToPostgres(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"CREATE TABLE t (\n\tid TEXT PRIMARY KEY,\n\tn INTEGER NOT NULL DEFAULT 0, -- INTEGER counts\n\tx REAL,\n\tb BLOB\n) STRICT;",
			"CREATE TABLE t (\n\tid TEXT PRIMARY KEY,\n\tn BIGINT NOT NULL DEFAULT 0, -- INTEGER counts\n\tx DOUBLE PRECISION,\n\tb BYTEA\n);"},
		{"CREATE TABLE r (a INTEGER, PRIMARY KEY (a)) STRICT, WITHOUT ROWID;", "CREATE TABLE r (a BIGINT, PRIMARY KEY (a));"},
		{"CREATE TABLE r (a integer) WITHOUT ROWID, STRICT", "CREATE TABLE r (a BIGINT)"},
		{"ALTER TABLE keys ADD COLUMN team_id TEXT NOT NULL DEFAULT 'REAL';", "ALTER TABLE keys ADD COLUMN team_id TEXT NOT NULL DEFAULT 'REAL';"},
		{"CREATE UNIQUE INDEX u ON t(a) WHERE a IS NOT NULL; INSERT INTO t (a) VALUES (1) ON CONFLICT (a) DO UPDATE SET a = excluded.a RETURNING a;",
			"CREATE UNIQUE INDEX u ON t(a) WHERE a IS NOT NULL; INSERT INTO t (a) VALUES (1) ON CONFLICT (a) DO UPDATE SET a = excluded.a RETURNING a;"},
	} {
		got, err := portableToPostgres(c.in)
		if err != nil || got != c.want {
			t.Errorf("portableToPostgres(%q)\n got %q, %v\nwant %q", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{
		"CREATE TABLE q (seq INTEGER PRIMARY KEY AUTOINCREMENT)",
		"CREATE TRIGGER x AFTER INSERT ON t BEGIN SELECT 1; END",
		"INSERT OR IGNORE INTO t VALUES (1)",
		"UPDATE t SET at = unixepoch()",
		"SELECT json_extract(m, '$.a') FROM t",
		"CREATE VIRTUAL TABLE f USING fts5(a)",
		"CREATE TABLE a (x ANY) STRICT",
	} {
		if _, err := portableToPostgres(bad); err == nil || !strings.Contains(err.Error(), "by hand") {
			t.Errorf("portableToPostgres(%q) = %v, want a refusal", bad, err)
		}
	}
}

// Every released version has a PostgreSQL text: hand-written or derived.
func TestEveryMigrationHasPostgresText(t *testing.T) {
	texts, err := migrationTexts(postgresDialect{}, migrations)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range texts {
		if strings.Contains(s, "STRICT") || strings.Contains(s, "AUTOINCREMENT") || strings.Contains(s, "fts5") {
			t.Errorf("version %d's PostgreSQL text holds SQLite's own syntax:\n%s", i+1, s)
		}
	}
}
