package app

import (
	"context"
	"encoding/csv"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/clawgate/clawgate/app/store"
)

// RequestFilter narrows the spend log as the Requests tab and its CSV export do. Every field is
// matched by the store's indexed SQL (app/store/requests.go), and pages are read by keyset cursor.
type RequestFilter struct {
	Model  string // a model group or an upstream model
	Key    string // a virtual key's alias
	Status string // "", "ok" or "failed"
	// Since and Until bound the start time to [Since, Until); zero means open.
	Since, Until time.Time
	// Text is a case-insensitive substring of the request id, model, provider, key, error, user or tags.
	Text string
	// After asks for the page older than that row (the next page); Before for the page newer than
	// it (the previous one). Both nil: the newest page.
	After, Before *Request
	// Limit is the most rows returned (the newest first); 0 for all.
	Limit int
}

func cursor(r *Request) *store.Cursor {
	if r == nil {
		return nil
	}
	return &store.Cursor{Start: r.Start, RequestID: r.ID}
}

func (f RequestFilter) query() store.RequestQuery {
	q := store.RequestQuery{Model: strings.TrimSpace(f.Model), KeyAlias: strings.TrimSpace(f.Key),
		Since: f.Since, Until: f.Until, Text: strings.TrimSpace(f.Text),
		After: cursor(f.After), Before: cursor(f.Before), Limit: f.Limit}
	switch f.Status {
	case "ok":
		q.Status = store.StatusSuccess
	case "failed":
		q.Status = store.StatusFailure
	}
	return q
}

// Requests reads one page of the logged requests that pass f, newest first. It queries SQLite:
// off the UI goroutine.
func (a *App) Requests(ctx context.Context, f RequestFilter) ([]Request, error) {
	st, err := a.flushedStore(ctx)
	if err != nil {
		return nil, err
	}
	logs, err := st.PageSpendLogs(ctx, f.query())
	if err != nil {
		return nil, err
	}
	out := make([]Request, len(logs))
	for i, l := range logs {
		out[i] = requestOf(l)
	}
	return out, nil
}

// flushedStore is the ledger's store once pending usage is written, so a request that just ended
// is read.
func (a *App) flushedStore(ctx context.Context) (*store.Store, error) {
	led, err := a.openLedger()
	if err != nil {
		return nil, err
	}
	if err := led.Flush(ctx); err != nil {
		return nil, err
	}
	return led.Store(), nil
}

// requestOf is a spend log row as the windows show it.
func requestOf(l store.SpendLog) Request {
	r := Request{
		ID: l.RequestID, Start: l.StartTime, Model: l.ModelGroup, Provider: l.Provider, Upstream: l.Model, Key: l.KeyAlias,
		PromptTokens: l.PromptTokens, CompletionTokens: l.CompletionTokens, Cost: l.Spend, Unpriced: l.Unpriced,
		Duration: l.EndTime.Sub(l.StartTime), OK: l.Status == store.StatusSuccess, Error: l.Error,
	}
	r.Stream, _ = l.Metadata["stream"].(bool)
	return r
}

// csvHeader names ExportRequestsCSV's columns.
var csvHeader = []string{"request_id", "start_time", "model", "upstream_model", "provider", "key_alias", "stream",
	"prompt_tokens", "completion_tokens", "spend_usd", "unpriced", "duration_ms", "status", "error"}

// ExportRequestsCSV writes every request that passes f (paging and Limit ignored) as CSV, newest first, and
// returns how many rows it wrote.
func (a *App) ExportRequestsCSV(ctx context.Context, f RequestFilter, w io.Writer) (int, error) {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return 0, err
	}
	st, err := a.flushedStore(ctx)
	if err != nil {
		return 0, err
	}
	q := f.query()
	q.After, q.Before, q.Limit = nil, nil, 0
	n := 0
	// One row at a time from the database to the writer: an export of a million rows holds one.
	err = st.EachSpendLog(ctx, q, func(l store.SpendLog) error {
		r := requestOf(l)
		status := "success"
		if !r.OK {
			status = "failure"
		}
		n++
		return cw.Write([]string{r.ID, r.Start.UTC().Format(time.RFC3339Nano), r.Model, r.Upstream, r.Provider, r.Key,
			strconv.FormatBool(r.Stream), strconv.FormatInt(r.PromptTokens, 10), strconv.FormatInt(r.CompletionTokens, 10),
			strconv.FormatFloat(r.Cost, 'f', -1, 64), strconv.FormatBool(r.Unpriced), strconv.FormatInt(r.Duration.Milliseconds(), 10),
			status, r.Error})
	})
	cw.Flush()
	if err == nil {
		err = cw.Error()
	}
	return n, err
}
