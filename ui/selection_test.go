package ui

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/clawgate/clawgate/app"
)

// highlighted is the row the table draws as selected, -1 for none. Fyne keeps it unexported (the
// renderer moves its marker there), so the test reads it by reflection: what the user sees is the
// point, not what the window believes it selected.
func highlighted(tb *widget.Table) int {
	v := reflect.ValueOf(tb).Elem().FieldByName("selectedCell")
	if v.IsNil() {
		return -1
	}
	return int(v.Elem().FieldByName("Row").Int())
}

// A read that brings a new row at the top keeps the highlight, the detail and the buttons on the
// item the user picked: the request by its id, the key by its hash.
func TestSelectionFollowsItem(t *testing.T) {
	act := sampleActivity()
	proxyBudget, keys := act.Budgets[0], act.Budgets[1:]
	act.Budgets = keys // no proxy budget yet
	_, svc, g := openActivity(t, act, tabRequests)

	g.activityWin().table.table.Select(widget.TableCellID{Row: 1, Col: 2})   // gpt-4o-mini
	g.activityWin().budgets.table.Select(widget.TableCellID{Row: 0, Col: 0}) // openclaw

	// A new request arrives and the proxy budget is configured: both lists gain a first row.
	svc.mu.Lock()
	newest := app.Request{ID: "req-new", Start: time.Now(), Model: "claude", Upstream: "claude-haiku-4-5", Provider: "anthropic", OK: true}
	svc.activity.Requests = append([]app.Request{newest}, svc.activity.Requests...)
	svc.activity.Budgets = append([]app.Budget{proxyBudget}, keys...)
	svc.mu.Unlock()
	g.activityWin().refresh()
	waitFor(t, "the new rows", func() bool { return len(g.activityWin().rows) == 4 && len(g.activityWin().brows) == 3 })

	if got := highlighted(g.activityWin().table.table); got != 2 {
		t.Errorf("requests: row %d highlighted, want 2 (gpt-4o-mini, now second)", got)
	}
	if d := g.activityWin().detail.Text; !strings.Contains(d, "gpt-4o-mini via openai") {
		t.Errorf("detail after the read: %q", d)
	}
	if got := highlighted(g.activityWin().budgets.table); got != 1 {
		t.Errorf("budgets: row %d highlighted, want 1 (openclaw, under the proxy budget)", got)
	}
	be := &g.activityWin().bedit
	if be.block.Disabled() || be.setLimit.Disabled() {
		t.Fatal("Block or Set limit disabled with a key highlighted")
	}
	test.Tap(be.block)
	waitFor(t, "the block", func() bool { return be.status.Text == "openclaw blocked." })
	if got := svc.called(); len(got) != 1 || got[0] != "edit tok-openclaw blocked=true" {
		t.Errorf("calls %q, want the highlighted key blocked", got)
	}

	// The selected request leaves the list (older than the window holds): nothing stays selected.
	svc.mu.Lock()
	svc.activity.Requests = svc.activity.Requests[:1]
	svc.mu.Unlock()
	g.activityWin().refresh()
	waitFor(t, "the shorter list", func() bool { return len(g.activityWin().rows) == 1 })
	if got := highlighted(g.activityWin().table.table); got != -1 {
		t.Errorf("row %d highlighted after the request left the list", got)
	}
	if g.activityWin().detail.Text != noRequestSelected {
		t.Errorf("detail %q after the request left the list", g.activityWin().detail.Text)
	}
}
