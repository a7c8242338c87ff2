package ui

import (
	"context"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/clawgate/clawgate/app"
)

// keyService is what the Budgets tab manages keys through (*app.App implements it); every call
// blocks on the store, the disk or the keychain and is made off the Fyne goroutine.
type keyService interface {
	CreateKey(ctx context.Context, s app.KeySpec) (string, error)
	UpdateKey(ctx context.Context, token string, s app.KeySpec) error
	KeyDetails(ctx context.Context, token string) (app.KeySpec, error)
	RegenerateKey(ctx context.Context, token string) (string, error)
	DeleteKey(ctx context.Context, token string) error
	ReadProxyBudget() (app.ProxyBudget, app.ConfigVersion, error)
	SetProxyBudget(ver app.ConfigVersion, b app.ProxyBudget) (app.ConfigVersion, error)
}

// keyCallTimeout bounds one store call.
const keyCallTimeout = 10 * time.Second

// newKeyButtons makes the key buttons, hidden until the service manages keys.
func (be *budgetEditor) newKeyButtons() {
	be.newKey = widget.NewButtonWithIcon("New key…", theme.ContentAddIcon(), func() { be.openKeyForm("") })
	be.editKey = widget.NewButton("Edit…", func() { be.openKeyForm(be.token) })
	be.regen = widget.NewButton("Regenerate…", be.confirmRegenerate)
	be.del = widget.NewButtonWithIcon("Delete…", theme.DeleteIcon(), be.confirmDeleteKey)
	be.proxy = widget.NewButton("Proxy budget…", be.showProxyBudgetForm)
	for _, b := range []*widget.Button{be.newKey, be.editKey, be.regen, be.del, be.proxy} {
		b.Hide()
	}
}

// enableKeys shows the key buttons: the service can manage keys.
func (be *budgetEditor) enableKeys(ks keyService) {
	be.keys = ks
	for _, b := range []*widget.Button{be.newKey, be.editKey, be.regen, be.del, be.proxy} {
		b.Show()
	}
	be.selectRow(be.rw.budgets.selectedRow())
}

// keyButtons enables the buttons that act on the selected key.
func (be *budgetEditor) keyButtons() {
	for _, b := range []*widget.Button{be.editKey, be.regen, be.del} {
		if be.token != "" {
			b.Enable()
		} else {
			b.Disable()
		}
	}
}

// run calls f off the Fyne goroutine with a timeout, then done on it.
func (be *budgetEditor) run(f func(ctx context.Context), done func()) {
	be.rw.background(func() {
		ctx, cancel := context.WithTimeout(context.Background(), keyCallTimeout)
		defer cancel()
		f(ctx)
	}, done)
}

// keyForm makes or edits a virtual key.
type keyForm struct {
	be    *budgetEditor
	token string // "" for a new key
	d     dialog.Dialog

	alias, maxBudget, softBudget, rpm, tpm *widget.Entry
	period, expires                        *widget.SelectEntry
	models                                 *widget.CheckGroup
	problem                                *widget.Label
	save                                   *widget.Button
}

