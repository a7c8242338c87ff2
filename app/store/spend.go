package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// SpendLog is one request's row, after LiteLLM's LiteLLM_SpendLogs.
type SpendLog struct {
	// RequestID is the gateway's own call id (x-litellm-call-id), the primary key: unique per call,
	// so inserting the same row twice (a replayed batch) stores and counts it once.
	RequestID string
	// ResponseID is the upstream's response id (chatcmpl-..., msg_...), "" when it gave none. Some
	// upstreams repeat theirs, so it identifies nothing.
	ResponseID string
	CallType   string // acompletion, aembedding, anthropic_messages, ...
	APIKey     string // SHA-256 hex of the virtual key (= Key.Token); may be empty
	KeyAlias   string
	Spend      float64 // USD
	Unpriced   bool    // the model had no price: Spend is 0 for that reason, not because it was free

	PromptTokens, CompletionTokens, TotalTokens int64
	CacheReadTokens, CacheWriteTokens           int64
	ReasoningTokens                             int64 // part of CompletionTokens

	StartTime, EndTime  time.Time
	CompletionStartTime *time.Time // first token

	Model      string // the model called upstream
	ModelGroup string // the client-facing model_name
	ModelID    string // deployment id
	Provider   string
	APIBase    string
	User       string // internal user owning the key
	TeamID     string // the key's team ("" for none)
	EndUser    string // the request's `user` field
	Status     string // "success" or "failure"
	Error      string
	Fallbacks  int
	Retries    int

	// Settled is true when the row's spend was already added to its budgets and its key's spend
	// when the request settled (the ledger's shared mode): InsertSpendLogs then does not add it again.
	Settled bool

	// Messages and Response are JSON bodies, nil unless store_prompts_in_spend_logs is on.
	Messages, Response []byte
	Metadata           map[string]any // never nil when read back
}

// Status values.
const (
	StatusSuccess = "success"
	StatusFailure = "failure"
)

func (l *SpendLog) validate() error {
	switch {
	case l.RequestID == "":
		return fmt.Errorf("%w: empty request_id", ErrInvalidLog)
	case l.StartTime.IsZero():
		return fmt.Errorf("%w: %s: no start time", ErrInvalidLog, l.RequestID)
	case math.IsNaN(l.Spend) || math.IsInf(l.Spend, 0):
		return fmt.Errorf("%w: %s: spend %v", ErrInvalidLog, l.RequestID, l.Spend)
	}
	return nil
}

const logCols = `request_id, response_id, call_type, api_key, key_alias, spend, unpriced, prompt_tokens,
	completion_tokens, total_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens, start_time,
	end_time, completion_start_time, model, model_group, model_id, provider, api_base, user_id, end_user,
	status, error, fallbacks, retries, metadata, team_id`

// insertChunk is how many rows one INSERT statement carries: one round trip for many rows
// (PostgreSQL answers each statement over the network), 31 parameters a row, well under both
// engines' limits on parameters.
const insertChunk = 128

// insertLogs is the INSERT of n rows. A row whose request_id is stored already (or comes again
// in the same statement) is skipped; RETURNING names the rows that went in. Both engines read it.
func insertLogs(n int) string {
	row := "(?" + strings.Repeat(", ?", 30) + ")"
	return `INSERT INTO spend_logs (` + logCols + `, messages, response) VALUES ` +
		row + strings.Repeat(", "+row, n-1) + ` ON CONFLICT (request_id) DO NOTHING RETURNING request_id`
}

func nullBody(b []byte) any {
	if b == nil {
		return nil
	}
	return string(b) // TEXT, so json_extract works on it
}

