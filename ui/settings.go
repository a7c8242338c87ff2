package ui

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/clawgate/clawgate/app"
)

// settingsService is what the Settings window reads and writes through (*app.App implements it).
// Every call touches the disk or binds a port: the window makes them off the Fyne goroutine.
type settingsService interface {
	Settings() (app.GatewaySettings, app.ConfigVersion, error)
	CheckListen(host string, port int) string
	SaveSettings(ctx context.Context, ver app.ConfigVersion, s app.GatewaySettings) error
}

// settingsSaveTimeout bounds a save (a port move and OpenClaw's rewrite included).
const settingsSaveTimeout = 30 * time.Second

const (
	bindLocal = "This computer only (127.0.0.1)"
	bindLAN   = "Every network (0.0.0.0)"
)

// settingsWindow edits the gateway's settings in config.yaml: where it listens, prompt storage,
// log retention, budget alert levels, and the proxy and extra CAs for calls to providers. What is typed is checked as it is typed; Save stays
// disabled until every field is valid and the port is known to be free.
type settingsWindow struct {
	g       *gui
	svc     settingsService
	w       fyne.Window
	visible bool

	ver        app.ConfigVersion
	bind       *widget.RadioGroup
	lanWarning *widget.Label
	port       *widget.Entry
	store      *widget.Check
	retention  *widget.Entry
	alerts     *widget.Entry
	proxy, ca  *widget.Entry
	openclaw   *widget.Entry
	theme      *widget.Select           // applied and kept (Fyne preferences) as soon as it is chosen
	problems   map[string]*widget.Label // by field: "port", "retention", "alerts"
	save       *widget.Button
	status     *widget.Label

	// portCheck counts port checks: a result is shown only if no later one started; portProblem is
	// the last shown ("" when free), portPending while one runs.
	portCheck    int
	portProblem  string
	fileProblems app.SettingsProblems // the files' problems found with the last check
	portPending  bool
	loaded       bool
	saving       bool
}

