package store

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// GroupBy picks the dimensions SpendSummary aggregates over; combine with |. Zero gives one total.
type GroupBy uint8

const (
	ByDay      GroupBy = 1 << iota // calendar day of start_time in SummaryQuery.Location
	ByModel                        // model_group, or model when the row has none
	ByKey                          // api_key (KeyAlias is filled in too)
	ByUser                         // user_id
	ByProvider                     // provider
	ByTeam                         // team_id
)

// SummaryQuery selects the rows to aggregate: start_time in [Start, End). A zero Start or End means
// from the first row or to the last. APIKey and UserID narrow to one key or user.
type SummaryQuery struct {
	Start, End time.Time
	By         GroupBy
	APIKey     string
	UserID     string
	TeamID     string
	// Location sets day boundaries for ByDay (the budget time zone); nil means UTC, as LiteLLM does.
	Location *time.Location
}

// SpendGroup is one aggregate. Only the fields named by GroupBy are set among Day, Model, APIKey,
// KeyAlias, User and Provider.
type SpendGroup struct {
	Day      string // "2006-01-02"
	Model    string
	APIKey   string
	KeyAlias string
	User     string
	Provider string
	TeamID   string

	Spend            float64
	Requests         int64
	Failures         int64
	Unpriced         int64 // rows whose model had no price
	PromptTokens     int64
	CompletionTokens int64
	TotalTokens      int64
	CacheReadTokens  int64
	CacheWriteTokens int64
	ReasoningTokens  int64
}