// InsertSpendLogs stores logs in one transaction and, in the same transaction, adds the spend of
// each newly inserted row to its key, so a key's spend and its logs never disagree. A request_id
// (a call id, unique per call) already stored is skipped and not counted again: replaying a batch
// is harmless. A row that
// started before its key's current window (SpendSince) is stored but not added, and so is a
// Settled row, whose spend its settlement added already (holds.go); either still moves last_active. Rows whose api_key
// matches no key are stored all the same, except that a row under a regenerated key's old token
// (logged by a process that had not seen the change yet) moves to the key's current token.
// Fields over their caps (caps.go) are cut, in logs too.
func (s *Store) InsertSpendLogs(ctx context.Context, logs []SpendLog) error {
	if len(logs) == 0 {
		return nil
	}
	metas := make([]string, len(logs))
	for i := range logs {
		logs[i].clip()
		if err := logs[i].validate(); err != nil {
			return fmt.Errorf("store: insert spend logs: %w", err)
		}
		md := logs[i].Metadata
		if md == nil {
			md = map[string]any{}
		}
		b, err := json.Marshal(md)
		if err != nil {
			return fmt.Errorf("store: insert spend logs: %w: %s: metadata: %v", ErrInvalidLog, logs[i].RequestID, err)
		}
		metas[i] = string(b)
	}
	return s.writeTx(ctx, "insert spend logs", func(tx *txn) error {
		inserted := map[string]bool{}
		for start := 0; start < len(logs); start += insertChunk {
			chunk := logs[start:min(start+insertChunk, len(logs))]
			args := make([]any, 0, 31*len(chunk))
			for i := range chunk {
				l := &chunk[i]
				args = append(args, l.RequestID, l.ResponseID, l.CallType, l.APIKey, l.KeyAlias, l.Spend, l.Unpriced,
					l.PromptTokens, l.CompletionTokens, l.TotalTokens, l.CacheReadTokens, l.CacheWriteTokens,
					l.ReasoningTokens, micros(l.StartTime), micros(l.EndTime), nullMicros(l.CompletionStartTime),
					l.Model, l.ModelGroup, l.ModelID, l.Provider, l.APIBase, l.User, l.EndUser, l.Status, l.Error,
					l.Fallbacks, l.Retries, metas[start+i], l.TeamID, nullBody(l.Messages), nullBody(l.Response))
			}
			if err := returnedIDs(ctx, tx, insertLogs(len(chunk)), args, inserted); err != nil {
				return fmt.Errorf("rows %s to %s: %w", chunk[0].RequestID, chunk[len(chunk)-1].RequestID, err)
			}
		}
		type added struct {
			rows []int // indexes of newly inserted rows
		}
		perKey := map[string]*added{}
		for i := range logs {
			l := &logs[i]
			if !inserted[l.RequestID] {
				continue
			}
			delete(inserted, l.RequestID) // a request_id twice in the batch went in once: count it once
			if l.APIKey == "" {
				continue
			}
			a := perKey[l.APIKey]
			if a == nil {
				a = &added{}
				perKey[l.APIKey] = a
			}
			a.rows = append(a.rows, i)
		}
		// Keys in one order in every transaction, each locked as it is read (PostgreSQL), so
		// that gateways writing batches for the same keys queue instead of deadlocking, and a
		// window reset elsewhere is either seen here or made after this write.
		tokens := make([]string, 0, len(perKey))
		for token := range perKey {
			tokens = append(tokens, token)
		}
		slices.Sort(tokens)
		sinceOf := `SELECT spend_since FROM keys WHERE token = ?` + s.d.forUpdate()
		for _, token := range tokens {
			a := perKey[token]
			var since sql.NullInt64
			err := tx.QueryRowContext(ctx, sinceOf, token).Scan(&since)
			if errors.Is(err, sql.ErrNoRows) {
				if token, err = followRename(ctx, tx, token); err == nil {
					err = tx.QueryRowContext(ctx, sinceOf, token).Scan(&since)
				}
			}
			if errors.Is(err, sql.ErrNoRows) {
				continue // a deleted key, or the master key: the log is enough
			}
			if err != nil {
				return err
			}
			var delta float64
			var last int64 = math.MinInt64
			for _, i := range a.rows {
				l := &logs[i]
				if since.Valid && micros(l.StartTime) < since.Int64 {
					continue
				}
				if !l.Settled {
					delta += l.Spend
				}
				last = max(last, micros(l.EndTime), micros(l.StartTime))
			}
			if last == math.MinInt64 {
				continue
			}
			if _, err := tx.ExecContext(ctx, `UPDATE keys SET spend = spend + ?,
				last_active = CASE WHEN last_active IS NULL OR last_active < ? THEN ? ELSE last_active END
				WHERE token = ?`, delta, last, last, token); err != nil {
				return err
			}
		}
		return nil
	})
}

