package store

import (
	"context"
	"fmt"
	"time"
)

// migrations are applied in order, each in its own transaction together with its row in
// schema_migrations; version N is migrations[N-1]. Never edit or reorder a released entry: append.
var migrations = []string{
	// 1: keys, spend logs, settings.
	`
CREATE TABLE keys (
	token                 TEXT PRIMARY KEY,          -- SHA-256 hex of the sk- key
	key_name              TEXT NOT NULL DEFAULT '',  -- sk-...XXXX
	key_alias             TEXT,                      -- NULL when unset, so UNIQUE allows many unaliased keys
	spend                 REAL NOT NULL DEFAULT 0,   -- spend in the current budget window
	spend_since           INTEGER,                   -- start of that window (set by ResetKeySpend)
	max_budget            REAL,
	soft_budget           REAL,
	budget_duration       TEXT NOT NULL DEFAULT '',
	budget_reset_at       INTEGER,
	expires               INTEGER,
	models                TEXT NOT NULL DEFAULT '[]',
	metadata              TEXT NOT NULL DEFAULT '{}',
	tpm_limit             INTEGER,
	rpm_limit             INTEGER,
	max_parallel_requests INTEGER,
	blocked               INTEGER NOT NULL DEFAULT 0,
	user_id               TEXT NOT NULL DEFAULT '',
	created_at            INTEGER NOT NULL,
	updated_at            INTEGER NOT NULL,
	last_active           INTEGER
) STRICT;
CREATE UNIQUE INDEX keys_alias ON keys(key_alias) WHERE key_alias IS NOT NULL;
CREATE INDEX keys_user ON keys(user_id, created_at);
CREATE INDEX keys_created ON keys(created_at);

CREATE TABLE spend_logs (
	request_id            TEXT PRIMARY KEY,
	call_type             TEXT NOT NULL DEFAULT '',
	api_key               TEXT NOT NULL DEFAULT '',  -- SHA-256 hex, = keys.token; no FK: logs outlive keys
	key_alias             TEXT NOT NULL DEFAULT '',
	spend                 REAL NOT NULL DEFAULT 0,
	unpriced              INTEGER NOT NULL DEFAULT 0,
	prompt_tokens         INTEGER NOT NULL DEFAULT 0,
	completion_tokens     INTEGER NOT NULL DEFAULT 0,
	total_tokens          INTEGER NOT NULL DEFAULT 0,
	cache_read_tokens     INTEGER NOT NULL DEFAULT 0,
	cache_write_tokens    INTEGER NOT NULL DEFAULT 0,
	reasoning_tokens      INTEGER NOT NULL DEFAULT 0,
	start_time            INTEGER NOT NULL,
	end_time              INTEGER NOT NULL,
	completion_start_time INTEGER,
	model                 TEXT NOT NULL DEFAULT '',
	model_group           TEXT NOT NULL DEFAULT '',
	model_id              TEXT NOT NULL DEFAULT '',
	provider              TEXT NOT NULL DEFAULT '',
	api_base              TEXT NOT NULL DEFAULT '',
	user_id               TEXT NOT NULL DEFAULT '',
	end_user              TEXT NOT NULL DEFAULT '',
	status                TEXT NOT NULL DEFAULT 'success',
	error                 TEXT NOT NULL DEFAULT '',
	fallbacks             INTEGER NOT NULL DEFAULT 0,
	retries               INTEGER NOT NULL DEFAULT 0,
	messages              TEXT,
	response              TEXT,
	metadata              TEXT NOT NULL DEFAULT '{}'
) STRICT;
CREATE INDEX spend_logs_start ON spend_logs(start_time);
CREATE INDEX spend_logs_key ON spend_logs(api_key, start_time);
CREATE INDEX spend_logs_model_group ON spend_logs(model_group, start_time);
CREATE INDEX spend_logs_user ON spend_logs(user_id, start_time);

CREATE TABLE settings (
	name       TEXT PRIMARY KEY,
	value      TEXT NOT NULL,
	updated_at INTEGER NOT NULL
) STRICT;
`,
	// 2: a row's identity is the gateway's call id; the upstream's response id gets its own column.
	// Version 1 keyed rows by the response id, which some upstreams repeat (so rows were dropped):
	// its rows are re-keyed by the call id it kept in metadata. A row whose new id is somehow taken
	// keeps its old one rather than fail the upgrade.
	`
ALTER TABLE spend_logs ADD COLUMN response_id TEXT NOT NULL DEFAULT '';
UPDATE OR IGNORE spend_logs
	SET response_id = request_id, request_id = json_extract(metadata, '$.call_id')
	WHERE json_type(metadata, '$.call_id') = 'text' AND json_extract(metadata, '$.call_id') NOT IN ('', request_id);
CREATE INDEX spend_logs_response ON spend_logs(response_id);
`,
	// Version 3: a key's model aliases (LiteLLM's "aliases": {"alias": "model group"}), a JSON object.
	`ALTER TABLE keys ADD COLUMN aliases TEXT NOT NULL DEFAULT '{}';`,
	// Version 4: every write to a key, by any process and any code path, appends its token to
	// key_changes, so a running gateway finds what another process changed by reading the rows
	// past the last one it applied (keychanges.go), instead of re-reading every key.
	// AUTOINCREMENT: a seq is never reused after pruning, so a gap means rows were pruned.
	`
CREATE TABLE key_changes (
	seq   INTEGER PRIMARY KEY AUTOINCREMENT,
	token TEXT NOT NULL,
	at    INTEGER NOT NULL -- unix seconds, for pruning
) STRICT;
CREATE INDEX key_changes_at ON key_changes(at);
CREATE TRIGGER keys_changed_insert AFTER INSERT ON keys BEGIN
	INSERT INTO key_changes (token, at) VALUES (NEW.token, unixepoch());
END;
CREATE TRIGGER keys_changed_delete AFTER DELETE ON keys BEGIN
	INSERT INTO key_changes (token, at) VALUES (OLD.token, unixepoch());
END;
CREATE TRIGGER keys_changed_update AFTER UPDATE ON keys BEGIN
	INSERT INTO key_changes (token, at) VALUES (OLD.token, unixepoch());
	INSERT INTO key_changes (token, at) SELECT NEW.token, unixepoch() WHERE NEW.token != OLD.token;
END;
-- A regenerated key's earlier tokens -> its current one: a process that has not yet seen the
-- change logs a request under the old token, and InsertSpendLogs moves the row to the key.
CREATE TABLE key_renames (
	old_token TEXT PRIMARY KEY,
	new_token TEXT NOT NULL
) STRICT;
CREATE TRIGGER keys_renamed AFTER UPDATE OF token ON keys WHEN NEW.token != OLD.token BEGIN
	UPDATE key_renames SET new_token = NEW.token WHERE new_token = OLD.token;
	INSERT OR REPLACE INTO key_renames (old_token, new_token) VALUES (OLD.token, NEW.token);
END;
`,
	// Version 5: see requestsMigration (rollup.go).
	requestsMigration(),
	// Version 6: budgets, holds, alert claims and rate counters shared by several gateways (holds.go).
	sharedBudgetsMigration,
	// Version 7: LiteLLM's teams and internal users (teams.go, users.go), who belongs to which team,
	// and the team of each key and spend log. A team's or user's spend is its starting or set spend
	// (spend, counted from spend_since) plus its logs since then, as a key's is. Portable SQL: the
	// same text runs on PostgreSQL.
	`
CREATE TABLE teams (
	team_id               TEXT PRIMARY KEY,
	team_alias            TEXT NOT NULL DEFAULT '',
	spend                 REAL NOT NULL DEFAULT 0,
	spend_since           INTEGER,
	max_budget            REAL,
	soft_budget           REAL,
	budget_duration       TEXT NOT NULL DEFAULT '',
	budget_reset_at       INTEGER,
	models                TEXT NOT NULL DEFAULT '[]',
	metadata              TEXT NOT NULL DEFAULT '{}',
	tpm_limit             INTEGER,
	rpm_limit             INTEGER,
	max_parallel_requests INTEGER,
	blocked               INTEGER NOT NULL DEFAULT 0,
	created_at            INTEGER NOT NULL,
	updated_at            INTEGER NOT NULL
);
CREATE TABLE users (
	user_id               TEXT PRIMARY KEY,
	user_alias            TEXT NOT NULL DEFAULT '',
	user_email            TEXT NOT NULL DEFAULT '',
	user_role             TEXT NOT NULL DEFAULT 'internal_user',
	spend                 REAL NOT NULL DEFAULT 0,
	spend_since           INTEGER,
	max_budget            REAL,
	soft_budget           REAL,
	budget_duration       TEXT NOT NULL DEFAULT '',
	budget_reset_at       INTEGER,
	models                TEXT NOT NULL DEFAULT '[]',
	metadata              TEXT NOT NULL DEFAULT '{}',
	tpm_limit             INTEGER,
	rpm_limit             INTEGER,
	max_parallel_requests INTEGER,
	created_at            INTEGER NOT NULL,
	updated_at            INTEGER NOT NULL
);
CREATE TABLE team_memberships (
	team_id    TEXT NOT NULL,
	user_id    TEXT NOT NULL,
	role       TEXT NOT NULL DEFAULT 'user',
	created_at INTEGER NOT NULL,
	PRIMARY KEY (team_id, user_id)
);
CREATE INDEX team_memberships_user ON team_memberships(user_id);
ALTER TABLE keys ADD COLUMN team_id TEXT NOT NULL DEFAULT '';
CREATE INDEX keys_team ON keys(team_id, created_at);
ALTER TABLE spend_logs ADD COLUMN team_id TEXT NOT NULL DEFAULT '';
CREATE INDEX spend_logs_team ON spend_logs(team_id, start_time);
`,
	// Version 8: LiteLLM's team member budgets (members.go).
	memberBudgetsMigration,
}

