package ui

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/clawgate/clawgate/app"
)

// routeService is what the Routes tab edits through (*app.App implements it). Each call blocks on
// the disk, the keychain or the network: the tab makes them off the Fyne goroutine.
type routeService interface {
	Routes() ([]app.RouteSpec, app.ConfigVersion, error)
	SaveRoute(ver app.ConfigVersion, index int, r app.RouteSpec, secret string) (app.ConfigVersion, error)
	DuplicateRoute(ver app.ConfigVersion, index int, name string) (app.ConfigVersion, error)
	DeleteRoute(ver app.ConfigVersion, index int) (app.ConfigVersion, error)
	TestRoute(ctx context.Context, r app.RouteSpec, secret string) app.RouteTest
	TestSavedRoute(ctx context.Context, index int) app.RouteTest
}

// routeFile is one read of config.yaml's routes.
type routeFile struct {
	specs []app.RouteSpec
	ver   app.ConfigVersion
	err   error
}

// routeTestTimeout bounds one route's test call.
const routeTestTimeout = 30 * time.Second

// routeEditor is the Routes tab's buttons and what they act on: the config file's routes, by
// their place in model_list, under the version they were read at.
type routeEditor struct {
	rw   *activityWindow
	svc  routeService
	file routeFile
	// selected is the selected route's index in file.specs, -1 for none.
	selected int
	// tests are the last test of each route, by name.
	tests   map[string]app.RouteTest
	testing int // tests under way

	// form is the open Add/Edit form (nil when none); afterReload runs once the next read of
	// the file is shown (a form waiting for the version to save against).
	form        *routeForm
	afterReload func()

	add, edit, dup, del, test, testAll *widget.Button
	status                             *widget.Label
	order                              *routeOrder // backend choice and fallbacks (routeorder.go); nil without
}

// enableRouteEditing turns the Routes tab into an editor of config.yaml's routes.
func (rw *activityWindow) enableRouteEditing(svc routeService) {
	re := &routeEditor{rw: rw, svc: svc, selected: -1, tests: map[string]app.RouteTest{}}
	rw.redit = re
	re.add = widget.NewButtonWithIcon("Add…", theme.ContentAddIcon(), func() { re.openForm(-1) })
	re.edit = widget.NewButtonWithIcon("Edit…", theme.DocumentCreateIcon(), func() { re.openForm(re.selected) })
	re.dup = widget.NewButtonWithIcon("Duplicate", theme.ContentCopyIcon(), re.duplicate)
	re.del = widget.NewButtonWithIcon("Delete…", theme.DeleteIcon(), re.confirmDelete)
	re.test = widget.NewButtonWithIcon("Test", theme.MediaPlayIcon(), func() { re.runTests([]int{re.selected}) })
	re.testAll = widget.NewButton("Test all", func() {
		all := make([]int, len(re.file.specs))
		for i := range all {
			all[i] = i
		}
		re.runTests(all)
	})
	re.status = widget.NewLabel("Select a route to edit, copy, delete or test it; Add… makes a new one.")
	re.status.Truncation = fyne.TextTruncateEllipsis
	rw.routes.onSelect = re.selectRow
	re.selectRow(-1)
	bar := container.NewPadded(container.NewBorder(nil, nil, nil,
		container.NewHBox(append([]fyne.CanvasObject{re.add, re.edit, re.dup, re.del, widget.NewSeparator(), re.test, re.testAll},
			re.orderButtons()...)...), re.status))
	rw.tabs.Items[tabRoutes].Content = container.NewBorder(nil, bar, nil, nil, rw.routes.object())
	rw.tabs.Refresh()
}

// read reads the config file's routes; off the Fyne goroutine.
func (re *routeEditor) read() routeFile {
	specs, ver, err := re.svc.Routes()
	return routeFile{specs, ver, err}
}

// showRoutes fills the Routes table: the config file's routes when editing (with the health of the
// deployment in force at the same place), else the deployments in force. Fyne goroutine.
func (rw *activityWindow) showRoutes() {
	now := rw.now()
	var keys []string
	rw.rrows = nil
	seen := map[string]int{}
	key := func(parts ...string) string {
		// A group may list the same deployment twice; the count keeps their keys apart.
		k := strings.Join(parts, "\x00")
		seen[k]++
		return k + "\x00" + strconv.Itoa(seen[k])
	}
	re := rw.redit
	if re == nil || re.file.err != nil {
		for _, r := range rw.lastRoutes {
			c := routeCells(r, now)
			rw.rrows = append(rw.rrows, append(c[:], ""))
			keys = append(keys, key(r.Name, r.Model, r.APIBase))
		}
		rw.routes.setRows(rw.rrows, keys)
		if re != nil {
			re.selectRow(-1)
			re.status.SetText("Cannot edit the routes: " + re.file.err.Error())
		}
		return
	}
	for i, sp := range re.file.specs {
		st := app.RouteState{Name: sp.Name, Model: sp.Model, APIBase: sp.APIBase, Provider: sp.Preset}
		if i < len(rw.lastRoutes) && rw.lastRoutes[i].Name == sp.Name {
			st = rw.lastRoutes[i] // the deployment in force at this place: its health and price
		}
		if p, ok := app.PresetByID(sp.Preset); ok {
			st.Provider = p.Label
		}
		c := routeCells(st, now)
		rw.rrows = append(rw.rrows, append(c[:], testCell(re.tests[sp.Name], re.testing > 0)))
		keys = append(keys, key(sp.Name, sp.Model, sp.APIBase))
	}
	rw.routes.setRows(rw.rrows, keys)
	re.selectRow(rw.routes.selectedRow()) // the buttons follow the rows (Test all needs one)
	if len(re.file.specs) == 0 {
		re.status.SetText("No routes yet: Add… one.")
	}
}

