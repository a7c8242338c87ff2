package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// RequestQuery selects rows for the Requests tab: every set field narrows, and rows come newest
// first by (start_time, request_id), a page at a time by keyset cursor, never by OFFSET, so page
// 1000 costs what page 1 does.
type RequestQuery struct {
	Model    string // model_group or model, exactly
	KeyAlias string
	Status   string // StatusSuccess or StatusFailure
	// Since and Until bound start_time to [Since, Until); zero means open.
	Since, Until time.Time
	// Text is a case-insensitive substring of the request id, model, model group, provider, key
	// alias, error, user, end user or metadata tags.
	Text string
	// After returns the rows older than the cursor (the next page); Before the rows newer than it
	// (the previous page). At most one is set.
	After, Before *Cursor
	Limit         int // rows per page; <= 0 means every match (for EachRequest)
}

// Cursor is a row's place in the newest-first order; request_id breaks ties in start_time.
type Cursor struct {
	Start     time.Time
	RequestID string
}

// CursorOf is l's place in the order.
func CursorOf(l SpendLog) *Cursor { return &Cursor{Start: l.StartTime, RequestID: l.RequestID} }

// likeEscape makes s a literal LIKE pattern fragment (escape character '\').
var likeEscape = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

func (q RequestQuery) sql(cols string) (string, []any) {
	var w []string
	var args []any
	add := func(cond string, v ...any) { w, args = append(w, cond), append(args, v...) }
	if q.Model != "" {
		add("(model_group = ? OR model = ?)", q.Model, q.Model)
	}
	if q.KeyAlias != "" {
		add("key_alias = ?", q.KeyAlias)
	}
	if q.Status != "" {
		add("status = ?", q.Status)
	}
	if !q.Since.IsZero() {
		add("start_time >= ?", micros(q.Since))
	}
	if !q.Until.IsZero() {
		add("start_time < ?", micros(q.Until))
	}
	if t := strings.TrimSpace(q.Text); t != "" {
		p := "%" + likeEscape.Replace(t) + "%"
		// LIKE is case-insensitive for ASCII; metadata is searched only under "tags" so that the
		// call id and other bookkeeping in it do not match.
		var or []string
		for _, col := range []string{"request_id", "model_group", "model", "provider", "key_alias", "error", "user_id", "end_user"} {
			or = append(or, col+` LIKE ? ESCAPE '\'`)
			args = append(args, p)
		}
		or = append(or, `(metadata LIKE '%"tags"%' AND json_extract(metadata, '$.tags') LIKE ? ESCAPE '\')`)
		args = append(args, p)
		w = append(w, "("+strings.Join(or, " OR ")+")")
		if m := trigramMatch(t); m != "" {
			// The index finds the rows holding every trigram of the text; LIKE above keeps the real matches.
			add("rowid IN (SELECT rowid FROM spend_logs_text WHERE spend_logs_text MATCH ?)", m)
		}
	}
	order := "DESC"
	switch {
	case q.After != nil:
		add("(start_time < ? OR (start_time = ? AND request_id < ?))",
			micros(q.After.Start), micros(q.After.Start), q.After.RequestID)
	case q.Before != nil:
		add("(start_time > ? OR (start_time = ? AND request_id > ?))",
			micros(q.Before.Start), micros(q.Before.Start), q.Before.RequestID)
		order = "ASC" // the nearest newer rows, reversed after reading
	}
	s := `SELECT ` + cols + ` FROM spend_logs`
	if len(w) > 0 {
		s += ` WHERE ` + strings.Join(w, " AND ")
	}
	s += ` ORDER BY start_time ` + order + `, request_id ` + order
	if q.Limit > 0 {
		s += ` LIMIT ?`
		args = append(args, q.Limit)
	}
	return s, args
}

// trigramMatch is an FTS5 query for rows holding every trigram of t (lower-cased, as the trigram
// tokenizer folds them), or "" when t is shorter than a trigram and the index cannot help.
func trigramMatch(t string) string {
	r := []rune(strings.ToLower(t))
	if len(r) < 3 {
		return ""
	}
	seen := map[string]bool{}
	var terms []string
	for i := 0; i+3 <= len(r); i++ {
		g := string(r[i : i+3])
		if !seen[g] {
			seen[g] = true
			terms = append(terms, `"`+strings.ReplaceAll(g, `"`, `""`)+`"`)
		}
	}
	return strings.Join(terms, " AND ")
}

// PageSpendLogs returns one page of q, newest first (bodies left out).
func (s *Store) PageSpendLogs(ctx context.Context, q RequestQuery) ([]SpendLog, error) {
	out := []SpendLog{}
	err := s.EachSpendLog(ctx, q, func(l SpendLog) error { out = append(out, l); return nil })
	if err != nil {
		return nil, err
	}
	if q.Before != nil {
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
	}
	return out, nil
}

// EachSpendLog calls fn with each row of q in order, reading one row at a time, so an export of a
// million rows holds one in memory. An error from fn stops it and is returned.
func (s *Store) EachSpendLog(ctx context.Context, q RequestQuery, fn func(SpendLog) error) error {
	query, args := q.sql(logCols)
	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("store: requests: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		l, err := scanLog(rows, false)
		if err != nil {
			return fmt.Errorf("store: requests: %w", err)
		}
		if err := fn(l); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: requests: %w", err)
	}
	return nil
}
