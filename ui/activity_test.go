package ui

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/clawgate/clawgate/app"
)

var now = time.Date(2026, 11, 23, 15, 30, 0, 0, time.Local)

func TestRequestCells(t *testing.T) {
	tests := []struct {
		name string
		r    app.Request
		want [len(requestColumns)]string
	}{
		{"streamed, priced, today",
			app.Request{Start: now.Add(-time.Minute), Model: "claude", Upstream: "claude-sonnet-4-5", Provider: "anthropic", Stream: true,
				PromptTokens: 1200, CompletionTokens: 340, Cost: 0.00867, Duration: 2345 * time.Millisecond, OK: true},
			[7]string{"15:29:00", "claude → claude-sonnet-4-5", "anthropic", "1200 / 340", "$0.008670", "2.3 s", "ok, streamed"}},
		{"same names, yesterday, a dollar",
			app.Request{Start: now.Add(-24 * time.Hour), Model: "gpt-4o", Upstream: "gpt-4o", Provider: "openai",
				PromptTokens: 90000, CompletionTokens: 8000, Cost: 1.305, Duration: 840 * time.Millisecond, OK: true},
			[7]string{"Nov 22 15:30", "gpt-4o", "openai", "90000 / 8000", "$1.3050", "840 ms", "ok"}},
		{"failed, unpriced",
			app.Request{Start: now, Model: "local", Provider: "ollama", Unpriced: true, Duration: 3 * time.Millisecond,
				Error: "upstream connection failed (sending request): dial tcp 127.0.0.1:11434: connect: connection refused"},
			[7]string{"15:30:00", "local", "ollama", "0 / 0", "no price", "3 ms",
				truncate("failed: upstream connection failed (sending request): dial tcp 127.0.0.1:11434: connect: connection refused")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := requestCells(tt.r, now); got != tt.want {
				t.Errorf("cells\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

func TestActivitySummary(t *testing.T) {
	if got := activitySummary(app.Activity{}); !strings.HasPrefix(got, "No requests yet") {
		t.Errorf("empty: %q", got)
	}
	got := activitySummary(app.Activity{Today: app.Tally{Spend: 0.0042, Requests: 1}, Month: app.Tally{Spend: 12.5, Requests: 340}})
	if got != "Today: $0.004200 in 1 request   ·   This month: $12.5000 in 340 requests" {
		t.Errorf("summary %q", got)
	}
}

func TestBudgetCells(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	reset := now.Add(48 * time.Hour)
	tests := []struct {
		name string
		b    app.Budget
		want [len(budgetColumns)]string
	}{
		{"proxy budget, monthly", app.Budget{Name: "All requests", Global: true, Spend: 4.87, MaxBudget: f(20), Duration: "monthly", ResetAt: &reset},
			[6]string{"All requests (proxy budget)", "$4.8700", "$20.0000", "24%", reset.Format("Jan 2 15:04") + " (monthly)", "ok"}},
		{"no limit", app.Budget{Name: "sk-...abcd", Spend: 0.004},
			[6]string{"sk-...abcd", "$0.004000", "none", "–", "never", "ok"}},
		{"over", app.Budget{Name: "openclaw", Spend: 1.02, MaxBudget: f(1)},
			[6]string{"openclaw", "$1.0200", "$1.0000", "102%", "never", "refusing"}},
		// Refusal starts below 100% when requests in flight hold the rest: the gate's own rule.
		{"refusing below 100%", app.Budget{Name: "openclaw", Spend: 0.95, Reserved: 0.05, MaxBudget: f(1)},
			[6]string{"openclaw", "$0.9500", "$1.0000", "95%", "never", "refusing"}},
		{"over 80%", app.Budget{Name: "openclaw", Spend: 0.85, Reserved: 0.1, MaxBudget: f(1), SoftBudget: f(0.5)},
			[6]string{"openclaw", "$0.8500", "$1.0000", "85%", "never", "over 80%"}},
		{"soft", app.Budget{Name: "ci", Spend: 0.6, MaxBudget: f(1), SoftBudget: f(0.5)},
			[6]string{"ci", "$0.6000", "$1.0000", "60%", "never", "past its soft budget $0.5000"}},
		{"blocked wins", app.Budget{Name: "old", Spend: 2, MaxBudget: f(1), Blocked: true},
			[6]string{"old", "$2.0000", "$1.0000", "200%", "never", "blocked"}},
		{"expired", app.Budget{Name: "tmp", Expires: &now},
			[6]string{"tmp", "$0", "none", "–", "never", "expired"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := budgetCells(tt.b, now); got != tt.want {
				t.Errorf("cells\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

func TestRouteCells(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	tests := []struct {
		name string
		r    app.RouteState
		want [len(routeColumns)]string
	}{
		{"priced, healthy", app.RouteState{Name: "claude", Provider: "anthropic", Model: "claude-sonnet-4-5", APIBase: "https://api.anthropic.com",
			InputPerMTok: f(3), OutputPerMTok: f(15), ContextWindow: 200000},
			[7]string{"claude", "anthropic", "claude-sonnet-4-5", "https://api.anthropic.com", "$3 / $15", "200k", "ok"}},
		{"cooling", app.RouteState{Name: "mini", Provider: "openai", Model: "gpt-4o-mini", InputPerMTok: f(0.15), OutputPerMTok: f(0.6),
			RecentFailures: 3, CoolingUntil: now.Add(30 * time.Second)},
			[7]string{"mini", "openai", "gpt-4o-mini", "", "$0.15 / $0.6", "–", "cooling down until " + now.Add(30*time.Second).Format("15:04:05")}},
		{"failing, cooldown over, input price only", app.RouteState{Name: "house", Provider: "openai", Model: "m", InputPerMTok: f(2),
			RecentFailures: 1, CoolingUntil: now.Add(-time.Second)},
			[7]string{"house", "openai", "m", "", "$2 / ?", "–", "1 failure in the last minute"}},
		{"wildcard", app.RouteState{Name: "anthropic/*", Provider: "anthropic", Model: "*", RecentFailures: 2},
			[7]string{"anthropic/*", "anthropic", "*", "", "no price", "–", "2 failures in the last minute"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := routeCells(tt.r, now); got != tt.want {
				t.Errorf("cells\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

// sampleActivity is what a day of agent use looks like in the window.
func sampleActivity() app.Activity {
	f := func(v float64) *float64 { return &v }
	reset := time.Date(2026, 12, 1, 0, 0, 0, 0, time.Local)
	return app.Activity{
		Budgets: []app.Budget{
			{Name: "All requests", Global: true, Spend: 4.87, MaxBudget: f(20), Duration: "monthly", ResetAt: &reset},
			{Name: "openclaw", Token: "tok-openclaw", Spend: 4.61, MaxBudget: f(5), SoftBudget: f(4), Duration: "30d", ResetAt: &reset},
			{Name: "sk-...9f2c", Token: "tok-9f2c", Spend: 0.26, Blocked: true},
		},
		Routes: []app.RouteState{
			{Name: "claude", Provider: "anthropic", Model: "claude-sonnet-4-5", APIBase: "https://api.anthropic.com",
				InputPerMTok: f(3), OutputPerMTok: f(15), ContextWindow: 200000},
			{Name: "gpt-4o-mini", Provider: "openai", Model: "gpt-4o-mini", APIBase: "https://api.openai.com/v1",
				InputPerMTok: f(0.15), OutputPerMTok: f(0.6), ContextWindow: 128000, RecentFailures: 1},
			{Name: "local", Provider: "ollama", Model: "llama3.1", APIBase: "http://localhost:11434/v1",
				RecentFailures: 3, CoolingUntil: time.Now().Add(40 * time.Second)},
		},
		Today: app.Tally{Spend: 0.0512, Requests: 3}, Month: app.Tally{Spend: 4.87, Requests: 412},
		Requests: []app.Request{
			{ID: "req-claude", Start: time.Now().Add(-20 * time.Second), Model: "claude", Upstream: "claude-sonnet-4-5", Provider: "anthropic", Stream: true,
				PromptTokens: 15320, CompletionTokens: 612, Cost: 0.05514, Duration: 4200 * time.Millisecond, OK: true},
			{ID: "req-mini", Start: time.Now().Add(-2 * time.Minute), Model: "gpt-4o-mini", Upstream: "gpt-4o-mini", Provider: "openai", Stream: true,
				PromptTokens: 800, CompletionTokens: 95, Cost: 0.000177, Duration: 910 * time.Millisecond, OK: true},
			{ID: "req-local", Start: time.Now().Add(-5 * time.Minute), Model: "local", Upstream: "llama3.1", Provider: "ollama", Unpriced: true,
				Duration: 2 * time.Millisecond, Error: "upstream connection failed: connection refused"},
		},
	}
}

func TestRequestsWindow(t *testing.T) {
	a := test.NewTempApp(t)
	uiQueue(t)
	svc := newFakeService(running)
	svc.activity = sampleActivity()
	tray := newFakeTray()
	g := newGUI(a, tray, svc, Options{})
	settle(t, g)
	g.start()
	defer g.stop()

	// The tray's Requests… item opens the window, which reads the log off the Fyne goroutine.
	menu := receive(t, tray.menus, "tray menu")
	menuItem(t, menu, "Requests…").Action()
	waitFor(t, "the requests to show", func() bool { return len(g.activityWin().rows) == 3 })
	if !g.activityWin().visible {
		t.Fatal("the window is not visible")
	}
	if s := g.activityWin().summary.Text; s != "Today: $0.0512 in 3 requests   ·   This month: $4.8700 in 412 requests" {
		t.Errorf("summary %q", s)
	}
	if r := g.activityWin().rows[0]; r[1] != "claude → claude-sonnet-4-5" || r[3] != "15320 / 612" || r[6] != "ok, streamed" {
		t.Errorf("first row %q", r)
	}
	if r := g.activityWin().rows[2]; r[4] != "no price" || !strings.HasPrefix(r[6], "failed: upstream connection failed") {
		t.Errorf("failed row %q", r)
	}
	// The headings (the cells are drawn from rows; capture shows them).
	got := strings.Join(labels(g.activityWin().w.Content()), "|")
	for _, want := range requestColumns {
		if !strings.Contains(got, want) {
			t.Errorf("the window lacks %q; labels: %s", want, got)
		}
	}
	// Selecting a row shows it in full, the error the cell cuts included.
	g.activityWin().table.table.Select(widget.TableCellID{Row: 2, Col: 1})
	if d := g.activityWin().detail.Text; !strings.Contains(d, "local → llama3.1 via ollama") || !strings.HasSuffix(d, "failed: upstream connection failed: connection refused") {
		t.Errorf("detail %q", d)
	}
	capture(t, g.activityWin(), "requests-window.png")

	// The Budgets tab, from the same read; the tray's Budgets… item opens the window on it.
	if len(g.activityWin().brows) != 3 || g.activityWin().brows[1][5] != "over 80%" {
		t.Errorf("budget rows %q", g.activityWin().brows)
	}
	menuItem(t, menu, "Budgets…").Action()
	if g.activityWin().tabs.SelectedIndex() != tabBudgets {
		t.Errorf("tab %d after Budgets…", g.activityWin().tabs.SelectedIndex())
	}
	capture(t, g.activityWin(), "budgets-window.png")
	menuItem(t, menu, "Routes…").Action()
	if g.activityWin().tabs.SelectedIndex() != tabRoutes || len(g.activityWin().rrows) != 3 || !strings.HasPrefix(g.activityWin().rrows[2][6], "cooling down until") {
		t.Errorf("routes tab %d, rows %q", g.activityWin().tabs.SelectedIndex(), g.activityWin().rrows)
	}
	capture(t, g.activityWin(), "routes-window.png")

	// A later read replaces the rows; an error says so and keeps them.
	svc.mu.Lock()
	svc.activity.Requests = svc.activity.Requests[:1]
	svc.mu.Unlock()
	g.activityWin().refresh()
	waitFor(t, "the refreshed rows", func() bool { return len(g.activityWin().rows) == 1 })
	svc.mu.Lock()
	svc.activityErr = errors.New("database is locked")
	svc.mu.Unlock()
	g.activityWin().refresh()
	waitFor(t, "the error", func() bool { return strings.Contains(g.activityWin().summary.Text, "database is locked") })
	if len(g.activityWin().rows) != 1 {
		t.Errorf("rows after a failed read: %d", len(g.activityWin().rows))
	}

	// Closing hides it and stops the reads: a read already under way may end, none starts after.
	g.activityWin().hide()
	g.activityWin().jobs.Wait()
	pump()
	svc.mu.Lock()
	reads := svc.reads
	svc.mu.Unlock()
	time.Sleep(requestsEvery + 500*time.Millisecond)
	svc.mu.Lock()
	defer svc.mu.Unlock()
	if svc.reads != reads {
		t.Errorf("%d reads after the window closed", svc.reads-reads)
	}
}

func TestRequestsWindowEmpty(t *testing.T) {
	a := test.NewTempApp(t)
	uiQueue(t)
	g := newGUI(a, newFakeTray(), newFakeService(running), Options{})
	settle(t, g)
	g.activityWin().show(tabRequests)
	defer g.activityWin().hide()
	waitFor(t, "the empty state", func() bool { return strings.HasPrefix(g.activityWin().summary.Text, "No requests yet") })
}

// uiQueue makes the test goroutine the Fyne goroutine: what the package hands to onUI is queued
// and run by waitFor (and pump), between the test's own reads of the widgets. Without it fyne/test
// would run those callbacks inline on the background goroutines that send them, racing the test.
func uiQueue(t *testing.T) {
	t.Helper()
	q := make(chan func(), 1024)
	prev := onUI
	onUI = func(f func()) { q <- f }
	uiPending = q
	t.Cleanup(func() {
		onUI, uiPending = prev, nil
		for { // what is still queued runs now, as Fyne would have run it
			select {
			case f := <-q:
				f()
			default:
				return
			}
		}
	})
}

// settle ends the gui's background work when the test ends, before uiQueue's cleanup puts onUI
// back (a goroutine left running would read onUI while the next test swaps it): the windows are
// hidden, the app marked as stopping so late callbacks do nothing, and every goroutine the windows
// started is waited for. Call it after uiQueue.
func settle(t *testing.T, g *gui) {
	t.Cleanup(func() {
		if g.reqs == nil { // never built: nothing of it runs
			g.stopped.Store(true)
			return
		}
		g.reqs.hide()
		g.stopped.Store(true)
		g.reqs.jobs.Wait()
	})
}

// uiPending is the queue uiQueue installed; nil when callbacks run inline.
var uiPending chan func()

// pump runs what is queued for the Fyne goroutine, if a queue is installed.
func pump() {
	for {
		select {
		case f := <-uiPending:
			f()
		default:
			return
		}
	}
}

// waitFor runs queued UI callbacks and checks cond until it holds, both on the test goroutine.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for pump(); !cond(); pump() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		if uiPending == nil {
			time.Sleep(10 * time.Millisecond)
			continue
		}
		select {
		case f := <-uiPending:
			f()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// capture writes the window as the test driver renders it (see shotsDir).
func capture(t *testing.T, rw *activityWindow, name string) {
	t.Helper()
	writePNG(t, rw.w, filepath.Join(shotsDir(t), name))
}

func TestBudgetEditing(t *testing.T) {
	_, svc, g := openActivity(t, sampleActivity(), tabBudgets)
	be := &g.activityWin().bedit

	// The proxy budget is config.yaml's: nothing to press.
	g.activityWin().budgets.table.Select(widget.TableCellID{Row: 0, Col: 0})
	if !be.block.Disabled() || !be.setLimit.Disabled() || !strings.Contains(be.status.Text, "config.yaml") {
		t.Errorf("proxy budget selected: block disabled %v, status %q", be.block.Disabled(), be.status.Text)
	}
	// A key that is not blocked can be blocked, not unblocked.
	g.activityWin().budgets.table.Select(widget.TableCellID{Row: 1, Col: 0})
	if be.block.Disabled() || !be.unblock.Disabled() || be.setLimit.Disabled() {
		t.Fatalf("openclaw selected: block %v unblock %v", be.block.Disabled(), be.unblock.Disabled())
	}
	test.Tap(be.block)
	waitFor(t, "the block", func() bool { return be.status.Text == "openclaw blocked." })
	// The blocked one the other way round.
	g.activityWin().budgets.table.Select(widget.TableCellID{Row: 2, Col: 0})
	if !be.block.Disabled() || be.unblock.Disabled() {
		t.Errorf("blocked key selected: block %v unblock %v", be.block.Disabled(), be.unblock.Disabled())
	}
	test.Tap(be.unblock)
	waitFor(t, "the unblock", func() bool { return be.status.Text == "sk-...9f2c unblocked." })

	// Set limit… opens a form with the key's limit and period; Save sends the new ones.
	g.activityWin().budgets.table.Select(widget.TableCellID{Row: 1, Col: 0})
	test.Tap(be.setLimit)
	overlay := g.activityWin().w.Canvas().Overlays().Top()
	if overlay == nil {
		t.Fatal("no form")
	}
	var entry *widget.Entry
	var period *widget.Select
	var save *widget.Button
	for _, o := range test.LaidOutObjects(overlay) {
		switch w := o.(type) {
		case *widget.Entry:
			entry = w
		case *widget.Select:
			period = w
		case *widget.Button:
			if w.Text == "Save" {
				save = w
			}
		}
	}
	if entry == nil || period == nil || save == nil || entry.Text != "5" || period.Selected != "30d" {
		t.Fatalf("form: entry %v period %v save %v", entry, period, save)
	}
	capture(t, g.activityWin(), "budget-form.png")
	entry.SetText("12.50")
	period.SetSelected("monthly")
	test.Tap(save)
	waitFor(t, "the limit", func() bool { return be.status.Text == "openclaw limit saved." })

	// A failed edit says so.
	svc.mu.Lock()
	svc.err = errors.New("Invalid budget_duration")
	svc.mu.Unlock()
	test.Tap(be.block)
	waitFor(t, "the error", func() bool { return strings.HasPrefix(be.status.Text, "Not saved: Invalid budget_duration") })

	want := []string{"edit tok-openclaw blocked=true", "edit tok-9f2c blocked=false", `edit tok-openclaw max=12.5 every="monthly"`, "edit tok-openclaw blocked=true"}
	if got := svc.called(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("calls\n%q\nwant\n%q", got, want)
	}
}

func TestParseUSD(t *testing.T) {
	for in, want := range map[string]float64{"10": 10, " $2.50 ": 2.5, "0": 0} {
		if got, err := parseUSD(in); err != nil || got != want {
			t.Errorf("parseUSD(%q) = %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "-1", "ten", "$"} {
		if _, err := parseUSD(in); err == nil {
			t.Errorf("parseUSD(%q) accepted", in)
		}
	}
}