// testCell is the Last test column.
func testCell(t app.RouteTest, running bool) string {
	switch {
	case t.Route == "" && running:
		return "…"
	case t.Route == "":
		return ""
	case t.OK:
		return "ok, " + took(t.Latency)
	}
	return "failed: " + t.Error
}

func (re *routeEditor) selectRow(row int) {
	re.selected = -1
	if row >= 0 && row < len(re.file.specs) {
		re.selected = row
	}
	on := re.selected >= 0
	for _, b := range []*widget.Button{re.edit, re.dup, re.del, re.test} {
		if on {
			b.Enable()
		} else {
			b.Disable()
		}
	}
	if len(re.file.specs) == 0 {
		re.testAll.Disable()
	} else {
		re.testAll.Enable()
	}
	if re.file.err != nil || re.file.ver == "" {
		re.add.Disable() // no file read (yet): nothing to add to
	} else {
		re.add.Enable()
	}
	if re.order != nil {
		re.order.selected(re.selected)
	}
	if on {
		if t, ok := re.tests[re.file.specs[row].Name]; ok {
			re.status.SetText(testLine(t))
		}
	}
}

// testLine says what a test gave, for the status line.
func testLine(t app.RouteTest) string {
	price := "no price known"
	if t.InputPerMTok != nil || t.OutputPerMTok != nil {
		price = perM(t.InputPerMTok) + " / " + perM(t.OutputPerMTok) + " per 1M tokens in / out"
	}
	if !t.OK {
		return fmt.Sprintf("%s failed after %s: %s", t.Route, took(t.Latency), t.Error)
	}
	return fmt.Sprintf("%s answered %q in %s · %s", t.Route, t.Answer, took(t.Latency), price)
}

// background runs call off the Fyne goroutine and then done on it, unless the app is closing.
func (re *routeEditor) background(call func(), done func()) { re.rw.background(call, done) }

// afterEdit shows an edit's outcome and re-reads everything (the file, and the gateway's state).
// ver is the file's version after the edit, so a next edit made before the re-read lands is made
// against the right one.
func (re *routeEditor) afterEdit(done string, ver app.ConfigVersion, err error) {
	switch {
	case errors.Is(err, app.ErrConfigChanged):
		re.status.SetText("config.yaml changed on disk meanwhile: read it again, nothing was changed. Check and try again.")
	case err != nil:
		re.status.SetText("Not saved: " + err.Error())
	default:
		re.status.SetText(done)
	}
	if ver != "" && err == nil {
		re.file.ver = ver
	}
	re.rw.refresh()
}

func (re *routeEditor) duplicate() {
	i := re.selected
	if i < 0 {
		return
	}
	name := app.NewRouteName(re.file.specs[i].Name, re.file.specs)
	ver := re.file.ver
	var err error
	var now app.ConfigVersion
	re.background(func() { now, err = re.svc.DuplicateRoute(ver, i, name) },
		func() { re.afterEdit("Copied as "+name+".", now, err) })
}

func (re *routeEditor) confirmDelete() {
	i := re.selected
	if i < 0 {
		return
	}
	name, ver := re.file.specs[i].Name, re.file.ver
	dialog.ShowConfirm("Delete "+name+"?", "Clients asking for "+name+" will get an error (unless another route has that name).",
		func(ok bool) {
			if !ok {
				return
			}
			var err error
			var now app.ConfigVersion
			re.background(func() { now, err = re.svc.DeleteRoute(ver, i) },
				func() { re.afterEdit(name+" deleted.", now, err) })
		}, re.rw.w)
}

// runTests tests the routes at idx one after another and sums them up in the status line.
func (re *routeEditor) runTests(idx []int) {
	if len(idx) == 0 || idx[0] < 0 || re.testing > 0 {
		return
	}
	specs := make([]app.RouteSpec, 0, len(idx))
	for _, i := range idx {
		specs = append(specs, re.file.specs[i])
		delete(re.tests, re.file.specs[i].Name)
	}
	idx = append([]int(nil), idx...)
	re.testing = len(specs)
	re.test.Disable()
	re.testAll.Disable()
	re.status.SetText(fmt.Sprintf("Testing %s…", plural(len(specs), "route")))
	re.rw.showRoutes()
	results := make([]app.RouteTest, len(specs))
	re.background(func() {
		for i, sp := range specs {
			ctx, cancel := context.WithTimeout(context.Background(), routeTestTimeout)
			// The entry as saved, every key of it; named as the table shows it.
			results[i] = re.svc.TestSavedRoute(ctx, idx[i])
			results[i].Route = sp.Name
			cancel()
		}
	}, func() {
		re.testing = 0
		var failed []string
		for _, r := range results {
			re.tests[r.Route] = r
			if !r.OK {
				failed = append(failed, r.Route)
			}
		}
		re.rw.showRoutes()
		re.selectRow(re.selected)
		switch {
		case len(results) == 1:
			re.status.SetText(testLine(results[0]))
		case len(failed) == 0:
			re.status.SetText(fmt.Sprintf("All %d routes answered.", len(results)))
		default:
			re.status.SetText(fmt.Sprintf("%d of %d routes answered; failed: %s.", len(results)-len(failed), len(results), strings.Join(failed, ", ")))
		}
	})
}