// returnedIDs runs an INSERT ... RETURNING request_id and notes the ids it returns in ids.
func returnedIDs(ctx context.Context, tx *txn, query string, args []any, ids map[string]bool) error {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return err
		}
		ids[id] = true
	}
	return rows.Err()
}

func scanLog(r rowScanner, bodies bool) (SpendLog, error) {
	var (
		l                  SpendLog
		start, end         int64
		first              sql.NullInt64
		meta               string
		messages, response sql.NullString
	)
	dest := []any{&l.RequestID, &l.ResponseID, &l.CallType, &l.APIKey, &l.KeyAlias, &l.Spend, &l.Unpriced, &l.PromptTokens,
		&l.CompletionTokens, &l.TotalTokens, &l.CacheReadTokens, &l.CacheWriteTokens, &l.ReasoningTokens,
		&start, &end, &first, &l.Model, &l.ModelGroup, &l.ModelID, &l.Provider, &l.APIBase, &l.User,
		&l.EndUser, &l.Status, &l.Error, &l.Fallbacks, &l.Retries, &meta, &l.TeamID}
	if bodies {
		dest = append(dest, &messages, &response)
	}
	if err := r.Scan(dest...); err != nil {
		return SpendLog{}, err
	}
	l.StartTime, l.EndTime, l.CompletionStartTime = fromMicros(start), fromMicros(end), timePtr(first)
	if err := json.Unmarshal([]byte(meta), &l.Metadata); err != nil {
		return SpendLog{}, fmt.Errorf("spend log %s: metadata: %w", l.RequestID, err)
	}
	if l.Metadata == nil {
		l.Metadata = map[string]any{}
	}
	if messages.Valid {
		l.Messages = []byte(messages.String)
	}
	if response.Valid {
		l.Response = []byte(response.String)
	}
	return l, nil
}

// GetSpendLog returns one row with its bodies, or ErrNotFound.
func (s *Store) GetSpendLog(ctx context.Context, requestID string) (SpendLog, error) {
	l, err := scanLog(s.r.QueryRowContext(ctx, `SELECT `+logCols+`, messages, response
		FROM spend_logs WHERE request_id = ?`, requestID), true)
	return l, wrapGet("spend log", err)
}

// SpendQuery filters QuerySpendLogs. Empty fields do not filter. Times are a half-open range
// [Start, End) on the start time. Page is 1-based; PageSize <= 0 returns every match.
type SpendQuery struct {
	APIKey    string
	UserID    string
	TeamID    string
	RequestID string // matches request_id (the call id) or response_id
	Model     string // matches model or model_group
	KeyAlias  string
	EndUser   string
	Status    string
	Start     *time.Time
	End       *time.Time
	MinSpend  *float64
	MaxSpend  *float64
	Page      int
	PageSize  int
	// IncludeBodies also loads Messages and Response (large; the list views leave them out).
	IncludeBodies bool
}

