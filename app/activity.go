package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/clawgate/clawgate/app/ledger"
	"github.com/clawgate/clawgate/app/store"
	"github.com/clawgate/clawgate/proxy"
)

// Activity is what the activity window shows: the latest requests, what they cost, the budgets
// and the routes.
type Activity struct {
	Requests []Request // newest first
	// Today and Month are the spend (USD) and request count since local midnight and since the
	// first of the month.
	Today, Month Tally
	// Budgets are the proxy-wide budget (when one is set) and each virtual key's, live.
	Budgets []Budget
	// Routes are the gateway's deployments, in config order, with their health and prices.
	Routes []RouteState
}

// RouteState is one deployment: where it sends, what it costs, and whether it is cooling down.
type RouteState = proxy.RouteState

// Budget is one budget's state: a virtual key's, or the proxy-wide one (Global).
type Budget = ledger.BudgetView

// Tally sums a period's requests.
type Tally struct {
	Spend    float64
	Requests int
}

// Request is one logged request, as the activity window lists it.
type Request struct {
	ID       string // the call id (x-litellm-call-id): what the window's selection follows
	Start    time.Time
	Model    string // the model name the client asked for
	Provider string
	Upstream string // the model called upstream
	Key      string // the virtual key's alias, "" for the master key or an unnamed key
	Stream   bool

	PromptTokens, CompletionTokens int64
	Cost                           float64
	Unpriced                       bool // no price known for the model
	Duration                       time.Duration
	OK                             bool
	Error                          string
}

// Activity reads the newest limit requests and the day's and month's totals from the spend log.
// It flushes pending usage first, so a request that just ended is listed. It queries SQLite:
// call it off the UI goroutine.
func (a *App) Activity(ctx context.Context, limit int) (Activity, error) {
	a.mu.Lock()
	led := a.ledger
	a.mu.Unlock()
	if led == nil {
		return Activity{}, errors.New("the spend ledger is closed")
	}
	if err := led.Flush(ctx); err != nil {
		return Activity{}, fmt.Errorf("flush usage: %w", err)
	}
	st := led.Store()
	logs, _, err := st.QuerySpendLogs(ctx, store.SpendQuery{Page: 1, PageSize: limit})
	if err != nil {
		return Activity{}, err
	}
	var out Activity
	for _, l := range logs {
		out.Requests = append(out.Requests, requestOf(l))
	}
	now := time.Now()
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, now.Location())
	month := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, now.Location())
	if out.Today, err = tally(ctx, st, day); err != nil {
		return Activity{}, err
	}
	if out.Month, err = tally(ctx, st, month); err != nil {
		return Activity{}, err
	}
	if out.Budgets, err = led.Budgets(ctx); err != nil {
		return Activity{}, err
	}
	out.Routes = a.srv.RouteStates()
	return out, nil
}

func tally(ctx context.Context, st *store.Store, since time.Time) (Tally, error) {
	spend, err := st.TotalSpend(ctx, since)
	if err != nil {
		return Tally{}, err
	}
	_, n, err := st.QuerySpendLogs(ctx, store.SpendQuery{Start: &since, Page: 1, PageSize: 1})
	if err != nil {
		return Tally{}, err
	}
	return Tally{Spend: spend, Requests: n}, nil
}

// KeyEdit is a change to a virtual key from the tray: its limit, its reset period, blocked or not.
type KeyEdit = ledger.KeyEdit

// EditKey changes the key whose hash is token (Budget.Token), with /key/update's checks. It
// writes SQLite: call it off the UI goroutine.
func (a *App) EditKey(ctx context.Context, token string, ed KeyEdit) error {
	a.mu.Lock()
	led := a.ledger
	a.mu.Unlock()
	if led == nil {
		return errors.New("the spend ledger is closed")
	}
	if err := led.EditKey(ctx, token, ed); err != nil {
		return err
	}
	a.kickBudgets()
	return nil
}
