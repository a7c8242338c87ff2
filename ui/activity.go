package ui

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/clawgate/clawgate/app"
)

const (
	// requestsShown is how many of the latest requests the window lists.
	requestsShown = 200
	// requestsEvery is how often an open activity window re-reads the log when its service
	// announces no changes; usage reaches the log in batches about once a second.
	requestsEvery = 2 * time.Second
)

// requestColumns are the table's headings; requestCells fills a row in this order.
var requestColumns = [...]string{"Time", "Model", "Provider", "Tokens in / out", "Cost", "Took", "Result"}

// requestStretch marks the columns that take a wide window's spare width.
var requestStretch = []bool{false, true, false, false, false, false, true}

// activityWindow shows, in three tabs, the latest requests from the spend log, the budgets and the
// routes, under the day's and month's spend. It reads them through the service, off the Fyne
// goroutine, when shown and then on the service's change events while open (changes.go), or
// every requestsEvery for a service that announces none. Each table's selection follows
// its item (a request's id, a key's hash, a route's name) across reads.
type activityWindow struct {
	w       fyne.Window
	fetch   func(context.Context, int) (app.Activity, error)
	visible bool
	now     func() time.Time

	summary *widget.Label
	tabs    *container.AppTabs
	table   *itemTable
	rows    [][]string
	budgets *itemTable
	brows   [][]string
	bdata   []app.Budget // the rows' budgets
	bedit   budgetEditor // the Budgets tab's buttons and what they act on
	routes  *itemTable
	rrows   [][]string
	// lastRoutes are the deployments in force at the last read; redit, when set, edits the
	// config file's routes and shows them instead (see routes.go).
	lastRoutes []app.RouteState
	redit      *routeEditor
	keys       *keysTab        // the Keys tab, when the service has secrets to show (providerkeys.go)
	overview   *overviewTab    // the Overview tab (overview.go)
	filters    *requestFilters // the Requests tab's filters and export (requestfilters.go)
	reqs       []app.Request   // the rows' requests, for the detail line
	detail     *widget.Label   // the selected request in full (cells cut long errors)
	changes    changeService   // when set, the window reads on its events, not on a timer (changes.go)
	pane       *requestPane    // when set, the selected request in full with Copy as curl (requestdetail.go)

	loading atomic.Bool    // a read is under way: ticks skip rather than pile up
	again   atomic.Bool    // a read was asked for while one was under way
	jobs    sync.WaitGroup // the goroutines the window started (tests wait for them)
	stop    chan struct{}  // closed on hide, ends the ticker
	closed  *atomic.Bool   // the app is shutting down: no more fyne.Do
}

// noRequestSelected is the detail line while no request is selected.
const noRequestSelected = "Select a request to see it in full."

func newActivityWindow(a fyne.App, fetch func(context.Context, int) (app.Activity, error),
	edit func(context.Context, string, app.KeyEdit) error, closed *atomic.Bool) *activityWindow {
	rw := &activityWindow{w: a.NewWindow("Clawgate activity"), fetch: fetch, now: time.Now, closed: closed,
		summary: widget.NewLabel("Reading the spend log…")}
	rw.summary.TextStyle.Bold = true
	rw.summary.Wrapping = fyne.TextWrapWord
	rw.detail = widget.NewLabel(noRequestSelected)
	rw.detail.Wrapping = fyne.TextWrapWord
	rw.detail.Selectable = true
	rw.table = newItemTable(requestColumns[:], requestStretch, func(row int) {
		if row < 0 || row >= len(rw.reqs) {
			rw.detail.SetText(noRequestSelected)
			if rw.pane != nil {
				rw.pane.selectRequest(nil)
			}
			return
		}
		if rw.pane != nil {
			rw.pane.selectRequest(&rw.reqs[row]) // the full row, bodies and Copy as curl (requestdetail.go)
			return
		}
		rw.detail.SetText(requestDetail(rw.reqs[row]))
	})
	rw.budgets = newItemTable(budgetColumns[:], budgetStretch, nil)
	rw.routes = newItemTable(append(routeColumns[:], "Last test"), append(routeStretch, true), nil)
	rw.tabs = container.NewAppTabs(
		container.NewTabItem("Requests", container.NewBorder(nil, container.NewPadded(rw.detail), nil, nil, rw.table.object())),
		container.NewTabItem("Budgets", container.NewBorder(nil, rw.newBudgetEditor(edit), nil, nil, rw.budgets.object())),
		container.NewTabItem("Routes", rw.routes.object()),
	)
	rw.w.SetContent(container.NewBorder(container.NewPadded(rw.summary), nil, nil, nil, rw.tabs))
	// About 16 rows, and it fits a 1366x768 screen with room for the panel.
	rw.w.Resize(fyne.NewSize(1100, 640))
	rw.w.SetCloseIntercept(rw.hide)
	return rw
}

// Tabs of the window.
const (
	tabRequests = iota
	tabBudgets
	tabRoutes
)