// openKeyForm opens the form for a new key (token "") or the key with this hash.
func (be *budgetEditor) openKeyForm(token string) {
	if be.keys == nil {
		return
	}
	f := &keyForm{be: be, token: token}
	f.alias = widget.NewEntry()
	f.alias.SetPlaceHolder("e.g. openclaw-laptop")
	f.maxBudget = widget.NewEntry()
	f.maxBudget.SetPlaceHolder("USD, empty for none")
	f.softBudget = widget.NewEntry()
	f.softBudget.SetPlaceHolder("USD: warn past it")
	f.period = widget.NewSelectEntry([]string{"daily", "weekly", "monthly", "30d"})
	f.period.SetPlaceHolder("never resets")
	f.rpm = widget.NewEntry()
	f.rpm.SetPlaceHolder("requests a minute")
	f.tpm = widget.NewEntry()
	f.tpm.SetPlaceHolder("tokens a minute")
	f.expires = widget.NewSelectEntry([]string{"7d", "30d", "90d", "365d"})
	f.expires.SetPlaceHolder("never expires")
	var served []string
	for _, m := range be.rw.models() {
		if !strings.Contains(m, "*") {
			served = append(served, m)
		}
	}
	f.models = widget.NewCheckGroup(served, nil)
	f.models.Horizontal = true
	f.problem = widget.NewLabel("")
	f.problem.Wrapping = fyne.TextWrapWord
	// Bold in the text colour: Fyne's error red is 3.7:1 on the light theme, under WCAG's 4.5:1.
	f.problem.TextStyle.Bold = true
	for _, e := range []*widget.Entry{f.alias, f.maxBudget, f.softBudget, f.rpm, f.tpm} {
		e.OnChanged = func(string) { f.check() }
	}
	f.period.OnChanged = func(string) { f.check() }
	f.expires.OnChanged = func(string) { f.check() }

	items := []*widget.FormItem{
		widget.NewFormItem("Alias", f.alias),
		widget.NewFormItem("Models", container.NewHScroll(f.models)),
		widget.NewFormItem("Budget", f.maxBudget),
		widget.NewFormItem("Resets", f.period),
		widget.NewFormItem("Soft budget", f.softBudget),
		widget.NewFormItem("Rate limits", container.NewGridWithColumns(2, f.rpm, f.tpm)),
	}
	title := "New virtual key"
	if token == "" {
		items = append(items, widget.NewFormItem("Expires in", f.expires))
	} else {
		title = "Edit " + be.name
	}
	hint := widget.NewLabel("No model ticked: the key may call every model.")
	f.save = widget.NewButton("Create", f.submit)
	if token != "" {
		f.save.SetText("Save")
	}
	f.save.Importance = widget.HighImportance
	buttons := container.NewHBox(layout.NewSpacer(), widget.NewButton("Cancel", func() { f.d.Hide() }), f.save)
	body := container.NewBorder(nil, container.NewVBox(hint, f.problem, buttons), nil, nil,
		container.NewVScroll(widget.NewForm(items...)))
	f.d = dialog.NewCustomWithoutButtons(title, body, be.rw.w)
	f.d.Resize(fyne.NewSize(620, 520))
	f.check()
	f.d.Show()
	be.keyForm = f
	if token != "" {
		f.save.Disable()
		f.problem.SetText("Reading the key…")
		var spec app.KeySpec
		var err error
		be.run(func(ctx context.Context) { spec, err = be.keys.KeyDetails(ctx, token) }, func() {
			if err != nil {
				f.problem.SetText("Could not read the key: " + err.Error())
				return
			}
			f.fill(spec)
			f.check()
		})
	}
}

func (f *keyForm) fill(s app.KeySpec) {
	f.alias.SetText(s.Alias)
	f.maxBudget.SetText(numText(s.MaxBudget))
	f.softBudget.SetText(numText(s.SoftBudget))
	f.period.SetText(s.BudgetDuration)
	f.rpm.SetText(intText(s.RPM))
	f.tpm.SetText(intText(s.TPM))
	f.models.Selected = append([]string{}, s.Models...)
	f.models.Refresh()
}

func numText(v *float64) string {
	if v == nil {
		return ""
	}
	return strconv.FormatFloat(*v, 'f', -1, 64)
}

func intText(v *int64) string {
	if v == nil {
		return ""
	}
	return strconv.FormatInt(*v, 10)
}

// spec reads the form; the message says what is not a number.
func (f *keyForm) spec() (app.KeySpec, string) {
	s := app.KeySpec{Alias: strings.TrimSpace(f.alias.Text), Models: append([]string{}, f.models.Selected...),
		BudgetDuration: f.period.Text, Expires: f.expires.Text}
	var msg string
	money := func(e *widget.Entry, what string) *float64 {
		if strings.TrimSpace(e.Text) == "" {
			return nil
		}
		v, err := parseUSD(e.Text)
		if err != nil && msg == "" {
			msg = what + ": " + err.Error()
		}
		return &v
	}
	count := func(e *widget.Entry, what string) *int64 {
		if strings.TrimSpace(e.Text) == "" {
			return nil
		}
		v, err := strconv.ParseInt(strings.TrimSpace(e.Text), 10, 64)
		if (err != nil || v < 0) && msg == "" {
			msg = what + " is a whole number"
		}
		return &v
	}
	s.MaxBudget = money(f.maxBudget, "Budget")
	s.SoftBudget = money(f.softBudget, "Soft budget")
	s.RPM = count(f.rpm, "Requests a minute")
	s.TPM = count(f.tpm, "Tokens a minute")
	return s, msg
}

// check validates as typed; Save is enabled only for a key that can be saved.
func (f *keyForm) check() {
	if f.save == nil {
		return
	}
	s, msg := f.spec()
	if msg == "" {
		for _, k := range []string{"max_budget", "soft_budget", "budget_duration", "expires"} {
			if m, ok := app.CheckKey(s)[k]; ok {
				msg = m
				break
			}
		}
	}
	f.problem.SetText(msg)
	if msg == "" {
		f.save.Enable()
	} else {
		f.save.Disable()
	}
}

