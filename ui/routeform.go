package ui

import (
	"context"
	"errors"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"

	"github.com/clawgate/clawgate/app"
	"github.com/clawgate/clawgate/app/keychain"
)

// Where a route's key comes from, as the form offers it.
const (
	keyFromKeychain = "Keychain"
	keyFromEnv      = "Environment variable"
	keyDefault      = "Provider default"
)

// routeForm adds or edits one route: a provider preset fills what it needs, the model is picked
// from the price table's models for it or typed, the key is typed (stored in the keychain) or read
// from an environment variable. It checks as the user types; Save stays disabled until the route
// can be saved.
type routeForm struct {
	re    *routeEditor
	index int // -1: a new route
	ver   app.ConfigVersion
	d     dialog.Dialog

	name, apiBase, region, project, location, apiVersion *widget.Entry
	preset                                               *widget.Select
	model                                                *widget.SelectEntry
	keySource                                            *widget.RadioGroup
	keyName, keyEnv                                      *widget.Entry
	secret                                               *widget.Entry
	keyHint, problem                                     *widget.Label
	items                                                map[string]*widget.FormItem
	form                                                 *widget.Form
	save, test                                           *widget.Button
}

func presetLabels() []string {
	out := make([]string, len(app.Presets))
	for i, p := range app.Presets {
		out[i] = p.Label
	}
	return out
}

func presetByLabel(label string) app.Preset {
	for _, p := range app.Presets {
		if p.Label == label {
			return p
		}
	}
	return app.Preset{}
}

// formOrder is the order of the form's rows.
var formOrder = []string{"name", "provider", "model", "api_base", "region", "project", "location", "api_version",
	"key_source", "key_name", "secret", "key_env"}

// openForm shows the form for route index (-1: a new one); Fyne goroutine.
func (re *routeEditor) openForm(index int) {
	f := &routeForm{re: re, index: index, ver: re.file.ver}
	f.name = widget.NewEntry()
	f.name.SetPlaceHolder("what clients ask for, e.g. gpt-4o")
	f.preset = widget.NewSelect(presetLabels(), nil)
	f.model = widget.NewSelectEntry(nil)
	f.model.SetPlaceHolder("pick or type the upstream model")
	f.apiBase = widget.NewEntry()
	f.region = widget.NewEntry()
	f.region.SetPlaceHolder("us-east-1")
	f.project = widget.NewEntry()
	f.location = widget.NewEntry()
	f.location.SetPlaceHolder("us-central1")
	f.apiVersion = widget.NewEntry()
	f.apiVersion.SetPlaceHolder("2024-10-21")
	f.keySource = widget.NewRadioGroup([]string{keyFromKeychain, keyFromEnv, keyDefault}, nil)
	f.keySource.Horizontal = true
	f.keyName = widget.NewEntry()
	f.keyEnv = widget.NewEntry()
	f.secret = widget.NewPasswordEntry()
	f.keyHint = widget.NewLabel("")
	f.keyHint.Wrapping = fyne.TextWrapWord
	f.problem = widget.NewLabel("")
	f.problem.Wrapping = fyne.TextWrapWord
	// Bold in the text colour: Fyne's error red is 3.7:1 on the light theme, under WCAG's 4.5:1.
	f.problem.TextStyle.Bold = true

	spec := app.RouteSpec{Preset: "openai"}
	if index >= 0 && index < len(re.file.specs) {
		spec = re.file.specs[index]
	}
	f.fill(spec)

	f.items = map[string]*widget.FormItem{
		"name":        widget.NewFormItem("Name", f.name),
		"provider":    widget.NewFormItem("Provider", f.preset),
		"model":       widget.NewFormItem("Model", f.model),
		"api_base":    widget.NewFormItem("API base", f.apiBase),
		"region":      widget.NewFormItem("AWS region", f.region),
		"project":     widget.NewFormItem("GCP project", f.project),
		"location":    widget.NewFormItem("Location", f.location),
		"api_version": widget.NewFormItem("API version", f.apiVersion),
		"key_source":  widget.NewFormItem("Key", f.keySource),
		"key_name":    widget.NewFormItem("Keychain name", f.keyName),
		"secret":      widget.NewFormItem("Key value", f.secret),
		"key_env":     widget.NewFormItem("Variable", f.keyEnv),
	}
	f.form = widget.NewForm()
	for _, e := range []*widget.Entry{f.name, f.apiBase, f.region, f.project, f.location, f.apiVersion, f.keyName, f.keyEnv, f.secret} {
		e.OnChanged = func(string) { f.check() }
	}
	f.model.OnChanged = func(string) { f.check() }
	f.keySource.OnChanged = func(string) { f.shape(); f.check() }
	f.preset.OnChanged = func(string) { f.presetChanged(); f.check() }

	f.save = widget.NewButton("Save", f.submit)
	f.save.Importance = widget.HighImportance
	f.test = widget.NewButton("Test", f.runTest)
	cancel := widget.NewButton("Cancel", func() { f.d.Hide() })
	buttons := container.NewHBox(f.test, layout.NewSpacer(), cancel, f.save)
	body := container.NewBorder(nil, container.NewVBox(f.keyHint, f.problem, buttons), nil, nil,
		container.NewVScroll(f.form))
	title := "Add a route"
	if index >= 0 {
		title = "Edit " + spec.Name
	}
	f.d = dialog.NewCustomWithoutButtons(title, body, re.rw.w)
	f.shape()
	f.check()
	f.d.Resize(fyne.NewSize(640, 600))
	f.d.Show()
	re.form = f
}