// show opens the window on a tab and keeps it current until hidden; call on the Fyne goroutine.
func (rw *activityWindow) show(tab int) {
	rw.tabs.SelectIndex(tab)
	rw.w.Show()
	rw.w.RequestFocus()
	if rw.visible {
		return
	}
	rw.visible = true
	rw.stop = make(chan struct{})
	stop := rw.stop
	if rw.keys != nil {
		rw.keys.stale.Store(true) // the keychain is read when the window opens, not on ticks
	}
	rw.refresh()
	if rw.changes != nil {
		rw.follow(stop) // reads on change events only (changes.go)
		return
	}
	// A service that announces no changes (a test's fake) is read on a timer.
	rw.jobs.Add(1)
	go func() {
		defer rw.jobs.Done()
		t := time.NewTicker(requestsEvery)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				if rw.closed.Load() {
					return // the app is shutting down
				}
				onUI(func() {
					if !rw.closed.Load() && rw.visible {
						rw.refresh()
					}
				})
			}
		}
	}()
}

// hide closes the window and stops its reads; call on the Fyne goroutine.
func (rw *activityWindow) hide() {
	if rw.visible {
		close(rw.stop)
		rw.visible = false
	}
	rw.w.Hide()
}

// refresh reads the log in the background and shows it; call on the Fyne goroutine.
func (rw *activityWindow) refresh() {
	if !rw.loading.CompareAndSwap(false, true) {
		rw.again.Store(true) // this read may predate an edit: read once more after it
		return
	}
	var filter *app.RequestFilter // read here: the widgets belong to the Fyne goroutine
	if rf := rw.filters; rf != nil {
		f := rf.filter(requestPageSize)
		filter = &f
	}
	ov := rw.overview
	if ov != nil && !ov.wanted(rw) {
		ov = nil
	}
	rw.jobs.Add(1)
	go func() {
		defer rw.jobs.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		act, err := rw.fetch(ctx, requestsShown)
		var over app.Overview
		var overErr error
		if ov != nil {
			over, overErr = ov.svc.Overview(ctx)
		}
		if filter != nil && err == nil {
			act.Requests, err = rw.filters.svc.Requests(ctx, *filter)
		}
		cancel()
		var file routeFile
		if re := rw.redit; re != nil {
			file = re.read()
		}
		var secrets *secretsRead
		if kt := rw.keys; kt != nil && kt.stale.Swap(false) {
			r := kt.read()
			secrets = &r
		}
		onUI(func() {
			rw.loading.Store(false)
			if rw.again.Swap(false) && rw.visible {
				defer rw.refresh()
			}
			if !rw.closed.Load() {
				if rw.redit != nil {
					rw.redit.file = file
				}
				rw.showActivity(act, err)
				if rf := rw.filters; rf != nil && err == nil {
					if rf.active() {
						rw.summary.SetText(rw.summary.Text + filteredNote(len(act.Requests)))
					}
					rf.showPage(len(act.Requests))
				}
				if rw.filters != nil {
					rw.filters.offerModels(rw.models())
				}
				if secrets != nil {
					rw.keys.show(*secrets)
				}
				if ov != nil {
					ov.show(over, overErr)
				}
				if re := rw.redit; re != nil && re.afterReload != nil {
					f := re.afterReload
					re.afterReload = nil
					f()
				}
			}
		})
	}()
}

// showActivity puts a read's result on screen; call on the Fyne goroutine.
func (rw *activityWindow) showActivity(act app.Activity, err error) {
	if err != nil {
		rw.summary.SetText("Could not read the spend log: " + err.Error())
		return
	}
	now := rw.now()
	rw.rows, rw.reqs = nil, act.Requests
	ids := make([]string, 0, len(act.Requests))
	for _, r := range act.Requests {
		c := requestCells(r, now)
		rw.rows = append(rw.rows, c[:])
		ids = append(ids, r.ID)
	}
	rw.table.setRows(rw.rows, ids)
	rw.brows, rw.bdata = nil, act.Budgets
	tokens := make([]string, 0, len(act.Budgets))
	for _, b := range act.Budgets {
		c := budgetCells(b, now)
		rw.brows = append(rw.brows, c[:])
		tokens = append(tokens, budgetKey(b))
	}
	rw.budgets.setRows(rw.brows, tokens)
	rw.lastRoutes = act.Routes
	rw.showRoutes()
	rw.summary.SetText(activitySummary(act))
}

// activitySummary is the line above the table.
func activitySummary(a app.Activity) string {
	if a.Month.Requests == 0 && len(a.Requests) == 0 {
		return "No requests yet. Point a client at the gateway and they show here."
	}
	return fmt.Sprintf("Today: %s in %s   ·   This month: %s in %s",
		usd(a.Today.Spend), plural(a.Today.Requests, "request"), usd(a.Month.Spend), plural(a.Month.Requests, "request"))
}