// SchemaVersion is the schema version this binary writes.
func SchemaVersion() int { return len(migrations) }

// migrationTexts is migrations in d's dialect.
func migrationTexts(d dialect, ms []string) ([]string, error) {
	out := make([]string, len(ms))
	for i, m := range ms {
		t, err := d.migration(i+1, m)
		if err != nil {
			return nil, fmt.Errorf("migration %d: %w", i+1, err)
		}
		out[i] = t
	}
	return out, nil
}

// schemaMigrations records the versions applied (portable: both engines run it).
const schemaMigrations = `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		applied_at INTEGER NOT NULL
	) STRICT`

// migrate brings db up to len(ms), texts in db's dialect. Each step reads the version inside its
// own write transaction, which is alone (SQLite: BEGIN IMMEDIATE; PostgreSQL: an advisory
// lock), so several processes opening the same new database at once apply every migration
// exactly once.
func migrate(ctx context.Context, db *pool, ms []string) error {
	for {
		done, err := migrateOne(ctx, db, ms)
		if err != nil || done {
			return err
		}
	}
}

func migrateOne(ctx context.Context, db *pool, ms []string) (done bool, err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("migrate: %w", err)
	}
	defer tx.Rollback()
	if err := db.d.lockMigrations(ctx, tx); err != nil {
		return false, fmt.Errorf("migrate: lock: %w", err)
	}
	ddl, err := db.d.migration(0, schemaMigrations)
	if err != nil {
		return false, fmt.Errorf("migrate: %w", err)
	}
	if _, err := tx.ExecContext(ctx, ddl); err != nil {
		return false, fmt.Errorf("migrate: %w", err)
	}
	var v int
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v); err != nil {
		return false, fmt.Errorf("migrate: read version: %w", err)
	}
	switch {
	case v > len(ms):
		return false, fmt.Errorf("%w: the database is at version %d, this build knows up to %d; "+
			"run a newer clawgate or point it at another data folder", ErrSchemaTooNew, v, len(ms))
	case v == len(ms):
		return true, nil
	}
	// The text as written: no placeholders to rebind, and PostgreSQL's function bodies are
	// best left alone. Without arguments both drivers run a multi-statement text.
	if _, err := tx.tx.ExecContext(ctx, ms[v]); err != nil {
		return false, fmt.Errorf("migrate to version %d: %w", v+1, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`,
		v+1, micros(time.Now())); err != nil {
		return false, fmt.Errorf("migrate to version %d: %w", v+1, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("migrate to version %d: %w", v+1, err)
	}
	return false, nil
}
