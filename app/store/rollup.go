package store

import (
	"fmt"
	"strconv"
	"strings"
)

// requestsMigration is schema version 5, for the Requests tab and the Overview:
//   - the Requests tab pages by (start_time, request_id) with keyset cursors, so each filter it
//     offers has an index ending in those two columns;
//   - spend_logs_text indexes the text search's columns by trigram (FTS5);
//   - the Overview sums spend_rollup_model and spend_rollup_key, 30-minute buckets per model and
//     per key kept by triggers, instead of every row of 30 days. 30 minutes divides the UTC offset
//     of every zone but the few at :45 (Nepal, Chatham), so local days add up from buckets; those
//     zones' days fall off bucket edges and are summed from the rows (summary.go). One table per
//     dimension keeps a bucket's rows at models + keys, not models x keys.
func requestsMigration() string {
	var b strings.Builder
	b.WriteString(requestsIndexes)
	b.WriteString(`
-- Contentless (the text stays in spend_logs) and detail=none (no positions): the index finds the
-- rows holding every trigram of the text, and LIKE then keeps the real matches.
CREATE VIRTUAL TABLE spend_logs_text USING fts5(request_id, model_group, model, provider, key_alias, error,
	user_id, end_user, tags, content='', contentless_delete=1, detail=none, tokenize='trigram');
INSERT INTO spend_logs_text (rowid, request_id, model_group, model, provider, key_alias, error, user_id, end_user, tags)
	SELECT rowid, request_id, model_group, model, provider, key_alias, error, user_id, end_user,
	CASE WHEN metadata LIKE '%"tags"%' THEN json_extract(metadata, '$.tags') END FROM spend_logs;
CREATE TRIGGER spend_logs_text_insert AFTER INSERT ON spend_logs BEGIN
	INSERT INTO spend_logs_text (rowid, request_id, model_group, model, provider, key_alias, error, user_id, end_user, tags)
	VALUES (NEW.rowid, NEW.request_id, NEW.model_group, NEW.model, NEW.provider, NEW.key_alias, NEW.error, NEW.user_id,
		NEW.end_user, CASE WHEN NEW.metadata LIKE '%"tags"%' THEN json_extract(NEW.metadata, '$.tags') END);
END;
CREATE TRIGGER spend_logs_text_delete AFTER DELETE ON spend_logs BEGIN
	DELETE FROM spend_logs_text WHERE rowid = OLD.rowid;
END;
`)
	for _, r := range rollups {
		b.WriteString(r.ddl())
	}
	return b.String()
}

// requestsIndexes are version 5's indexes for the Requests tab's filters (both engines).
const requestsIndexes = `
DROP INDEX spend_logs_start;
DROP INDEX spend_logs_model_group;
CREATE INDEX spend_logs_time_id ON spend_logs(start_time, request_id);
CREATE INDEX spend_logs_alias_time ON spend_logs(key_alias, start_time, request_id);
CREATE INDEX spend_logs_status_time ON spend_logs(status, start_time, request_id);
CREATE INDEX spend_logs_model_time ON spend_logs(model, start_time, request_id);
CREATE INDEX spend_logs_group_time ON spend_logs(model_group, start_time, request_id);
`

// rollup is one spend_rollup_* table: sums per bucket and one dimension.
type rollup struct {
	table string
	key   []string // its columns after bucket, all TEXT
	// of gives each key column's value from a spend_logs row; {row} is NEW. or OLD. (or "").
	of []string
	// extra are non-key TEXT columns kept as MAX over the bucket's rows (the alias of a key).
	extra, extraOf []string
	// rekey: rows move between groups when a row's api_key changes (a regenerated key).
	rekey bool
}

var rollups = []rollup{
	{table: "spend_rollup_model", key: []string{"model"}, of: []string{"COALESCE(NULLIF({row}model_group, ''), {row}model)"}},
	{table: "spend_rollup_key", key: []string{"api_key"}, of: []string{"{row}api_key"},
		extra: []string{"key_alias"}, extraOf: []string{"{row}key_alias"}, rekey: true},
}

// rollupSums are the summed columns and how a spend_logs row contributes to each.
var rollupSums = []struct{ col, of string }{
	{"spend", "{row}spend"}, {"requests", "1"}, {"failures", "{row}status = 'failure'"}, {"unpriced", "{row}unpriced"},
	{"prompt_tokens", "{row}prompt_tokens"}, {"completion_tokens", "{row}completion_tokens"},
	{"total_tokens", "{row}total_tokens"}, {"cache_read_tokens", "{row}cache_read_tokens"},
	{"cache_write_tokens", "{row}cache_write_tokens"}, {"reasoning_tokens", "{row}reasoning_tokens"},
}