// fill puts spec in the fields.
func (f *routeForm) fill(spec app.RouteSpec) {
	p, _ := app.PresetByID(spec.Preset)
	f.name.SetText(spec.Name)
	f.preset.Selected = p.Label
	f.model.SetOptions(app.PresetModels(p.ID))
	f.model.SetText(spec.Model)
	f.apiBase.SetText(spec.APIBase)
	if spec.APIBase == "" {
		f.apiBase.SetText(p.APIBase)
	}
	f.region.SetText(spec.Region)
	f.project.SetText(spec.Project)
	f.location.SetText(spec.Location)
	f.apiVersion.SetText(spec.APIVersion)
	switch {
	case strings.HasPrefix(spec.KeyRef, keychain.RefPrefix):
		f.keySource.Selected = keyFromKeychain
		f.keyName.SetText(strings.TrimPrefix(spec.KeyRef, keychain.RefPrefix))
		f.secret.SetPlaceHolder("stored; type to replace it")
	case strings.HasPrefix(spec.KeyRef, "os.environ/"):
		f.keySource.Selected = keyFromEnv
		f.keyEnv.SetText(strings.TrimPrefix(spec.KeyRef, "os.environ/"))
	case f.index < 0 && !p.NoKey:
		f.keySource.Selected = keyFromKeychain
		f.keyName.SetText(p.ID)
	default:
		f.keySource.Selected = keyDefault
	}
	f.keyEnv.SetPlaceHolder(p.KeyEnv)
}

// presetChanged fills in what the new provider needs and offers its models.
func (f *routeForm) presetChanged() {
	p := presetByLabel(f.preset.Selected)
	f.model.SetOptions(app.PresetModels(p.ID))
	f.apiBase.SetText(p.APIBase)
	f.keyEnv.SetPlaceHolder(p.KeyEnv)
	if f.keySource.Selected == keyFromKeychain && (f.keyName.Text == "" || isPresetID(f.keyName.Text)) {
		f.keyName.SetText(p.ID)
	}
	if p.NoKey && f.index < 0 {
		f.keySource.SetSelected(keyDefault)
	}
	f.shape()
}

func isPresetID(s string) bool {
	_, ok := app.PresetByID(s)
	return ok
}