// SpendSummary aggregates spend and tokens, for the UI's charts and /spend/logs?summarize. Groups come
// ordered by day, then by spend (largest first), then by name.
func (s *Store) SpendSummary(ctx context.Context, q SummaryQuery) ([]SpendGroup, error) {
	loc := q.Location
	if loc == nil {
		loc = time.UTC
	}
	start, end, ok, err := s.summaryRange(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("store: spend summary: %w", err)
	}
	if !ok {
		return []SpendGroup{}, nil
	}
	var sel, group []string
	var args []any
	rollup := s.d.rollups() && rollupServes(q, start, end)
	if q.By&ByDay != 0 {
		day, dayArgs := dayExpr(s.d, start, end, loc)
		if rollup {
			// Grouped by the day's number, formatted once per group: date() on every bucket costs more
			// than the sums.
			day, dayArgs = localSeconds(start, end, loc)
			day = "(" + day + ") / 86400"
		}
		sel, group, args = append(sel, day+" AS day"), append(group, "day"), append(args, dayArgs...)
	}
	if q.By&ByModel != 0 {
		sel = append(sel, "COALESCE(NULLIF(l.model_group, ''), l.model) AS m")
		group = append(group, "m")
	}
	if q.By&ByKey != 0 {
		sel, group = append(sel, "l.api_key", "MAX(l.key_alias)"), append(group, "l.api_key")
	}
	if q.By&ByUser != 0 {
		sel, group = append(sel, "l.user_id"), append(group, "l.user_id")
	}
	if q.By&ByProvider != 0 {
		sel, group = append(sel, "l.provider"), append(group, "l.provider")
	}
	if q.By&ByTeam != 0 {
		sel, group = append(sel, "l.team_id"), append(group, "l.team_id")
	}
	var query string
	if rollup {
		// The 30-minute buckets hold the same sums; bucket bounds keep the primary key in use.
		sel = append(sel, `COALESCE(SUM(l.spend), 0), COALESCE(SUM(l.requests), 0), COALESCE(SUM(l.failures), 0),
			COALESCE(SUM(l.unpriced), 0), COALESCE(SUM(l.prompt_tokens), 0), COALESCE(SUM(l.completion_tokens), 0),
			COALESCE(SUM(l.total_tokens), 0), COALESCE(SUM(l.cache_read_tokens), 0),
			COALESCE(SUM(l.cache_write_tokens), 0), COALESCE(SUM(l.reasoning_tokens), 0)`)
		where := []string{"bucket >= ?", "bucket < ?"}
		args = append(args, micros(start)/bucketMicros, micros(end)/bucketMicros)
		// The model table when models are asked for, else the key table (it also gives totals).
		table, cols := "spend_rollup_key", "'' AS model_group, '' AS model, api_key, key_alias"
		if q.By&ByModel != 0 {
			table, cols = "spend_rollup_model", "model AS model_group, model, '' AS api_key, '' AS key_alias"
		}
		if q.APIKey != "" {
			where, args = append(where, "api_key = ?"), append(args, q.APIKey)
		}
		query = `SELECT ` + strings.Join(sel, ", ") + ` FROM (SELECT bucket * ` + strconv.Itoa(bucketMicros) +
			` AS start_time, ` + cols + `, spend, requests, failures, unpriced, prompt_tokens, completion_tokens,
			total_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens
			FROM ` + table + ` WHERE ` + strings.Join(where, " AND ") + `) l`
	} else {
		where := []string{"l.start_time >= ?", "l.start_time < ?"}
		args = append(args, micros(start), micros(end))
		if q.APIKey != "" {
			where, args = append(where, "l.api_key = ?"), append(args, q.APIKey)
		}
		if q.UserID != "" {
			where, args = append(where, "l.user_id = ?"), append(args, q.UserID)
		}
		if q.TeamID != "" {
			where, args = append(where, "l.team_id = ?"), append(args, q.TeamID)
		}
		sel = append(sel, `COALESCE(SUM(l.spend), 0), COUNT(l.request_id), COALESCE(SUM(CASE WHEN l.status = 'failure' THEN 1 ELSE 0 END), 0),
			COALESCE(SUM(l.unpriced), 0), COALESCE(SUM(l.prompt_tokens), 0), COALESCE(SUM(l.completion_tokens), 0),
			COALESCE(SUM(l.total_tokens), 0), COALESCE(SUM(l.cache_read_tokens), 0),
			COALESCE(SUM(l.cache_write_tokens), 0), COALESCE(SUM(l.reasoning_tokens), 0)`)
		query = `SELECT ` + strings.Join(sel, ", ") + ` FROM spend_logs l WHERE ` + strings.Join(where, " AND ")
	}
	if len(group) > 0 {
		query += ` GROUP BY ` + strings.Join(group, ", ") + ` ORDER BY ` + summaryOrder(q.By)
	}
	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: spend summary: %w", err)
	}
	defer rows.Close()
	out := []SpendGroup{}
	for rows.Next() {
		var g SpendGroup
		var dest []any
		var dayNumber int64
		if q.By&ByDay != 0 && rollup {
			dest = append(dest, &dayNumber)
		} else if q.By&ByDay != 0 {
			dest = append(dest, &g.Day)
		}
		if q.By&ByModel != 0 {
			dest = append(dest, &g.Model)
		}
		if q.By&ByKey != 0 {
			dest = append(dest, &g.APIKey, &g.KeyAlias)
		}
		if q.By&ByUser != 0 {
			dest = append(dest, &g.User)
		}
		if q.By&ByProvider != 0 {
			dest = append(dest, &g.Provider)
		}
		if q.By&ByTeam != 0 {
			dest = append(dest, &g.TeamID)
		}
		dest = append(dest, &g.Spend, &g.Requests, &g.Failures, &g.Unpriced, &g.PromptTokens,
			&g.CompletionTokens, &g.TotalTokens, &g.CacheReadTokens, &g.CacheWriteTokens, &g.ReasoningTokens)
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("store: spend summary: %w", err)
		}
		if q.By&ByDay != 0 && rollup {
			g.Day = time.Unix(dayNumber*86400, 0).UTC().Format("2006-01-02")
		}
		if len(group) == 0 && g.Requests == 0 {
			continue // an aggregate over nothing
		}
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: spend summary: %w", err)
	}
	return out, nil
}

// bucketMicros is the rollups' bucket (migration 5, rollup.go): 30 minutes. Never change it: the
// tables on disk are cut at it.
const bucketMicros = 1_800_000_000

