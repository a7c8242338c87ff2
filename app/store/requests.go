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

// textWindow is how many of the newest rows passing the other filters a text search reads by LIKE
// before it asks the trigram index: a common word fills a page from them at once, where the index
// would first collect every row holding it; a rare one falls through to the index.
var textWindow = 5000 // a var: tests shrink it

// clause is a WHERE condition and its arguments.
type clause struct {
	cond string
	args []any
}

// filters are q's conditions but the text, in order, then the text's LIKE test (nil without text).
func (q RequestQuery) filters(d dialect) (conds []clause, like *clause) {
	add := func(cond string, v ...any) { conds = append(conds, clause{cond, v}) }
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
	// Row values, which SQLite turns into an index range (an OR of the two parts it would not).
	switch {
	case q.After != nil:
		add("(start_time, request_id) < (?, ?)", micros(q.After.Start), q.After.RequestID)
	case q.Before != nil:
		add("(start_time, request_id) > (?, ?)", micros(q.Before.Start), q.Before.RequestID)
	}
	if t := strings.TrimSpace(q.Text); t != "" {
		p := "%" + likeEscape.Replace(t) + "%"
		// Case-insensitive (SQLite's LIKE for ASCII, PostgreSQL's ILIKE); metadata is searched
		// only under "tags" so that the call id and other bookkeeping in it do not match.
		var or []string
		like = &clause{}
		for _, col := range []string{"request_id", "model_group", "model", "provider", "key_alias", "error", "user_id", "end_user"} {
			or = append(or, col+" "+d.like()+` ? ESCAPE '\'`)
			like.args = append(like.args, p)
		}
		or = append(or, `(metadata LIKE '%"tags"%' AND `+d.tags()+" "+d.like()+` ? ESCAPE '\')`)
		like.args = append(like.args, p)
		like.cond = "(" + strings.Join(or, " OR ") + ")"
	}
	return conds, like
}

// order is the page's order: newest first, or oldest first for a Before page (reversed after).
func (q RequestQuery) order() string {
	if q.Before != nil {
		return " ORDER BY start_time ASC, request_id ASC"
	}
	return " ORDER BY start_time DESC, request_id DESC"
}

func where(cs []clause) (string, []any) {
	if len(cs) == 0 {
		return "", nil
	}
	var conds []string
	var args []any
	for _, c := range cs {
		conds, args = append(conds, c.cond), append(args, c.args...)
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// sql selects cols for q. indexed: the text is first looked up in the trigram index.
func (q RequestQuery) sql(d dialect, cols string, indexed bool) (string, []any) {
	conds, like := q.filters(d)
	if like != nil {
		conds = append(conds, *like)
		if ix := d.textIndex(strings.TrimSpace(q.Text)); indexed && ix != nil {
			conds = append(conds, *ix)
		}
	}
	w, args := where(conds)
	s := `SELECT ` + cols + ` FROM spend_logs` + w + q.order()
	if q.Limit > 0 {
		s += ` LIMIT ?`
		args = append(args, q.Limit)
	}
	return s, args
}

// windowSQL is the text search over the newest textWindow rows that pass the other filters.
func (q RequestQuery) windowSQL(d dialect, cols string) (string, []any) {
	conds, like := q.filters(d)
	w, args := where(conds)
	id := d.rowID()
	inner := `SELECT ` + id + ` FROM spend_logs` + w + q.order() + ` LIMIT ?`
	args = append(args, textWindow)
	s := `SELECT ` + cols + ` FROM spend_logs WHERE ` + id + ` IN (` + inner + `) AND ` + like.cond + q.order() + ` LIMIT ?`
	return s, append(append(args, like.args...), q.Limit)
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
	collect := func(l SpendLog) error { out = append(out, l); return nil }
	var err error
	if strings.TrimSpace(q.Text) != "" && q.Limit > 0 {
		query, args := q.windowSQL(s.d, logCols)
		if err = s.eachLog(ctx, query, args, collect); err == nil && len(out) < q.Limit {
			out = out[:0] // too few among the newest rows: ask the index
			query, args = q.sql(s.d, logCols, true)
			err = s.eachLog(ctx, query, args, collect)
		}
	} else {
		err = s.EachSpendLog(ctx, q, collect)
	}
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
	query, args := q.sql(s.d, logCols, true)
	return s.eachLog(ctx, query, args, fn)
}

func (s *Store) eachLog(ctx context.Context, query string, args []any, fn func(SpendLog) error) error {
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
