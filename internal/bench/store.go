package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/clawgate/clawgate/app/store"
)

// The Requests tab's and Overview's targets (issue 13), at 1M rows.
const (
	maxPageMs     = 50
	maxOverviewMs = 200
	maxSearchMs   = 500
)

// storeDay is the generated data's last day: fixed, so a cached file stays valid and every run
// queries the same rows.
var storeDay = time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)

// genDays is how many days the generated rows span, ending on storeDay: twice the Overview's window.
const genDays = 60

var (
	genModels = []string{"claude-sonnet", "gpt-4o", "gpt-4o-mini", "gemini-flash", "claude-haiku", "o3", "llama-70b", "mistral-large"}
	genKeys   = []string{"openclaw", "laptop", "ci", "team-a", "team-b", "notebook", "cron", "staging", "prod", "demo"}
)

// genStore returns a store file with n generated rows, building it under cacheDir the first time:
// rows spread evenly over genDays, models and keys, 5% failures with an error text, 1% tagged.
func genStore(ctx context.Context, cacheDir string, n int) (string, error) {
	path := filepath.Join(cacheDir, fmt.Sprintf("requests-%d-v%d-d.db", n, store.SchemaVersion()))
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return "", err
	}
	tmp := path + ".tmp"
	for _, suffix := range []string{"", "-wal", "-shm"} {
		_ = os.Remove(tmp + suffix)
	}
	// The schema comes from the store itself; the rows go in through one raw transaction with
	// durability off and a big page cache (a throwaway file), several times faster than the Writer.
	st, err := store.Open(ctx, tmp)
	if err != nil {
		return "", err
	}
	if err := st.Close(); err != nil {
		return "", err
	}
	t0 := time.Now()
	if err := fillRows(ctx, tmp, n); err != nil {
		return "", err
	}
	fmt.Fprintf(os.Stderr, "bench: generated %d rows in %v (%s)\n", n, time.Since(t0).Round(time.Millisecond), path)
	return path, os.Rename(tmp, path)
}

