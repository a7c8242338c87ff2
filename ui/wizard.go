package ui

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/clawgate/clawgate/app"
)

// wizardService is what the first-run wizard calls (*app.App implements it); every call reaches the
// disk, the keychain or the network, so the wizard makes them off the Fyne goroutine.
type wizardService interface {
	Routes() ([]app.RouteSpec, app.ConfigVersion, error)
	SaveRoute(ver app.ConfigVersion, index int, r app.RouteSpec, secret string) (app.ConfigVersion, error)
	TestRoute(ctx context.Context, r app.RouteSpec, secret string) app.RouteTest
	OpenClawPreview(ctx context.Context) (path string, diff []string, err error)
	ConnectOpenClaw() error
	SetOpenClawBudget(ctx context.Context, usd float64) error
}

// Wizard steps.
const (
	stepProvider = iota
	stepOpenClaw
	stepBudget
	stepDone
)

// wizardWindow is the first run as four short steps: a provider and its key (tested, then added as
// a route with the key in the keychain), OpenClaw connected after showing the exact lines that
// change in its file, a monthly budget for OpenClaw's key, done. Every step can be skipped; the
// tray's "Setup wizard…" opens it again.
type wizardWindow struct {
	g       *gui
	svc     wizardService
	w       fyne.Window
	visible bool
	step    int

	title, note *widget.Label
	body        *fyne.Container
	next, skip  *widget.Button

	preset         *widget.Select
	model, key     *widget.Entry
	base           *widget.Entry
	tested         bool // the typed provider answered
	diff           *widget.Label
	diffPath       string
	diffLines      []string
	diffErr        error
	budget         *widget.Entry
	busy           bool
	stepsContent   []fyne.CanvasObject
	presetsByLabel map[string]string
}

func newWizardWindow(g *gui, svc wizardService) *wizardWindow {
	ww := &wizardWindow{g: g, svc: svc, w: g.a.NewWindow("Clawgate: set up"), presetsByLabel: map[string]string{}}
	ww.title = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	ww.note = widget.NewLabel("")
	ww.note.Wrapping = fyne.TextWrapWord
	var labels []string
	for _, p := range app.Presets {
		if p.NoKey || p.Region || p.Project || p.APIVersion {
			continue // the wizard asks for a key only; the Routes form has the rest
		}
		labels = append(labels, p.Label)
		ww.presetsByLabel[p.Label] = p.ID
	}
	ww.base = widget.NewEntry()
	ww.base.OnChanged = func(string) { ww.typed() }
	ww.preset = widget.NewSelect(labels, func(label string) {
		p, _ := app.PresetByID(ww.presetsByLabel[label])
		ww.base.SetText(p.APIBase)
		ww.typed()
	})
	ww.model = widget.NewEntry()
	ww.model.OnChanged = func(string) { ww.typed() }
	ww.key = widget.NewPasswordEntry()
	ww.key.SetPlaceHolder("paste the provider's API key")
	ww.key.OnChanged = func(string) { ww.typed() }
	ww.diff = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})
	ww.budget = widget.NewEntry()
	ww.budget.SetPlaceHolder("e.g. 20")
	ww.budget.OnChanged = func(string) { ww.typed() }
	ww.stepsContent = []fyne.CanvasObject{
		widget.NewForm(widget.NewFormItem("Provider", ww.preset), widget.NewFormItem("API base", ww.base),
			widget.NewFormItem("Model", ww.model), widget.NewFormItem("API key", ww.key)),
		container.NewVScroll(ww.diff),
		widget.NewForm(widget.NewFormItem("Monthly budget, USD", ww.budget)),
		widget.NewLabel(""),
	}
	ww.body = container.NewStack()
	ww.next = widget.NewButton("Next", ww.doNext)
	ww.next.Importance = widget.HighImportance
	ww.skip = widget.NewButton("Skip", func() { ww.goTo(ww.step + 1) })
	// The note is below the step's fields: a long one (an upstream's error) wraps over several lines
	// there without pushing the fields under the title.
	// Its room is fixed (four lines, scrolling beyond): a wrapped label is measured before its width
	// is known and would run under the buttons.
	noteBox := container.NewVScroll(ww.note)
	noteBox.SetMinSize(fyne.NewSize(0, 4*theme.TextSize()*1.6))
	ww.w.SetContent(container.NewPadded(container.NewBorder(ww.title,
		container.NewVBox(noteBox, container.NewHBox(layout.NewSpacer(), ww.skip, ww.next)), nil, nil, ww.body)))
	ww.w.Resize(fyne.NewSize(640, 480))
	ww.w.SetCloseIntercept(ww.hide)
	return ww
}

// say shows text in the note and lays the window out again (a wrapped label's height follows its
// text only then).
func (ww *wizardWindow) say(text string) {
	ww.note.SetText(text)
	ww.w.Content().Refresh()
}

func (ww *wizardWindow) show() {
	ww.visible = true
	ww.goTo(stepProvider)
	ww.w.Show()
	ww.w.RequestFocus()
}

func (ww *wizardWindow) hide() {
	ww.visible = false
	ww.w.Hide()
}

func (ww *wizardWindow) background(call func(), done func()) {
	ww.busy = true
	ww.next.Disable()
	ww.g.jobs.Add(1)
	go func() {
		defer ww.g.jobs.Done()
		call()
		onUI(func() {
			if !ww.g.stopped.Load() {
				ww.busy = false
				done()
			}
		})
	}()
}