// at puts row (NEW., OLD. or "") into an expression's {row} places.
func at(e, row string) string { return strings.ReplaceAll(e, "{row}", row) }

func (r rollup) exprs(row string, list []string) []string {
	out := make([]string, len(list))
	for i, e := range list {
		out[i] = at(e, row)
	}
	return out
}

// bucketOf is the row's 30-minute bucket (bucketMicros).
func bucketOf(row string) string { return row + "start_time / " + strconv.Itoa(bucketMicros) }

// add is the statement that adds row (NEW.) to its group.
func (r rollup) add(row string) string {
	vals := append([]string{bucketOf(row)}, r.exprs(row, r.of)...)
	vals = append(vals, r.exprs(row, r.extraOf)...)
	var sets []string
	for _, c := range r.extra {
		sets = append(sets, c+" = MAX("+c+", excluded."+c+")")
	}
	for _, s := range rollupSums {
		vals = append(vals, at(s.of, row))
		sets = append(sets, s.col+" = "+s.col+" + excluded."+s.col)
	}
	return "INSERT INTO " + r.table + " VALUES (" + strings.Join(vals, ", ") + ")\n\t\tON CONFLICT DO UPDATE SET " +
		strings.Join(sets, ", ") + ";\n"
}

// sub is the statements that take row (OLD.) out of its group, dropping the group when empty.
func (r rollup) sub(row string) string {
	where := []string{"bucket = " + bucketOf(row)}
	for i, k := range r.key {
		where = append(where, k+" = "+at(r.of[i], row))
	}
	var sets []string
	for _, s := range rollupSums {
		sets = append(sets, s.col+" = "+s.col+" - ("+at(s.of, row)+")")
	}
	w := strings.Join(where, " AND ")
	return "UPDATE " + r.table + " SET " + strings.Join(sets, ", ") + " WHERE " + w + ";\n\t" +
		"DELETE FROM " + r.table + " WHERE " + w + " AND requests <= 0;\n"
}

func (r rollup) ddl() string {
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE TABLE %s (\n\tbucket INTEGER NOT NULL, -- start_time / 1800 s\n", r.table)
	for _, c := range append(append([]string{}, r.key...), r.extra...) {
		fmt.Fprintf(&b, "\t%s TEXT NOT NULL,\n", c)
	}
	fmt.Fprintf(&b, "\tspend REAL NOT NULL,\n")
	for _, s := range rollupSums[1:] {
		fmt.Fprintf(&b, "\t%s INTEGER NOT NULL,\n", s.col)
	}
	fmt.Fprintf(&b, "\tPRIMARY KEY (bucket, %s)\n) STRICT, WITHOUT ROWID;\n", strings.Join(r.key, ", "))
	// Existing rows, summed as the triggers would.
	sel := append([]string{bucketOf("")}, r.exprs("", r.of)...)
	for _, e := range r.exprs("", r.extraOf) {
		sel = append(sel, "MAX("+e+")")
	}
	for _, s := range rollupSums {
		sel = append(sel, "SUM("+at(s.of, "")+")")
	}
	groups := make([]string, 1+len(r.key))
	for i := range groups {
		groups[i] = fmt.Sprint(i + 1)
	}
	fmt.Fprintf(&b, "INSERT INTO %s SELECT %s FROM spend_logs GROUP BY %s;\n", r.table, strings.Join(sel, ", "), strings.Join(groups, ", "))
	fmt.Fprintf(&b, "CREATE TRIGGER %s_insert AFTER INSERT ON spend_logs BEGIN\n\t%sEND;\n", r.table, r.add("NEW."))
	fmt.Fprintf(&b, "CREATE TRIGGER %s_delete AFTER DELETE ON spend_logs BEGIN\n\t%sEND;\n", r.table, r.sub("OLD."))
	if r.rekey {
		// Only api_key is ever updated (a regenerated key's rows move to its new token).
		fmt.Fprintf(&b, "CREATE TRIGGER %s_rekey AFTER UPDATE OF api_key ON spend_logs WHEN NEW.api_key != OLD.api_key BEGIN\n\t%s\t%sEND;\n",
			r.table, r.sub("OLD."), r.add("NEW."))
	}
	return b.String()
}