func (q SpendQuery) where() (string, []any) {
	var w []string
	var args []any
	add := func(cond string, v any) { w, args = append(w, cond), append(args, v) }
	if q.APIKey != "" {
		add("api_key = ?", q.APIKey)
	}
	if q.UserID != "" {
		add("user_id = ?", q.UserID)
	}
	if q.TeamID != "" {
		add("team_id = ?", q.TeamID)
	}
	if q.RequestID != "" {
		// A call id, or the upstream's response id a client saw in the body (many rows, if repeated).
		w, args = append(w, "(request_id = ? OR response_id = ?)"), append(args, q.RequestID, q.RequestID)
	}
	if q.Model != "" {
		w, args = append(w, "(model = ? OR model_group = ?)"), append(args, q.Model, q.Model)
	}
	if q.KeyAlias != "" {
		add("key_alias = ?", q.KeyAlias)
	}
	if q.EndUser != "" {
		add("end_user = ?", q.EndUser)
	}
	if q.Status != "" {
		add("status = ?", q.Status)
	}
	if q.Start != nil {
		add("start_time >= ?", micros(*q.Start))
	}
	if q.End != nil {
		add("start_time < ?", micros(*q.End))
	}
	if q.MinSpend != nil {
		add("spend >= ?", *q.MinSpend)
	}
	if q.MaxSpend != nil {
		add("spend <= ?", *q.MaxSpend)
	}
	if len(w) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(w, " AND "), args
}

// QuerySpendLogs returns one page of rows, newest start time first, and the number of matches.
func (s *Store) QuerySpendLogs(ctx context.Context, q SpendQuery) ([]SpendLog, int, error) {
	w, args := q.where()
	var total int
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM spend_logs`+w, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("store: query spend logs: %w", err)
	}
	cols := logCols
	if q.IncludeBodies {
		cols += ", messages, response"
	}
	limit, offset := limitOffset(q.Page, q.PageSize)
	rows, err := s.r.QueryContext(ctx, `SELECT `+cols+` FROM spend_logs`+w+
		` ORDER BY start_time DESC, request_id DESC LIMIT ? OFFSET ?`, append(args, limit, offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("store: query spend logs: %w", err)
	}
	defer rows.Close()
	out := []SpendLog{}
	for rows.Next() {
		l, err := scanLog(rows, q.IncludeBodies)
		if err != nil {
			return nil, 0, fmt.Errorf("store: query spend logs: %w", err)
		}
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("store: query spend logs: %w", err)
	}
	return out, total, nil
}

// TotalSpend is the spend of every row that started at or after since (the proxy-wide budget).
func (s *Store) TotalSpend(ctx context.Context, since time.Time) (float64, error) {
	var v float64
	if err := s.r.QueryRowContext(ctx, `SELECT COALESCE(SUM(spend), 0) FROM spend_logs WHERE start_time >= ?`,
		micros(since)).Scan(&v); err != nil {
		return 0, fmt.Errorf("store: total spend: %w", err)
	}
	return v, nil
}

// KeySpendSince is the spend of a key's rows that started at or after since: what its budget window
// holds according to the logs on disk.
func (s *Store) KeySpendSince(ctx context.Context, token string, since time.Time) (float64, error) {
	var v float64
	if err := s.r.QueryRowContext(ctx, `SELECT COALESCE(SUM(spend), 0) FROM spend_logs
		WHERE api_key = ? AND start_time >= ?`, token, micros(since)).Scan(&v); err != nil {
		return 0, fmt.Errorf("store: key spend: %w", err)
	}
	return v, nil
}

// pruneChunk bounds each delete transaction so pruning a large backlog never holds the writer long.
const pruneChunk = 5000

// PruneSpendLogs deletes rows that started before before (maximum_spend_logs_retention_period) and
// returns how many went. Key spend is left alone: it covers the current window, not the logs kept.
func (s *Store) PruneSpendLogs(ctx context.Context, before time.Time) (int64, error) {
	var total int64
	for {
		id := s.d.rowID()
		res, err := s.w.ExecContext(ctx, `DELETE FROM spend_logs WHERE `+id+` IN
			(SELECT `+id+` FROM spend_logs WHERE start_time < ? LIMIT ?)`, micros(before), pruneChunk)
		if err != nil {
			return total, fmt.Errorf("store: prune spend logs: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, fmt.Errorf("store: prune spend logs: %w", err)
		}
		total += n
		if n < pruneChunk {
			return total, nil
		}
	}
}
