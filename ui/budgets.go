package ui

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"

	"github.com/clawgate/clawgate/app"
)

// budgetPeriods are the resets the Set limit form offers; "never" removes the reset.
var budgetPeriods = []string{"never", "daily", "weekly", "monthly", "30d"}

// budgetEditor is the row of buttons under the Budgets table: they act on the selected key.
type budgetEditor struct {
	rw       *activityWindow
	edit     func(context.Context, string, app.KeyEdit) error
	token    string // the selected key's hash; "" when no key (or the proxy budget) is selected
	name     string
	block    *widget.Button
	unblock  *widget.Button
	setLimit *widget.Button
	status   *widget.Label

	// keys, when the service manages keys (see keys.go), makes, edits, regenerates and deletes
	// them, and sets the proxy budget; global is whether the proxy budget's row is selected.
	keys                        keyService
	global                      bool
	newKey, editKey, regen, del *widget.Button
	proxy                       *widget.Button // Proxy budget…
	shown                       *secretDialog  // the last key shown once (tests read it)
	keyForm                     *keyForm       // the last key form opened
}

func (rw *activityWindow) newBudgetEditor(edit func(context.Context, string, app.KeyEdit) error) fyne.CanvasObject {
	be := &rw.bedit
	be.rw, be.edit = rw, edit
	yes, no := true, false
	be.block = widget.NewButton("Block", func() { be.apply("blocked", app.KeyEdit{Blocked: &yes}) })
	be.unblock = widget.NewButton("Unblock", func() { be.apply("unblocked", app.KeyEdit{Blocked: &no}) })
	be.setLimit = widget.NewButton("Set limit…", be.showLimitForm)
	be.status = widget.NewLabel("Select a key to change its limit or block it.")
	be.status.Truncation = fyne.TextTruncateEllipsis
	be.newKeyButtons()
	rw.budgets.onSelect = be.selectRow
	be.selectRow(-1)
	return container.NewPadded(container.NewVBox(be.status,
		container.NewHBox(be.newKey, be.proxy, layout.NewSpacer(), be.editKey, be.regen, be.del, be.block, be.unblock, be.setLimit)))
}

// selectRow makes row the target of the buttons; the proxy budget is set in config.yaml instead.
func (be *budgetEditor) selectRow(row int) {
	prev := be.token
	be.token, be.name, be.global = "", "", false
	defer be.keyButtons()
	if row >= 0 && row < len(be.rw.bdata) && !be.rw.bdata[row].Global {
		b := be.rw.bdata[row]
		be.token, be.name = b.Token, b.Name
		if b.Token != prev { // a refresh keeps what the last edit said
			be.status.SetText(b.Name + ": " + string(b.State(time.Now())))
		}
		be.block.Disable()
		be.unblock.Disable()
		if b.Blocked {
			be.unblock.Enable()
		} else {
			be.block.Enable()
		}
		be.setLimit.Enable()
		return
	}
	be.block.Disable()
	be.unblock.Disable()
	be.setLimit.Disable()
	if row >= 0 && row < len(be.rw.bdata) {
		be.global = true
		if be.keys == nil {
			be.status.SetText("The proxy budget is litellm_settings.max_budget in config.yaml.")
			return
		}
		be.status.SetText("The proxy budget caps all requests; it is kept in config.yaml.")
		be.setLimit.Enable()
	}
}

// apply runs an edit off the Fyne goroutine, then says how it went and re-reads the budgets.
func (be *budgetEditor) apply(done string, ed app.KeyEdit) {
	token, name := be.token, be.name
	if token == "" {
		return
	}
	be.status.SetText("Saving…")
	var err error
	be.run(func(ctx context.Context) { err = be.edit(ctx, token, ed) }, func() {
		if err != nil {
			be.status.SetText("Not saved: " + err.Error())
			return
		}
		be.status.SetText(name + " " + done + ".")
		be.rw.refresh()
	})
}

// showLimitForm asks for a limit in USD and a reset period for the selected key.
func (be *budgetEditor) showLimitForm() {
	if be.global && be.keys != nil {
		be.showProxyBudgetForm()
		return
	}
	if be.token == "" {
		return
	}
	limit := widget.NewEntry()
	limit.SetPlaceHolder("e.g. 10")
	limit.Validator = func(s string) error {
		if _, err := parseUSD(s); err != nil {
			return err
		}
		return nil
	}
	period := widget.NewSelect(budgetPeriods, nil)
	period.SetSelected("monthly")
	for _, b := range be.rw.bdata {
		if b.Token == be.token && b.MaxBudget != nil {
			limit.SetText(strconv.FormatFloat(*b.MaxBudget, 'f', -1, 64))
			p := periodOf(b.Duration)
			if !slices.Contains(period.Options, p) {
				period.Options = append(period.Options, p) // a period set through the API ("14d")
			}
			period.SetSelected(p)
		}
	}
	items := []*widget.FormItem{
		widget.NewFormItem("Limit (USD)", limit),
		widget.NewFormItem("Resets", period),
	}
	showForm("Budget for "+be.name, items, func(ok bool) {
		if !ok {
			return
		}
		v, err := parseUSD(limit.Text)
		if err != nil {
			be.status.SetText("Not saved: " + err.Error())
			return
		}
		d := period.Selected
		if d == "never" {
			d = ""
		}
		be.apply("limit saved", app.KeyEdit{MaxBudget: &v, BudgetDuration: &d})
	}, be.rw.w)
}

func parseUSD(s string) (float64, error) {
	v, err := strconv.ParseFloat(strings.TrimPrefix(strings.TrimSpace(s), "$"), 64)
	if err != nil || v < 0 {
		return 0, errors.New("a limit is an amount in USD, like 10 or 2.50")
	}
	return v, nil
}

// periodOf is a key's budget_duration as the form shows it ("never" when it has none).
func periodOf(d string) string {
	if d == "" {
		return "never"
	}
	return d
}
