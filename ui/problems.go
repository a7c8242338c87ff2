package ui

import (
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/clawgate/clawgate/app"
)

// lifecycle is what the Problems view asks of the service besides Service: *app.App has it; a
// service without it (an older fake) gets the view without the buttons.
type lifecycle interface {
	// Reload re-reads the config file (Retry).
	Reload() error
	// RetryKeyring asks the keychain again for the master key (Unlock): the Secret Service shows
	// its own unlock prompt.
	RetryKeyring() error
	// SetMasterKey stores a master key in the keychain and puts it in force.
	SetMasterKey(key string) error
}

// prefKeyringAck is the preference set by "Keep running loopback-only".
const prefKeyringAck = "keyring.loopbackOnlyAccepted"

// logLines is how much of the log the Problems view shows.
const logLines = 200

// problemsWindow lists the current problems, each with what can be done about it here, and the
// tail of the log. It is rebuilt when it opens and when the status changes while it is open.
type problemsWindow struct {
	g       *gui
	w       fyne.Window
	visible bool
	list    *fyne.Container
	log     *widget.Label
	logPath *widget.Label
}

func newProblemsWindow(g *gui) *problemsWindow {
	pw := &problemsWindow{g: g, w: g.a.NewWindow("Clawgate: problems and log"), list: container.NewVBox(),
		log:     widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Monospace: true}),
		logPath: widget.NewLabel("")}
	pw.log.Selectable = true
	pw.log.Wrapping = fyne.TextWrapBreak
	pw.logPath.Wrapping = fyne.TextWrapBreak
	top := container.NewVBox(widget.NewLabelWithStyle("Problems", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), pw.list)
	bottom := container.NewBorder(container.NewVBox(widget.NewSeparator(),
		widget.NewLabelWithStyle("Log", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), pw.logPath), nil, nil, nil,
		container.NewVScroll(pw.log))
	split := container.NewVSplit(container.NewVScroll(top), bottom)
	split.Offset = 0.6
	pw.w.SetContent(container.NewPadded(split))
	pw.w.Resize(fyne.NewSize(800, 660))
	pw.w.SetCloseIntercept(pw.hide)
	return pw
}

func (pw *problemsWindow) show() {
	pw.update(pw.g.status)
	pw.visible = true
	pw.w.Show()
	pw.w.RequestFocus()
}

func (pw *problemsWindow) hide() {
	pw.visible = false
	pw.w.Hide()
}

// update redraws the window for s; call on the Fyne goroutine.
func (pw *problemsWindow) update(s app.Status) {
	pw.list.RemoveAll()
	ps := s.Problems()
	if len(ps) == 0 {
		pw.list.Add(widget.NewLabel("Nothing is wrong: " + statusLine(s) + "."))
	}
	for _, p := range ps {
		pw.list.Add(pw.card(p))
	}
	pw.list.Refresh()
	if pw.g.opts.LogPath != "" {
		pw.logPath.SetText("Also in " + pw.g.opts.LogPath + " (rotated at 5 MB, 3 files kept).")
	}
	var lines []string
	if pw.g.opts.LogTail != nil {
		lines = pw.g.opts.LogTail(logLines)
	}
	if len(lines) == 0 {
		pw.log.SetText("(nothing logged yet)")
	} else {
		pw.log.SetText(strings.Join(lines, "\n"))
	}
}

// card is one problem: its title, where it is, what it means, and the buttons that act on it.
func (pw *problemsWindow) card(p app.Problem) fyne.CanvasObject {
	title := widget.NewLabelWithStyle(p.Title, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	title.Wrapping = fyne.TextWrapWord
	title.Importance = problemImportance(p)
	box := container.NewVBox(title)
	if loc := location(p); loc != "" {
		l := widget.NewLabelWithStyle(loc, fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})
		l.Selectable = true
		l.Wrapping = fyne.TextWrapBreak
		box.Add(l)
	}
	if p.Detail != "" && p.Detail != p.Title {
		d := widget.NewLabel(p.Detail)
		d.Wrapping = fyne.TextWrapWord
		d.Selectable = true
		box.Add(d)
	}
	if btns := pw.buttons(p); len(btns) > 0 {
		box.Add(container.NewHBox(btns...))
	}
	box.Add(widget.NewSeparator())
	return box
}

// problemImportance colours a problem's title: red for what stops or refuses requests, amber else.
func problemImportance(p app.Problem) widget.Importance {
	if p.Severity >= app.SevBlocked {
		return widget.DangerImportance
	}
	return widget.WarningImportance
}

// location is "File: path, line N, key K" for a config problem, "" otherwise.
func location(p app.Problem) string {
	if p.File == "" {
		return ""
	}
	loc := "File: " + p.File
	if p.Line > 0 {
		loc += fmt.Sprintf(", line %d", p.Line)
	}
	if p.Key != "" {
		loc += ", key " + p.Key
	}
	return loc
}

func (pw *problemsWindow) buttons(p app.Problem) []fyne.CanvasObject {
	lc, ok := pw.g.svc.(lifecycle)
	switch {
	case strings.HasPrefix(p.ID, "config:"):
		out := []fyne.CanvasObject{widget.NewButtonWithIcon("Open file", theme.DocumentIcon(), func() { pw.g.openPath(p.File, pw.w) })}
		if ok {
			out = append(out, widget.NewButtonWithIcon("Retry", theme.ViewRefreshIcon(), func() {
				pw.g.run(lc.Reload, "Config applied", "The config file is in force.", "Config still not applied", pw.w)
			}))
		}
		return out
	case p.ID == "keyring" && ok:
		return []fyne.CanvasObject{
			widget.NewButtonWithIcon("Unlock", theme.VisibilityIcon(), func() {
				pw.g.run(lc.RetryKeyring, "Keyring unlocked", "The master key is in force.", "Keyring still locked", pw.w)
			}),
			widget.NewButtonWithIcon("Set a master key…", theme.AccountIcon(), func() { pw.askMasterKey(lc) }),
			widget.NewButton("Keep running loopback-only", func() {
				// Remembered across launches: a machine with no keyring would otherwise ask every time.
				pw.g.keyringAck = true
				pw.g.a.Preferences().SetBool(prefKeyringAck, true)
				pw.hide()
			}),
		}
	}
	return nil
}

// askMasterKey asks for a key (hidden as typed) and stores it; where there is no keyring the
// service's error says where else a key can come from.
func (pw *problemsWindow) askMasterKey(lc lifecycle) {
	entry := widget.NewPasswordEntry()
	entry.SetPlaceHolder("sk-...")
	note := widget.NewLabel("Clients then send it as their API key (Bearer). It is kept in the OS keyring, never in a file.")
	note.Wrapping = fyne.TextWrapWord
	d := dialog.NewForm("Set a master key", "Set", "Cancel",
		[]*widget.FormItem{widget.NewFormItem("Master key", entry), widget.NewFormItem("", note)},
		func(ok bool) {
			if !ok {
				return
			}
			key := entry.Text
			pw.g.run(func() error { return lc.SetMasterKey(key) }, "Master key set", "Clients now need it.", "Master key not set", pw.w)
		}, pw.w)
	d.Resize(fyne.NewSize(520, 240))
	d.Show()
}
