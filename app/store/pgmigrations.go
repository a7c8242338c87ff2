package store

import "strconv"

// pgMigrations are the PostgreSQL texts of the versions SQLite writes in its own dialect
// (triggers, FTS5, JSON functions); every other version's PostgreSQL text is derived from its
// SQLite text (portableToPostgres). Keyed by version.
var pgMigrations = map[int]string{
	// 2: version 1's rows keyed by the upstream's response id were re-keyed by their call id.
	// No PostgreSQL database ever held version 1's rows (both versions are applied to a new one
	// together), so only the column and its index are needed.
	2: `
ALTER TABLE spend_logs ADD COLUMN response_id TEXT NOT NULL DEFAULT '';
CREATE INDEX spend_logs_response ON spend_logs(response_id);
`,
	4: pgKeyChanges,
	// 5: the Requests tab's indexes, and a trigram index (pg_trgm) for its text search in place
	// of SQLite's FTS5 table. No rollup tables: see postgresDialect.rollups.
	5: requestsIndexes + `
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX spend_logs_text ON spend_logs USING gin (` + pgSearchDoc + ` gin_trgm_ops);
`,
}

// pgSearchDoc is every column the Requests tab's text search looks in, as one text: the
// trigram index is built on it and textIndex queries it (the expressions must be the same).
const pgSearchDoc = `(request_id || ' ' || model_group || ' ' || model || ' ' || provider || ' ' || key_alias ` +
	`|| ' ' || error || ' ' || user_id || ' ' || end_user || ' ' || ` +
	`COALESCE(CASE WHEN metadata LIKE '%"tags"%' THEN (metadata::jsonb ->> 'tags') END, ''))`

// pgKeyChanges is version 4 on PostgreSQL: the key change log and the renames.
//
// A reader of key_changes reads the rows past the last seq it applied, so seq order must be
// commit order: a sequence's values are handed out at insert time and committed in any order,
// so a reader at seq N could pass over an N-1 that commits later. Here the rows are written by
// a deferred trigger (at commit, or when the store asks with SET CONSTRAINTS ALL IMMEDIATE),
// under a transaction-scoped advisory lock, as MAX(seq)+1: the lock is held from there to the
// commit, so the next writer's rows come after and are numbered after. Taking the lock at
// commit time, when the transaction has every row lock it will take, keeps it out of lock
// cycles with the keys' row locks. seq has no gaps but those pruning leaves (as SQLite's
// AUTOINCREMENT: pruning keeps the latest row). txid marks a transaction's own rows.
var pgKeyChanges = `
CREATE TABLE key_changes (
	seq   BIGINT PRIMARY KEY,
	token TEXT NOT NULL,
	at    BIGINT NOT NULL, -- unix seconds, for pruning
	txid  BIGINT NOT NULL  -- the writing transaction (txid_current())
);
CREATE INDEX key_changes_at ON key_changes(at);
CREATE INDEX key_changes_txid ON key_changes(txid);
CREATE FUNCTION clawgate_key_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	-- Spend is not a change to announce: on PostgreSQL every gateway reads budgets from the
	-- database (shared mode), and logging each settled request would serialise them all here.
	IF TG_OP = 'UPDATE' AND (to_jsonb(NEW) - 'spend' - 'last_active') = (to_jsonb(OLD) - 'spend' - 'last_active') THEN
		RETURN NULL;
	END IF;
	PERFORM pg_advisory_xact_lock(` + strconv.Itoa(pgLockKeyChanges) + `);
	IF TG_OP IN ('UPDATE', 'DELETE') THEN
		INSERT INTO key_changes (seq, token, at, txid)
			SELECT COALESCE(MAX(seq), 0) + 1, OLD.token, floor(extract(epoch FROM now()))::BIGINT, txid_current() FROM key_changes;
	END IF;
	IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.token <> OLD.token) THEN
		INSERT INTO key_changes (seq, token, at, txid)
			SELECT COALESCE(MAX(seq), 0) + 1, NEW.token, floor(extract(epoch FROM now()))::BIGINT, txid_current() FROM key_changes;
	END IF;
	RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER keys_changed AFTER INSERT OR UPDATE OR DELETE ON keys
	DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION clawgate_key_changed();

-- A regenerated key's earlier tokens -> its current one (see the SQLite text).
CREATE TABLE key_renames (
	old_token TEXT PRIMARY KEY,
	new_token TEXT NOT NULL
);
CREATE FUNCTION clawgate_key_renamed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	UPDATE key_renames SET new_token = NEW.token WHERE new_token = OLD.token;
	INSERT INTO key_renames (old_token, new_token) VALUES (OLD.token, NEW.token)
		ON CONFLICT (old_token) DO UPDATE SET new_token = EXCLUDED.new_token;
	RETURN NULL;
END $$;
CREATE TRIGGER keys_renamed AFTER UPDATE OF token ON keys
	FOR EACH ROW WHEN (NEW.token <> OLD.token) EXECUTE FUNCTION clawgate_key_renamed();
`
