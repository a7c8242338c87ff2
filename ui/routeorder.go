package ui

import (
	"fmt"
	"strconv"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/clawgate/clawgate/app"
)

// orderService is what the Routes tab's "Serve now" and "Fallbacks…" call (*app.App implements
// it). Backends is the app's state in memory; the others read or write config.yaml and run off the
// Fyne goroutine.
type orderService interface {
	backendService
	Backends() []app.BackendGroup
	Fallbacks() ([]app.FallbackChain, app.ConfigVersion, error)
	MoveFallback(ver app.ConfigVersion, chain, at, delta int) (app.ConfigVersion, error)
}

// routeOrder adds the Routes tab's backend choice and fallback order to the editor.
type routeOrder struct {
	re        *routeEditor
	svc       orderService
	serve     *widget.Button
	fallbacks *widget.Button
	// fb is the open Fallbacks dialog's content (nil while closed).
	fb *fallbackView
}

// orderButtons makes the buttons when the service can reorder (nil otherwise).
func (re *routeEditor) orderButtons() []fyne.CanvasObject {
	os, ok := re.svc.(orderService)
	if !ok {
		return nil
	}
	ro := &routeOrder{re: re, svc: os}
	re.order = ro
	ro.serve = widget.NewButtonWithIcon("Serve now", theme.ConfirmIcon(), ro.serveNow)
	ro.serve.Disable()
	ro.fallbacks = widget.NewButtonWithIcon("Fallbacks…", theme.MenuIcon(), ro.openFallbacks)
	return []fyne.CanvasObject{widget.NewSeparator(), ro.serve, ro.fallbacks}
}

// selected follows the table's selection: Serve now is for a route whose model has several
// deployments and that is not the one serving it already; the status line says which serves.
func (ro *routeOrder) selected(row int) {
	ro.serve.Disable()
	specs := ro.re.file.specs
	if row < 0 || row >= len(specs) {
		return
	}
	for _, g := range ro.svc.Backends() {
		if g.Group != specs[row].Name {
			continue
		}
		for j, b := range g.Backends {
			if b.Index != row {
				continue
			}
			switch {
			case j == g.Current:
				ro.re.status.SetText(fmt.Sprintf("%s has %d deployments; this one serves it now, the others stand behind it.", g.Group, len(g.Backends)))
			case g.Current < 0:
				ro.re.status.SetText(fmt.Sprintf("%s has %d deployments sharing its requests; Serve now puts this one first.", g.Group, len(g.Backends)))
				ro.serve.Enable()
			default:
				ro.re.status.SetText(fmt.Sprintf("%s has %d deployments; this one stands by. Serve now puts it first.", g.Group, len(g.Backends)))
				ro.serve.Enable()
			}
		}
	}
}

func (ro *routeOrder) serveNow() {
	i := ro.re.selected
	if i < 0 {
		return
	}
	sp := ro.re.file.specs[i]
	ro.serve.Disable()
	var err error
	ro.re.background(func() { err = ro.svc.UseBackend(i) },
		func() { ro.re.afterEdit(sp.Name+" is now served by "+sp.Model+" at "+sp.APIBase+".", "", err) })
}

// fallbackView is the Fallbacks dialog's content: each model's list with up/down per name.
type fallbackView struct {
	box    *fyne.Container
	note   *widget.Label
	chains []app.FallbackChain
	ver    app.ConfigVersion
	busy   bool
}

func (ro *routeOrder) openFallbacks() {
	fv := &fallbackView{box: container.NewVBox(), note: widget.NewLabel("Reading config.yaml…")}
	fv.note.Wrapping = fyne.TextWrapWord
	ro.fb = fv
	d := dialog.NewCustom("Fallbacks", "Close", container.NewBorder(nil, fv.note, nil, nil, container.NewVScroll(fv.box)), ro.re.rw.w)
	d.SetOnClosed(func() { ro.fb = nil })
	d.Resize(fyne.NewSize(480, 420))
	d.Show()
	ro.readFallbacks(fv, "")
}

// readFallbacks re-reads the lists and redraws them, with done as the note (the default says how).
func (ro *routeOrder) readFallbacks(fv *fallbackView, done string) {
	var chains []app.FallbackChain
	var ver app.ConfigVersion
	var err error
	ro.re.background(func() { chains, ver, err = ro.svc.Fallbacks() }, func() {
		fv.busy = false
		if err != nil {
			fv.note.SetText("Cannot read the fallbacks: " + err.Error())
			return
		}
		fv.chains, fv.ver = chains, ver
		fv.draw(ro)
		switch {
		case done != "":
			fv.note.SetText(done)
		case len(chains) == 0:
			fv.note.SetText("No fallbacks in config.yaml (router_settings.fallbacks).")
		default:
			fv.note.SetText("When a model's own deployments all fail, its fallbacks are tried from the top.")
		}
	})
}

func (fv *fallbackView) draw(ro *routeOrder) {
	fv.box.RemoveAll()
	for c, ch := range fv.chains {
		fv.box.Add(widget.NewLabelWithStyle(ch.Group+" falls back to", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
		for i, name := range ch.To {
			up := widget.NewButtonWithIcon("", theme.MoveUpIcon(), func() { ro.move(fv, c, i, -1) })
			down := widget.NewButtonWithIcon("", theme.MoveDownIcon(), func() { ro.move(fv, c, i, 1) })
			if i == 0 || fv.busy {
				up.Disable()
			}
			if i == len(ch.To)-1 || fv.busy {
				down.Disable()
			}
			fv.box.Add(container.NewBorder(nil, nil, nil, container.NewHBox(up, down), widget.NewLabel(strconv.Itoa(i+1)+". "+name)))
		}
	}
	fv.box.Refresh()
}

func (ro *routeOrder) move(fv *fallbackView, chain, at, delta int) {
	if fv.busy {
		return
	}
	fv.busy = true
	fv.draw(ro)
	name := fv.chains[chain].To[at]
	ver := fv.ver
	var err error
	ro.re.background(func() { _, err = ro.svc.MoveFallback(ver, chain, at, delta) }, func() {
		done := name + " moved; in force now."
		if err != nil {
			done = "Not moved: " + err.Error()
		}
		ro.readFallbacks(fv, done)
	})
}
