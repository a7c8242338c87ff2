package ui

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/clawgate/clawgate/app"
)

// announce notifies each problem that is new since the last apply, once, and brings the Problems
// window up for the ones that need the user to act (a broken config, a locked keyring). Budget
// problems are left to the ledger's own alerts, which already name the threshold crossed.
func (g *gui) announce(ps []app.Problem) {
	now := make(map[string]bool, len(ps))
	show := false
	for _, p := range ps {
		now[p.ID] = true
		if g.notified[p.ID] || strings.HasPrefix(p.ID, "budget:") {
			continue
		}
		g.send(p.Title, notificationText(p))
		if strings.HasPrefix(p.ID, "config:") && p.Severity == app.SevError || p.ID == "keyring" && !g.keyringAck {
			show = true
		}
	}
	g.notified = now
	if show && !g.stopped.Load() {
		g.problemsWin().show()
	}
}

// notificationText is the body of a problem's notification: where it is and the start of what it
// means (notification daemons cut long bodies anyway).
func notificationText(p app.Problem) string {
	body := p.Detail
	if loc := location(p); loc != "" {
		body = loc + "\n" + body
	}
	const max = 300
	if r := []rune(body); len(r) > max {
		body = string(r[:max-1]) + "…"
	}
	return body
}

// openPath opens a file or folder with the desktop's opener (Options.OpenFolder in tests). Where
// that fails (no xdg-open, or one that cannot open folders) it says so in win and offers the path
// to copy, rather than doing nothing.
func (g *gui) openPath(path string, win fyne.Window) {
	open := g.opts.OpenFolder
	if open == nil {
		open = func(p string) error { return g.a.OpenURL(&url.URL{Scheme: "file", Path: p}) }
	}
	if err := open(path); err != nil {
		g.showPath(path, err, win)
	}
}

// showPath is openPath's fallback: the path, selectable, with a Copy button.
func (g *gui) showPath(path string, cause error, win fyne.Window) {
	msg := widget.NewLabel(fmt.Sprintf("Could not open it here (%v). Open it yourself:", cause))
	msg.Wrapping = fyne.TextWrapWord
	p := widget.NewLabelWithStyle(path, fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})
	p.Selectable = true
	p.Wrapping = fyne.TextWrapBreak
	copyBtn := widget.NewButtonWithIcon("Copy path", theme.ContentCopyIcon(), func() { g.a.Clipboard().SetContent(path) })
	d := dialog.NewCustom("Open "+path, "Close", container.NewVBox(msg, p, container.NewHBox(copyBtn)), win)
	d.Resize(fyne.NewSize(520, 200))
	d.Show()
}

// noTrayHostText is said once when the desktop has no tray host.
const noTrayHostText = "Your desktop shows no tray icons, so Clawgate keeps this window as its face " +
	"(closing it asks whether to quit). On GNOME, install the \"AppIndicator and KStatusNotifierItem Support\" " +
	"extension (Debian/Ubuntu: gnome-shell-extension-appindicator), log out and in, and the icon appears."

// noTrayHost is the face of an app without a tray: the main window stays up, and the user is told
// once why and how to get a tray.
func (g *gui) noTrayHost(why error) {
	win := g.mainWin()
	win.show()
	g.send("Clawgate has no tray icon here", noTrayHostText)
	d := dialog.NewInformation("No system tray", noTrayHostText+"\n\n("+why.Error()+")", win.w)
	d.Resize(fyne.NewSize(520, 260))
	d.Show()
}

// confirmQuit is the main window's close button when there is no tray: closing it would leave the
// gateway running with nothing on screen, so ask.
func (g *gui) confirmQuit() {
	d := dialog.NewConfirm("Quit Clawgate?", "Without a tray icon this window is Clawgate's only face.\nQuitting stops the gateway; clients using it will fail.",
		func(quit bool) {
			if quit {
				g.quit()
			}
		}, g.mainWin().w)
	d.SetConfirmText("Quit")
	d.SetDismissText("Keep running")
	d.Show()
}

// errNoWatcher says the session bus has no tray host.
var errNoWatcher = errors.New("no org.kde.StatusNotifierWatcher on the session bus")

// loginSwitch is the service's "Start at login" (*app.App has it).
type loginSwitch interface {
	StartAtLogin() bool
	SetStartAtLogin(on bool) error
}

// toggleLogin flips "Start at login"; the menu shows the state read back from the desktop.
func (g *gui) toggleLogin() {
	on := !g.login.StartAtLogin()
	title := "Clawgate will start at login"
	if !on {
		title = "Clawgate will not start at login"
	}
	g.background(func() error { return g.login.SetStartAtLogin(on) }, title, "", "Start at login not changed")
}