// shape shows the fields the provider and the key source need, and hides the rest.
func (f *routeForm) shape() {
	p := presetByLabel(f.preset.Selected)
	show := map[string]bool{
		"region": p.Region, "project": p.Project, "location": p.Project, "api_version": p.APIVersion,
		"key_name": f.keySource.Selected == keyFromKeychain, "secret": f.keySource.Selected == keyFromKeychain,
		"key_env": f.keySource.Selected == keyFromEnv,
	}
	// A form row hides only with its label, which Form keeps to itself: list the rows it needs.
	var rows []*widget.FormItem
	for _, k := range formOrder {
		if on, optional := show[k]; !optional || on {
			rows = append(rows, f.items[k])
		}
	}
	f.form.Items = rows
	switch {
	case f.keySource.Selected == keyFromKeychain:
		f.keyHint.SetText("The key is stored in the system keychain under this name; config.yaml says keychain/NAME.")
	case f.keySource.Selected == keyFromEnv:
		f.keyHint.SetText("Read from this environment variable when the gateway starts (an app started from the desktop menu may not see your shell's variables).")
	case p.NoKey:
		f.keyHint.SetText(p.Label + " needs no key here.")
	case p.KeyEnv != "":
		f.keyHint.SetText("Reads " + p.KeyEnv + " from the environment.")
	default:
		f.keyHint.SetText("No key is sent.")
	}
	f.form.Refresh()
}

// spec is the route as typed.
func (f *routeForm) spec() app.RouteSpec {
	p := presetByLabel(f.preset.Selected)
	r := app.RouteSpec{Name: strings.TrimSpace(f.name.Text), Preset: p.ID, Model: strings.TrimSpace(f.model.Text),
		APIBase: strings.TrimSpace(f.apiBase.Text)}
	if p.Region {
		r.Region = f.region.Text
	}
	if p.Project {
		r.Project, r.Location = f.project.Text, f.location.Text
	}
	if p.APIVersion {
		r.APIVersion = f.apiVersion.Text
	}
	switch f.keySource.Selected {
	case keyFromKeychain:
		r.KeyRef = keychain.RefPrefix + strings.TrimSpace(f.keyName.Text)
	case keyFromEnv:
		r.KeyRef = "os.environ/" + strings.TrimSpace(f.keyEnv.Text)
	}
	return r
}

// check validates what is typed; Save is enabled only when it can be saved.
func (f *routeForm) check() {
	if f.save == nil {
		return // still being built
	}
	probs := app.CheckRoute(f.spec(), f.re.file.specs, f.index)
	msg := ""
	for _, k := range []string{"preset", "name", "model", "api_base", "region", "project", "key"} {
		if m, ok := probs[k]; ok {
			msg = m
			break
		}
	}
	// A keychain name the route did not use before holds nothing yet: the key must be typed.
	if msg == "" && f.keySource.Selected == keyFromKeychain && f.secret.Text == "" && !f.keptKeyName() {
		msg = "type the key to store it in the keychain (or choose another source)"
	}
	f.problem.SetText(msg)
	if msg == "" {
		f.save.Enable()
	} else {
		f.save.Disable()
	}
}

// keptKeyName reports whether the keychain name is the one the route already had.
func (f *routeForm) keptKeyName() bool {
	if f.index < 0 || f.index >= len(f.re.file.specs) {
		return false
	}
	return f.re.file.specs[f.index].KeyRef == keychain.RefPrefix+strings.TrimSpace(f.keyName.Text)
}

func (f *routeForm) submit() {
	r, secret, ver, index := f.spec(), f.secret.Text, f.ver, f.index
	f.save.Disable()
	f.problem.SetText("Saving…")
	var err error
	var now app.ConfigVersion
	f.re.background(func() { now, err = f.re.svc.SaveRoute(ver, index, r, secret) }, func() {
		if errors.Is(err, app.ErrConfigChanged) {
			// Someone edited the file meanwhile: re-read it, keep what was typed, ask again.
			f.problem.SetText("config.yaml changed on disk meanwhile; it was read again. Check and Save again.")
			f.re.rw.refresh()
			f.ver = ""
			f.re.afterReload = func() { f.ver = f.re.file.ver; f.check() }
			return
		}
		if err != nil {
			f.problem.SetText("Not saved: " + err.Error())
			f.save.Enable()
			return
		}
		f.d.Hide()
		f.re.afterEdit(r.Name+" saved and in force.", now, nil)
	})
}

func (f *routeForm) runTest() {
	r, secret := f.spec(), f.secret.Text
	f.test.Disable()
	f.keyHint.SetText("Testing " + r.Name + "…")
	var res app.RouteTest
	f.re.background(func() {
		ctx, cancel := context.WithTimeout(context.Background(), routeTestTimeout)
		res = f.re.svc.TestRoute(ctx, r, secret)
		cancel()
	}, func() {
		f.test.Enable()
		f.keyHint.SetText(testLine(res))
	})
}