// spec is the route the provider step adds: named after the model.
func (ww *wizardWindow) spec() app.RouteSpec {
	id := ww.presetsByLabel[ww.preset.Selected]
	m := strings.TrimSpace(ww.model.Text)
	return app.RouteSpec{Name: m, Preset: id, Model: m, APIBase: strings.TrimSpace(ww.base.Text), KeyRef: "keychain/" + id}
}

func (ww *wizardWindow) goTo(step int) {
	ww.step = step
	ww.body.Objects = []fyne.CanvasObject{ww.stepsContent[min(step, stepDone)]}
	ww.body.Refresh()
	ww.skip.Show()
	switch step {
	case stepProvider:
		ww.title.SetText("1 of 3 · Choose a provider and paste its key")
		ww.say("The key goes to your system keychain; config.yaml names it only. Test and add calls the provider once.")
		ww.next.SetText("Test and add")
		ww.tested = false
	case stepOpenClaw:
		ww.title.SetText("2 of 3 · Connect OpenClaw")
		ww.say("Reading OpenClaw's config…")
		ww.next.SetText("Connect")
		ww.diff.SetText("")
		ww.diffPath, ww.diffLines, ww.diffErr = "", nil, nil
		var path string
		var lines []string
		var err error
		ww.background(func() { path, lines, err = ww.svc.OpenClawPreview(context.Background()) }, func() {
			ww.diffPath, ww.diffLines, ww.diffErr = path, lines, err // set on the Fyne goroutine only
			ww.showPreview()
		})
	case stepBudget:
		ww.title.SetText("3 of 3 · A monthly budget for OpenClaw")
		ww.say("Requests from OpenClaw's key are refused once it has spent this much in a calendar month.")
		ww.next.SetText("Set budget")
	default:
		ww.title.SetText("Done")
		ww.say("Clawgate is set up. Routes, keys and settings are in the tray menu; Setup wizard… runs this again.")
		ww.next.SetText("Close")
		ww.skip.Hide()
	}
	ww.typed()
}

func (ww *wizardWindow) showPreview() {
	switch {
	case ww.diffErr != nil:
		ww.say("Cannot read OpenClaw's config: " + ww.diffErr.Error())
	case len(ww.diffLines) == 0:
		ww.say(ww.diffPath + " already points at this gateway: nothing to change.")
	default:
		ww.say("Connect changes exactly these lines in " + ww.diffPath + " (a backup is kept):")
		ww.diff.SetText(strings.Join(ww.diffLines, "\n"))
	}
	ww.typed()
}

// typed enables Next when the step's fields are valid.
func (ww *wizardWindow) typed() {
	ok := !ww.busy
	switch ww.step {
	case stepProvider:
		ok = ok && ww.preset.Selected != "" && strings.TrimSpace(ww.model.Text) != "" && strings.TrimSpace(ww.key.Text) != "" &&
			strings.TrimSpace(ww.base.Text) != ""
	case stepOpenClaw:
		ok = ok && ww.diffErr == nil && ww.diffPath != ""
	case stepBudget:
		v, err := strconv.ParseFloat(strings.TrimSpace(ww.budget.Text), 64)
		ok = ok && err == nil && v > 0
	}
	if ok {
		ww.next.Enable()
	} else {
		ww.next.Disable()
	}
}

func (ww *wizardWindow) doNext() {
	switch ww.step {
	case stepProvider:
		sp, secret := ww.spec(), strings.TrimSpace(ww.key.Text)
		var res app.RouteTest
		var err error
		ww.say("Testing " + sp.Model + "…")
		ww.background(func() {
			ctx, cancel := context.WithTimeout(context.Background(), routeTestTimeout)
			defer cancel()
			if res = ww.svc.TestRoute(ctx, sp, secret); !res.OK {
				return
			}
			var routes []app.RouteSpec
			var ver app.ConfigVersion
			if routes, ver, err = ww.svc.Routes(); err == nil {
				for _, r := range routes {
					if r.Name == sp.Name {
						sp.Name = app.NewRouteName(sp.Name, routes) // the example config may hold it
					}
				}
				_, err = ww.svc.SaveRoute(ver, -1, sp, secret)
			}
		}, func() {
			switch {
			case !res.OK:
				ww.say("The provider did not answer: " + res.Error + ". Check the key and the model, then try again.")
				ww.typed()
			case err != nil:
				ww.say("It answered, but the route was not added: " + err.Error())
				ww.typed()
			default:
				ww.goTo(stepOpenClaw)
			}
		})
	case stepOpenClaw:
		var err error
		ww.background(func() { err = ww.svc.ConnectOpenClaw() }, func() {
			if err != nil {
				ww.say("Not connected: " + err.Error())
				ww.typed()
				return
			}
			ww.goTo(stepBudget)
		})
	case stepBudget:
		v, _ := strconv.ParseFloat(strings.TrimSpace(ww.budget.Text), 64)
		var err error
		ww.background(func() { err = ww.svc.SetOpenClawBudget(context.Background(), v) }, func() {
			if err != nil {
				ww.say(fmt.Sprintf("Budget not set: %v", err))
				ww.typed()
				return
			}
			ww.goTo(stepDone)
		})
	default:
		ww.hide()
	}
}