func (f *keyForm) submit() {
	s, _ := f.spec()
	be, token := f.be, f.token
	f.save.Disable()
	var secret string
	var err error
	be.run(func(ctx context.Context) {
		if token == "" {
			secret, err = be.keys.CreateKey(ctx, s)
		} else {
			err = be.keys.UpdateKey(ctx, token, s)
		}
	}, func() {
		if err != nil {
			f.problem.SetText("Not saved: " + err.Error())
			f.save.Enable()
			return
		}
		f.d.Hide()
		be.rw.refresh()
		if token != "" {
			be.status.SetText(be.name + " saved.")
			return
		}
		name := s.Alias
		if name == "" {
			name = "The new key"
		}
		be.status.SetText(name + " created.")
		be.showSecret("Key created", name, secret)
	})
}

// secretDialog shows a key's secret once, with Copy.
type secretDialog struct {
	d      dialog.Dialog
	secret string
	copy   *widget.Button
}

// showSecret shows secret once: it is not kept anywhere, so this is the user's one chance to copy it.
func (be *budgetEditor) showSecret(title, name, secret string) {
	sd := &secretDialog{secret: secret}
	text := widget.NewLabelWithStyle(secret, fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})
	text.Selectable = true
	sd.copy = widget.NewButtonWithIcon("Copy", theme.ContentCopyIcon(), func() {
		fyne.CurrentApp().Clipboard().SetContent(secret)
		sd.copy.SetText("Copied")
	})
	note := widget.NewLabel(name + "'s secret is shown this once: Clawgate keeps only its hash. Copy it now.")
	note.Wrapping = fyne.TextWrapWord
	sd.d = dialog.NewCustom(title, "Done", container.NewVBox(note, container.NewBorder(nil, nil, nil, sd.copy, text)), be.rw.w)
	sd.d.Resize(fyne.NewSize(560, 220))
	sd.d.Show()
	be.shown = sd
}

func (be *budgetEditor) confirmRegenerate() {
	token, name := be.token, be.name
	if token == "" || be.keys == nil {
		return
	}
	dialog.ShowConfirm("Regenerate "+name+"?", "The old secret stops working at once: every client using it must get the new one.\nBudget, spend and logs stay.",
		func(ok bool) {
			if !ok {
				return
			}
			var secret string
			var err error
			be.run(func(ctx context.Context) { secret, err = be.keys.RegenerateKey(ctx, token) }, func() {
				if err != nil {
					be.status.SetText("Not regenerated: " + err.Error())
					return
				}
				be.status.SetText(name + " has a new secret.")
				be.rw.refresh()
				be.showSecret("New secret", name, secret)
			})
		}, be.rw.w)
}

func (be *budgetEditor) confirmDeleteKey() {
	token, name := be.token, be.name
	if token == "" || be.keys == nil {
		return
	}
	dialog.ShowConfirm("Delete "+name+"?", "Clients using it get 401 from now on. Its spend stays in the logs.", func(ok bool) {
		if !ok {
			return
		}
		var err error
		be.run(func(ctx context.Context) { err = be.keys.DeleteKey(ctx, token) }, func() {
			if err != nil {
				be.status.SetText("Not deleted: " + err.Error())
				return
			}
			be.status.SetText(name + " deleted.")
			be.rw.refresh()
		})
	}, be.rw.w)
}

// showProxyBudgetForm edits litellm_settings.max_budget and budget_duration in config.yaml.
func (be *budgetEditor) showProxyBudgetForm() {
	var b app.ProxyBudget
	var ver app.ConfigVersion
	var err error
	be.run(func(context.Context) { b, ver, err = be.keys.ReadProxyBudget() }, func() {
		if err != nil {
			be.status.SetText("Could not read config.yaml: " + err.Error())
			return
		}
		limit := widget.NewEntry()
		limit.SetPlaceHolder("USD, empty for none")
		limit.SetText(numText(b.MaxBudget))
		limit.Validator = func(s string) error {
			if strings.TrimSpace(s) == "" {
				return nil
			}
			_, err := parseUSD(s)
			return err
		}
		period := widget.NewSelectEntry([]string{"daily", "weekly", "monthly", "30d"})
		period.SetPlaceHolder("never resets")
		period.SetText(b.Period)
		items := []*widget.FormItem{widget.NewFormItem("Limit (USD)", limit), widget.NewFormItem("Resets", period)}
		showForm("Proxy budget (all requests)", items, func(ok bool) {
			if !ok {
				return
			}
			nb := app.ProxyBudget{Period: period.Text}
			if strings.TrimSpace(limit.Text) != "" {
				v, _ := parseUSD(limit.Text)
				nb.MaxBudget = &v
			}
			var err error
			be.run(func(context.Context) { _, err = be.keys.SetProxyBudget(ver, nb) }, func() {
				if err != nil {
					be.status.SetText("Not saved: " + err.Error())
					return
				}
				be.status.SetText("Proxy budget saved to config.yaml and in force.")
				be.rw.refresh()
			})
		}, be.rw.w)
	})
}
