package app

import (
	"context"
	"fmt"
	"reflect"
	"strconv"
	"time"

	"github.com/clawgate/clawgate/app/ledger"
)

// BudgetLevel is the tray's budget state: the worst of every budget's.
type BudgetLevel int

const (
	// BudgetOK: no budget is near its limit.
	BudgetOK BudgetLevel = iota
	// BudgetWarn: a budget passed its soft budget or 80% of its limit.
	BudgetWarn
	// BudgetRefusing: a budget refuses requests now (its spend plus what is in flight reached it).
	BudgetRefusing
)

// BudgetSummary is what the tray says of spend and budgets.
type BudgetSummary struct {
	Level BudgetLevel
	// Line is the menu's spend line: "Today $1.84 · openclaw 62% of $50.00, resets Jan 1".
	Line string
	// Refusing and Warn name the budgets in those states, for the status line and the tooltip.
	Refusing, Warn []string
}

// budgetThrottle is the least time between two re-reads of the budgets: a spend event comes
// with every priced request, and the tray menu is rebuilt whole on each change.
const budgetThrottle = 2 * time.Second

// summarize turns the budgets and today's spend into the tray's summary. The line names the
// budget that refuses, else the one nearest its limit.
func summarize(bs []ledger.BudgetView, today float64, now time.Time) BudgetSummary {
	var s BudgetSummary
	var top *ledger.BudgetView
	topShare := -1.0
	for i := range bs {
		b := &bs[i]
		name := b.Name
		if b.Global {
			name = "proxy budget"
		}
		switch b.State(now) {
		case ledger.BudgetRefusing:
			s.Refusing = append(s.Refusing, name)
		case ledger.BudgetOver80, ledger.BudgetSoft:
			s.Warn = append(s.Warn, name)
		}
		if b.MaxBudget == nil || b.Blocked || (b.Expires != nil && !b.Expires.After(now)) {
			continue
		}
		share := 1.0
		if *b.MaxBudget > 0 {
			share = (b.Spend + b.Reserved) / *b.MaxBudget
		}
		if share > topShare {
			top, topShare = b, share
		}
	}
	switch {
	case len(s.Refusing) > 0:
		s.Level = BudgetRefusing
	case len(s.Warn) > 0:
		s.Level = BudgetWarn
	}
	s.Line = "Today " + dollars(today)
	if top != nil {
		name := top.Name
		if top.Global {
			name = "all requests"
		}
		s.Line += fmt.Sprintf(" · %s %s of %s", name, percent(top.Spend, *top.MaxBudget), dollars(*top.MaxBudget))
		if top.ResetAt != nil {
			s.Line += ", resets " + top.ResetAt.Local().Format("Jan 2")
		}
	}
	return s
}

func percent(spend, limit float64) string {
	if limit <= 0 {
		return "100%"
	}
	return strconv.Itoa(int(100*spend/limit)) + "%"
}

func dollars(v float64) string {
	switch {
	case v != 0 && v < 0.0001:
		return "$" + strconv.FormatFloat(v, 'g', 2, 64)
	case v != 0 && v < 0.01:
		return "$" + strconv.FormatFloat(v, 'f', 4, 64)
	}
	return "$" + strconv.FormatFloat(v, 'f', 2, 64)
}

// kickBudgets asks the budget loop to re-read the budgets; it never blocks.
func (a *App) kickBudgets() {
	select {
	case a.budgetKick <- struct{}{}:
	default: // a re-read is already due
	}
}

// watchBudgets re-reads the budgets when kicked, at most once per budgetThrottle, until stop is
// closed. It reads nothing while nothing happens.
func (a *App) watchBudgets(stop <-chan struct{}) {
	for {
		select {
		case <-stop:
			return
		case <-a.budgetKick:
		}
		a.refreshBudgets(context.Background())
		select {
		case <-stop:
			return
		case <-time.After(budgetThrottle):
		}
	}
}

// refreshBudgets reads the budgets and today's spend, and publishes the status when the summary
// changed.
func (a *App) refreshBudgets(ctx context.Context) {
	a.mu.Lock()
	led := a.ledger
	a.mu.Unlock()
	if led == nil {
		return
	}
	bs, err := led.Budgets(ctx)
	if err != nil {
		a.log.Warn("read budgets for the tray", "err", err)
		return
	}
	now := time.Now()
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, now.Location())
	// Queued rows first, so today's spend agrees with the budgets' (this runs at most every
	// budgetThrottle, so the writer still batches).
	if err := led.Flush(ctx); err != nil {
		a.log.Warn("flush usage for the tray", "err", err)
	}
	today, err := led.SpendSince(ctx, day)
	if err != nil {
		a.log.Warn("read today's spend for the tray", "err", err)
		return
	}
	sum := summarize(bs, today, now)
	storeFailing := led.StoreErr() != nil // Status reads it live; the tray learns of a change here
	a.mu.Lock()
	changed := !reflect.DeepEqual(a.status.Budget, sum) || storeFailing != a.storeFailing
	a.status.Budget, a.storeFailing = sum, storeFailing
	a.mu.Unlock()
	if changed {
		a.publish()
	}
}