func fillRows(ctx context.Context, path string, n int) error {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=synchronous(OFF)&_pragma=cache_size(-262144)")
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	ins, err := tx.PrepareContext(ctx, `INSERT INTO spend_logs (request_id, call_type, api_key, key_alias, spend,
		prompt_tokens, completion_tokens, total_tokens, start_time, end_time, model, model_group, provider,
		status, error, metadata) VALUES (?, 'acompletion', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'openai', ?, ?, ?)`)
	if err != nil {
		return err
	}
	defer ins.Close()
	// Secondary indexes are dropped for the fill and built again after it: sorting once is faster
	// than inserting into six b-trees row by row. The triggers (rollup, text index) stay.
	var indexes []string
	rows, err := tx.QueryContext(ctx, `SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'spend_logs' AND sql IS NOT NULL`)
	if err != nil {
		return err
	}
	var names []string
	for rows.Next() {
		var name, ddl string
		if err := rows.Scan(&name, &ddl); err != nil {
			return err
		}
		names, indexes = append(names, name), append(indexes, ddl)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for _, name := range names {
		if _, err := tx.ExecContext(ctx, `DROP INDEX `+name); err != nil {
			return err
		}
	}
	rng := rand.New(rand.NewPCG(1, uint64(n)))
	span := float64(genDays * 24 * time.Hour)
	first := storeDay.AddDate(0, 0, -genDays+1)
	for i := range n {
		at := first.Add(time.Duration(span * float64(i) / float64(n)))
		group, key := genModels[rng.IntN(len(genModels))], genKeys[rng.IntN(len(genKeys))]
		prompt, completion := rng.IntN(4000), rng.IntN(800)
		status, errText, meta := store.StatusSuccess, "", "{}"
		if rng.IntN(20) == 0 {
			status, errText = store.StatusFailure, "upstream returned 529: overloaded_error"
		}
		if rng.IntN(100) == 0 {
			meta = fmt.Sprintf(`{"tags":["batch-%d"]}`, rng.IntN(50))
		}
		if _, err := ins.ExecContext(ctx, fmt.Sprintf("req-%08d-%04x", i, rng.IntN(1<<16)),
			"token-"+key, key, float64(rng.IntN(1000))/1e5, prompt, completion, prompt+completion,
			at.UnixMicro(), at.Add(time.Duration(rng.IntN(3000))*time.Millisecond).UnixMicro(),
			group+"-2025", group, status, errText, meta); err != nil {
			return err
		}
	}
	for _, ddl := range indexes {
		if _, err := tx.ExecContext(ctx, ddl); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// storeRow is one query's timing at one size.
type storeRow struct {
	rows   int
	query  string
	n      int // rows it returned
	median time.Duration
	target float64 // ms, 0 when none
}

// storeQueries are what the Requests tab and the Overview run, each timed cold-ish (the first run
// is discarded) then as the median of five.
func storeQueries() []struct {
	name   string
	target float64
	run    func(context.Context, *store.Store) (int, error)
} {
	page := func(q store.RequestQuery) func(context.Context, *store.Store) (int, error) {
		return func(ctx context.Context, st *store.Store) (int, error) {
			q.Limit = 50
			p, err := st.PageSpendLogs(ctx, q)
			return len(p), err
		}
	}
	mid := &store.Cursor{Start: storeDay.AddDate(0, 0, -genDays/2), RequestID: "~"}
	last30 := storeDay.AddDate(0, 0, -29)
	return []struct {
		name   string
		target float64
		run    func(context.Context, *store.Store) (int, error)
	}{
		{"page 1, no filter", maxPageMs, page(store.RequestQuery{})},
		{"page, model + failed", maxPageMs, page(store.RequestQuery{Model: "gpt-4o", Status: store.StatusFailure})},
		{"page, key + model + 7 days, mid-way", maxPageMs, page(store.RequestQuery{KeyAlias: "ci", Model: "o3",
			Since: storeDay.AddDate(0, 0, -37), Until: storeDay.AddDate(0, 0, -30), After: mid})},
		{"next page from the middle, failed", maxPageMs, page(store.RequestQuery{Status: store.StatusFailure, After: mid})},
		{"previous page from the middle", maxPageMs, page(store.RequestQuery{Before: mid})},
		{"overview: 30 days by day+model, by key", maxOverviewMs, func(ctx context.Context, st *store.Store) (int, error) {
			a, err := st.SpendSummary(ctx, store.SummaryQuery{Start: last30, End: storeDay.AddDate(0, 0, 1), By: store.ByDay | store.ByModel})
			if err != nil {
				return 0, err
			}
			b, err := st.SpendSummary(ctx, store.SummaryQuery{Start: last30, End: storeDay.AddDate(0, 0, 1), By: store.ByKey})
			return len(a) + len(b), err
		}},
		{"text search, common (\"overloaded\")", maxSearchMs, page(store.RequestQuery{Text: "overloaded"})},
		{"text search, rare (a tag)", maxSearchMs, page(store.RequestQuery{Text: "batch-7"})},
		{"text search, no match", maxSearchMs, page(store.RequestQuery{Text: "no-such-thing"})},
		{"text search, no match, 7 days", maxSearchMs, page(store.RequestQuery{Text: "no-such-thing",
			Since: storeDay.AddDate(0, 0, -6)})},
	}
}

// benchStore generates (or reuses) a store per size and times the queries on it.
func benchStore(ctx context.Context, cacheDir string, sizes []int) ([]storeRow, error) {
	var out []storeRow
	for _, n := range sizes {
		path, err := genStore(ctx, cacheDir, n)
		if err != nil {
			return nil, fmt.Errorf("generate %d rows: %w", n, err)
		}
		st, err := store.Open(ctx, path)
		if err != nil {
			return nil, err
		}
		for _, q := range storeQueries() {
			var times []time.Duration
			got := 0
			for i := range 6 {
				t0 := time.Now()
				k, err := q.run(ctx, st)
				if err != nil {
					st.Close()
					return nil, fmt.Errorf("%s at %d rows: %w", q.name, n, err)
				}
				if i > 0 {
					times = append(times, time.Since(t0))
				}
				got = k
			}
			slices.Sort(times)
			out = append(out, storeRow{rows: n, query: q.name, n: got, median: times[len(times)/2], target: q.target})
		}
		if err := st.Close(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// reportStore prints the store table; the targets hold at 1M rows, so only those rows get a verdict.
func reportStore(w io.Writer, rows []storeRow) {
	fmt.Fprintf(w, "\n### Store: Requests pages, text search, Overview\n\n")
	fmt.Fprintf(w, "Generated rows over %d days, %d models, %d keys; median of 5 after one warm-up run; 50 rows a page.\n\n",
		genDays, len(genModels), len(genKeys))
	fmt.Fprintln(w, "| rows | query | returned | median ms | target at 1M | result |")
	fmt.Fprintln(w, "|--:|---|--:|--:|--:|---|")
	for _, r := range rows {
		target, res := "–", "–"
		if r.target > 0 {
			target = fmt.Sprintf("< %.0f ms", r.target)
			if r.rows == 1_000_000 {
				res = verdict(float64(r.median)/float64(time.Millisecond) < r.target)
			}
		}
		fmt.Fprintf(w, "| %d | %s | %d | %s | %s | %s |\n", r.rows, r.query, r.n, ms(r.median), target, res)
	}
}

// parseSizes reads -store-rows: "100000,1000000"; "" or "0" turns the store rows off.
func parseSizes(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" || f == "0" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("-store-rows: %q is not a row count", f)
		}
		out = append(out, n)
	}
	return out, nil
}