func newSettingsWindow(g *gui, svc settingsService) *settingsWindow {
	sw := &settingsWindow{g: g, svc: svc, w: g.a.NewWindow("Clawgate: settings"), problems: map[string]*widget.Label{}}
	changed := func(string) { sw.check(true) }
	sw.bind = widget.NewRadioGroup([]string{bindLocal, bindLAN}, changed)
	sw.bind.Required = true
	// Bold text colour, not Fyne's warning orange (too faint on light for text).
	sw.lanWarning = widget.NewLabelWithStyle("Warning: every device on your networks can then call the gateway (and spend on "+
		"your keys) with the master key; only do this on a network you trust.", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	sw.lanWarning.Wrapping = fyne.TextWrapWord
	sw.port = widget.NewEntry()
	sw.port.OnChanged = changed
	sw.store = widget.NewCheck("Keep prompts and responses in the request log", func(bool) { sw.check(false) })
	sw.retention = widget.NewEntry()
	sw.retention.SetPlaceHolder("forever (or 30d, 12h, monthly)")
	sw.retention.OnChanged = func(string) { sw.check(false) }
	sw.alerts = widget.NewEntry()
	sw.alerts.SetPlaceHolder("default: 50, 80, 100")
	sw.alerts.OnChanged = func(string) { sw.check(false) }
	sw.proxy = widget.NewEntry()
	sw.proxy.SetPlaceHolder("none (or http://proxy.example:3128)")
	sw.proxy.OnChanged = func(string) { sw.check(false) }
	sw.ca = widget.NewEntry()
	sw.ca.SetPlaceHolder("none (a PEM file, e.g. /etc/ssl/company-ca.pem)")
	sw.ca.OnChanged = func(string) { sw.check(true) }
	var themeLabels []string
	for _, c := range themeChoices {
		themeLabels = append(themeLabels, c.label)
	}
	sw.theme = widget.NewSelect(themeLabels, func(label string) {
		for _, c := range themeChoices {
			if c.label == label && g.a.Preferences().StringWithFallback(prefTheme, "system") != c.value {
				g.a.Preferences().SetString(prefTheme, c.value)
				applyTheme(g.a, c.value)
			}
		}
	})
	for _, c := range themeChoices {
		if c.value == g.a.Preferences().StringWithFallback(prefTheme, "system") {
			sw.theme.Selected = c.label
		}
	}
	sw.openclaw = widget.NewEntry()
	sw.openclaw.SetPlaceHolder("found by OpenClaw's rules (~/.openclaw/openclaw.json)")
	sw.openclaw.OnChanged = func(string) { sw.check(true) }
	for _, f := range []string{"port", "host", "retention", "alerts", "proxy", "ca", "openclaw"} {
		l := widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		l.Wrapping = fyne.TextWrapWord
		l.Hide()
		sw.problems[f] = l
	}
	sw.save = widget.NewButton("Save", sw.doSave)
	sw.save.Importance = widget.HighImportance
	sw.save.Disable()
	sw.status = widget.NewLabel("")
	sw.status.Wrapping = fyne.TextWrapWord
	with := func(o fyne.CanvasObject, field string) fyne.CanvasObject {
		return container.NewVBox(o, sw.problems[field])
	}
	// Hints stay one short line: a wrapped label in a form is measured before its width is known
	// and overlaps the next row after a theme change.
	hint := func(s string) *widget.Label {
		return widget.NewLabelWithStyle(s, fyne.TextAlignLeading, fyne.TextStyle{Italic: true})
	}
	form := widget.NewForm(
		widget.NewFormItem("Listen on", container.NewVBox(sw.bind, sw.lanWarning, sw.problems["host"])),
		widget.NewFormItem("Port", with(sw.port, "port")),
		widget.NewFormItem("Prompts", container.NewVBox(sw.store,
			hint("Off: only model, tokens, cost and status are logged."))),
		widget.NewFormItem("Keep the log for", with(sw.retention, "retention")),
		widget.NewFormItem("Budget alerts at", container.NewVBox(sw.alerts, sw.problems["alerts"],
			hint("Percent of a budget; each sends a notification."))),
		widget.NewFormItem("Upstream proxy", with(sw.proxy, "proxy")),
		widget.NewFormItem("Extra CA file", container.NewVBox(sw.ca, sw.problems["ca"],
			hint("Trusted beside the system's, for calls to providers."))),
		widget.NewFormItem("OpenClaw's config", with(sw.openclaw, "openclaw")),
		widget.NewFormItem("Theme", sw.theme),
	)
	close := widget.NewButton("Close", sw.hide)
	sw.w.SetContent(container.NewBorder(nil, container.NewPadded(container.NewBorder(nil, nil, nil,
		container.NewHBox(close, sw.save), sw.status)), nil, nil, container.NewVScroll(container.NewPadded(form))))
	sw.w.Resize(fyne.NewSize(620, 640))
	sw.w.SetCloseIntercept(sw.hide)
	return sw
}

func (sw *settingsWindow) show() {
	sw.visible = true
	sw.w.Show()
	sw.w.RequestFocus()
	sw.read("")
}

func (sw *settingsWindow) hide() {
	sw.visible = false
	sw.w.Hide()
}

// background runs call off the Fyne goroutine, then done on it unless the app is closing.
func (sw *settingsWindow) background(call func(), done func()) {
	sw.g.jobs.Add(1)
	go func() {
		defer sw.g.jobs.Done()
		call()
		onUI(func() {
			if !sw.g.stopped.Load() {
				done()
			}
		})
	}()
}

// read fills the form from config.yaml; note, when set, is shown in the status line after.
func (sw *settingsWindow) read(note string) {
	sw.loaded = false
	sw.save.Disable()
	var s app.GatewaySettings
	var ver app.ConfigVersion
	var err error
	sw.background(func() { s, ver, err = sw.svc.Settings() }, func() {
		if err != nil {
			sw.status.SetText("Cannot read the settings: " + err.Error())
			return
		}
		sw.ver = ver
		if isLoopbackHost(s.Host) {
			sw.bind.SetSelected(bindLocal)
		} else {
			sw.bind.SetSelected(bindLAN)
		}
		sw.port.SetText(strconv.Itoa(s.Port))
		sw.store.SetChecked(s.StorePrompts)
		sw.retention.SetText(s.Retention)
		sw.alerts.SetText(s.AlertLevels)
		sw.proxy.SetText(s.HTTPSProxy)
		sw.ca.SetText(s.CAFile)
		sw.openclaw.SetText(s.OpenClawPath)
		sw.loaded = true
		sw.status.SetText(note)
		sw.check(true)
	})
}

func isLoopbackHost(h string) bool {
	return h == "" || h == "localhost" || strings.HasPrefix(h, "127.") || h == "::1"
}

// typed is the form's content as settings.
func (sw *settingsWindow) typed() app.GatewaySettings {
	host := "127.0.0.1"
	if sw.bind.Selected == bindLAN {
		host = "0.0.0.0"
	}
	port, err := strconv.Atoi(strings.TrimSpace(sw.port.Text))
	if err != nil {
		port = -1
	}
	return app.GatewaySettings{Host: host, Port: port, StorePrompts: sw.store.Checked,
		Retention: strings.TrimSpace(sw.retention.Text), AlertLevels: strings.TrimSpace(sw.alerts.Text),
		HTTPSProxy: strings.TrimSpace(sw.proxy.Text), CAFile: strings.TrimSpace(sw.ca.Text),
		OpenClawPath: strings.TrimSpace(sw.openclaw.Text)}
}

// check shows what is wrong with each field and enables Save when nothing is; with address set
// the address or a file field changed: whether the port is free and the files usable is asked
// again, in the background (a bind and disk reads).
func (sw *settingsWindow) check(address bool) {
	if !sw.loaded {
		return
	}
	s := sw.typed()
	if s.Host == "0.0.0.0" {
		sw.lanWarning.Show()
	} else {
		sw.lanWarning.Hide()
	}
	p := app.CheckSettings(s)
	if address {
		sw.portCheck++
		n := sw.portCheck
		sw.portPending = true
		var problem string
		var files app.SettingsProblems
		sw.background(func() {
			if p["port"] == "" && p["host"] == "" {
				problem = sw.svc.CheckListen(s.Host, s.Port)
			}
			files = app.CheckSettingsFiles(s)
		}, func() {
			if n != sw.portCheck {
				return // a later check is under way
			}
			sw.portPending, sw.portProblem, sw.fileProblems = false, problem, files
			sw.check(false)
		})
	}
	if !sw.portPending {
		for k, v := range sw.fileProblems {
			p[k] = v
		}
	}
	if sw.portProblem != "" && !sw.portPending && p["port"] == "" {
		if strings.Contains(sw.portProblem, "master key") {
			p["host"] = sw.portProblem
		} else {
			p["port"] = sw.portProblem
		}
	}
	for f, l := range sw.problems {
		if m := p[f]; m != "" {
			l.SetText(m)
			l.Show()
		} else {
			l.Hide()
		}
	}
	if len(p) == 0 && !sw.portPending && !sw.saving {
		sw.save.Enable()
	} else {
		sw.save.Disable()
	}
}

func (sw *settingsWindow) doSave() {
	s, ver := sw.typed(), sw.ver
	sw.saving = true
	sw.save.Disable()
	sw.status.SetText("Saving…")
	var err error
	var now app.Status
	sw.background(func() {
		ctx, cancel := context.WithTimeout(context.Background(), settingsSaveTimeout)
		defer cancel()
		err = sw.svc.SaveSettings(ctx, ver, s)
		now = sw.g.svc.Status()
	}, func() {
		sw.saving = false
		sw.g.apply(now)
		switch {
		case errors.Is(err, app.ErrConfigChanged):
			sw.read("config.yaml changed on disk meanwhile: read it again, nothing was saved. Check and save again.")
		case err != nil:
			sw.status.SetText(err.Error())
			sw.check(true)
		default:
			sw.read("Saved; in force now.")
		}
	})
}