// rollupServes reports whether a rollup table can answer q over [start, end): they keep one of
// model or key, and whole buckets, so the bounds must fall on bucket edges (local midnights do).
func rollupServes(q SummaryQuery, start, end time.Time) bool {
	perModel := q.By&ByModel != 0
	return q.UserID == "" && q.TeamID == "" && q.By&(ByUser|ByProvider|ByTeam) == 0 &&
		!(perModel && (q.By&ByKey != 0 || q.APIKey != "")) && // one dimension per table
		micros(start)%bucketMicros == 0 && micros(end)%bucketMicros == 0
}

// summaryOrder orders by day, then spend descending, then the other group columns, by position in
// the select list (day, model, key and alias, user, provider, then the aggregates, spend first).
func summaryOrder(by GroupBy) string {
	pos := 1
	var order, names []string
	if by&ByDay != 0 {
		order = append(order, "1")
		pos++
	}
	for _, b := range []GroupBy{ByModel, ByKey, ByUser, ByProvider, ByTeam} {
		if by&b == 0 {
			continue
		}
		names = append(names, strconv.Itoa(pos))
		pos++
		if b == ByKey {
			pos++ // key_alias
		}
	}
	order = append(order, strconv.Itoa(pos)+" DESC")
	return strings.Join(append(order, names...), ", ")
}

// summaryRange resolves zero bounds from the data; ok is false when there is nothing to aggregate.
func (s *Store) summaryRange(ctx context.Context, q SummaryQuery) (start, end time.Time, ok bool, err error) {
	start, end = q.Start, q.End
	if start.IsZero() || end.IsZero() {
		var lo, hi sql.NullInt64
		if err := s.r.QueryRowContext(ctx, `SELECT MIN(start_time), MAX(start_time) FROM spend_logs`).Scan(&lo, &hi); err != nil {
			return start, end, false, err
		}
		if !lo.Valid {
			return start, end, false, nil
		}
		if start.IsZero() {
			start = fromMicros(lo.Int64)
		}
		if end.IsZero() {
			end = fromMicros(hi.Int64 + 1)
		}
	}
	return start, end, end.After(start), nil
}

// dayExpr returns SQL for the calendar day of l.start_time in loc, as "2006-01-02".
func dayExpr(d dialect, start, end time.Time, loc *time.Location) (string, []any) {
	secs, args := localSeconds(start, end, loc)
	return d.day(secs), args
}

// localSeconds returns SQL for l.start_time as seconds since the epoch of loc's wall clock. SQLite
// knows only UTC and the process's local zone, so the range is cut into spans of constant UTC offset
// (Go knows the zone's rules, DST included) and the offset of the row's span is added. Cost per
// row: a comparison per offset change in the range, about two a year.
func localSeconds(start, end time.Time, loc *time.Location) (string, []any) {
	type span struct {
		until  int64 // micros; the span holds times before it
		offset int   // seconds east of UTC
	}
	var spans []span
	for t := start.In(loc); t.Before(end); {
		_, off := t.Zone()
		_, next := t.ZoneBounds()
		if next.IsZero() || !next.Before(end) {
			spans = append(spans, span{math.MaxInt64, off})
			break
		}
		spans = append(spans, span{micros(next), off})
		t = next.In(loc)
	}
	if len(spans) <= 1 {
		off := 0
		if len(spans) == 1 {
			off = spans[0].offset
		}
		return "l.start_time / 1000000 + ?", []any{off}
	}
	var b strings.Builder
	var args []any
	b.WriteString("l.start_time / 1000000 + CASE")
	for _, sp := range spans[:len(spans)-1] {
		b.WriteString(" WHEN l.start_time < ? THEN CAST(? AS INTEGER)") // typed: PostgreSQL infers none from THEN
		args = append(args, sp.until, sp.offset)
	}
	b.WriteString(" ELSE CAST(? AS INTEGER) END")
	return b.String(), append(args, spans[len(spans)-1].offset)
}
