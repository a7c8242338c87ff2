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

// RequestFilter narrows the spend log as the Requests tab and its CSV export do. Model, Key and
// Status are matched by the store's indexed query; Text is a case-insensitive substring of the
// model, upstream, provider, key or error, checked over the rows the store returns.
type RequestFilter struct {
	Model  string // a model group or an upstream model
	Key    string // a virtual key's alias
	Status string // "", "ok" or "failed"
	Text   string
	// Limit is the most rows returned (the newest first); 0 for all.
	Limit int
}

func (f RequestFilter) query(page, size int) store.SpendQuery {
	q := store.SpendQuery{Model: strings.TrimSpace(f.Model), KeyAlias: strings.TrimSpace(f.Key), Page: page, PageSize: size}
	switch f.Status {
	case "ok":
		q.Status = store.StatusSuccess
	case "failed":
		q.Status = store.StatusFailure
	}
	return q
}

func (f RequestFilter) match(r Request) bool {
	t := strings.ToLower(strings.TrimSpace(f.Text))
	if t == "" {
		return true
	}
	for _, s := range []string{r.Model, r.Upstream, r.Provider, r.Key, r.Error} {
		if strings.Contains(strings.ToLower(s), t) {
			return true
		}
	}
	return false
}

// requestPage is how many rows one store read takes while filtering or exporting.
const requestPage = 1000

// Requests reads the newest logged requests that pass f. It queries SQLite: off the UI goroutine.
func (a *App) Requests(ctx context.Context, f RequestFilter) ([]Request, error) {
	var out []Request
	err := a.eachRequest(ctx, f, func(r Request) bool {
		out = append(out, r)
		return f.Limit == 0 || len(out) < f.Limit
	})
	return out, err
}

// eachRequest calls yield with each request that passes f, newest first, until it returns false.
func (a *App) eachRequest(ctx context.Context, f RequestFilter, yield func(Request) bool) error {
	led, err := a.openLedger()
	if err != nil {
		return err
	}
	if err := led.Flush(ctx); err != nil {
		return err
	}
	st := led.Store()
	for page := 1; ; page++ {
		logs, _, err := st.QuerySpendLogs(ctx, f.query(page, requestPage))
		if err != nil {
			return err
		}
		for _, l := range logs {
			if r := requestOf(l); f.match(r) && !yield(r) {
				return nil
			}
		}
		if len(logs) < requestPage {
			return nil
		}
	}
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

// ExportRequestsCSV writes every request that passes f (Limit ignored) as CSV, newest first, and
// returns how many rows it wrote.
func (a *App) ExportRequestsCSV(ctx context.Context, f RequestFilter, w io.Writer) (int, error) {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return 0, err
	}
	n := 0
	var werr error
	err := a.eachRequest(ctx, f, func(r Request) bool {
		status := "success"
		if !r.OK {
			status = "failure"
		}
		werr = cw.Write([]string{r.ID, r.Start.UTC().Format(time.RFC3339Nano), r.Model, r.Upstream, r.Provider, r.Key,
			strconv.FormatBool(r.Stream), strconv.FormatInt(r.PromptTokens, 10), strconv.FormatInt(r.CompletionTokens, 10),
			strconv.FormatFloat(r.Cost, 'f', -1, 64), strconv.FormatBool(r.Unpriced), strconv.FormatInt(r.Duration.Milliseconds(), 10),
			status, r.Error})
		n++
		return werr == nil
	})
	if err == nil {
		err = werr
	}
	cw.Flush()
	if err == nil {
		err = cw.Error()
	}
	return n, err
}