// requestCells is one table row, in requestColumns' order.
func requestCells(r app.Request, now time.Time) [len(requestColumns)]string {
	when := r.Start.Local().Format("15:04:05")
	if y, m, d := r.Start.Local().Date(); y != now.Year() || m != now.Month() || d != now.Day() {
		when = r.Start.Local().Format("Jan 2 15:04")
	}
	model := r.Model
	if r.Upstream != "" && r.Upstream != r.Model {
		model += " → " + r.Upstream
	}
	cost := usd(r.Cost)
	if r.Unpriced && r.Cost == 0 {
		cost = "no price"
	}
	result := "ok"
	if r.Stream {
		result = "ok, streamed"
	}
	if !r.OK {
		result = "failed"
		if r.Error != "" {
			result += ": " + r.Error
		}
	}
	return [len(requestColumns)]string{when, model, r.Provider,
		strconv.FormatInt(r.PromptTokens, 10) + " / " + strconv.FormatInt(r.CompletionTokens, 10),
		cost, took(r.Duration), truncate(result)}
}

// budgetColumns are the Budgets tab's headings; budgetCells fills a row in this order.
var budgetColumns = [...]string{"Budget", "Spent", "Limit", "Used", "Resets", "State"}

var budgetStretch = []bool{true, false, false, false, false, true}

// budgetKey is what the Budgets table's selection follows: the key's hash, or the proxy budget.
func budgetKey(b app.Budget) string {
	if b.Global {
		return "proxy budget"
	}
	return "key " + b.Token
}

// budgetCells is one Budgets row, in budgetColumns' order.
func budgetCells(b app.Budget, now time.Time) [len(budgetColumns)]string {
	limit, used := "none", "–"
	if b.MaxBudget != nil {
		limit = usd(*b.MaxBudget)
		if *b.MaxBudget > 0 {
			used = strconv.Itoa(int(100*b.Spend / *b.MaxBudget)) + "%"
		}
	}
	resets := "never"
	if b.ResetAt != nil {
		resets = b.ResetAt.Local().Format("Jan 2 15:04")
		switch b.Duration {
		case "":
		case "daily", "weekly", "monthly", "yearly":
			resets += " (" + b.Duration + ")"
		default:
			resets += " (every " + b.Duration + ")"
		}
	}
	state := string(b.State(now))
	if state == "soft" && b.SoftBudget != nil {
		state = "past its soft budget " + usd(*b.SoftBudget)
	}
	name := b.Name
	if b.Global {
		name += " (proxy budget)"
	}
	return [len(budgetColumns)]string{name, usd(b.Spend), limit, used, resets, state}
}

// routeColumns are the Routes tab's headings; routeCells fills a row in this order.
var routeColumns = [...]string{"Model", "Provider", "Upstream model", "API base", "Per 1M in / out", "Context", "Health"}

var routeStretch = []bool{true, false, true, true, false, false, false}

// routeCells is one Routes row, in routeColumns' order.
func routeCells(r app.RouteState, now time.Time) [len(routeColumns)]string {
	price := "no price"
	if r.InputPerMTok != nil || r.OutputPerMTok != nil {
		price = perM(r.InputPerMTok) + " / " + perM(r.OutputPerMTok)
	}
	context := "–"
	if r.ContextWindow > 0 {
		context = strconv.Itoa(r.ContextWindow/1000) + "k"
	}
	health := "ok"
	switch {
	case !r.CoolingUntil.IsZero() && r.CoolingUntil.After(now):
		health = "cooling down until " + r.CoolingUntil.Local().Format("15:04:05")
	case r.RecentFailures == 1:
		health = "1 failure in the last minute"
	case r.RecentFailures > 1:
		health = strconv.Itoa(r.RecentFailures) + " failures in the last minute"
	}
	return [len(routeColumns)]string{r.Name, r.Provider, r.Model, r.APIBase, price, context, health}
}

func perM(v *float64) string {
	if v == nil {
		return "?"
	}
	return "$" + strconv.FormatFloat(*v, 'f', -1, 64)
}

// requestDetail is one request in full, for the line under the table.
func requestDetail(r app.Request) string {
	d := r.Start.Local().Format("2006-01-02 15:04:05") + "  " + r.Model
	if r.Upstream != "" && r.Upstream != r.Model {
		d += " → " + r.Upstream
	}
	if r.Provider != "" {
		d += " via " + r.Provider
	}
	if r.Key != "" {
		d += ", key " + r.Key
	}
	c := requestCells(r, r.Start)
	d += fmt.Sprintf("  ·  %s tokens  ·  %s  ·  %s  ·  ", c[3], c[4], c[5])
	if r.OK {
		return d + c[6]
	}
	return d + "failed: " + r.Error
}

// usd prints an amount with the precision small model costs need.
func usd(v float64) string {
	switch {
	case v == 0:
		return "$0"
	case v < 0.01:
		return fmt.Sprintf("$%.6f", v)
	case v < 100:
		return fmt.Sprintf("$%.4f", v)
	}
	return fmt.Sprintf("$%.2f", v)
}

func took(d time.Duration) string {
	if d < time.Second {
		return strconv.FormatInt(d.Milliseconds(), 10) + " ms"
	}
	return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + " s"
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}
