// Package ui is Clawgate's desktop face: the tray icon and menu, and the status window. Besides main
// it is the only package that imports Fyne. It shows what the app service reports and never talks to
// the gateway, the store or providers itself.
package ui

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/systray"

	"github.com/clawgate/clawgate/app"
)

// Identity, as in FyneApp.toml (a test keeps the two in step).
const (
	appID   = "dev.clawgate.app"
	appName = "Clawgate"
)

// Service is what the ui needs from the application service (*app.App implements it).
type Service interface {
	Status() app.Status
	// Subscribe returns status events and a func that ends the subscription.
	Subscribe() (<-chan app.Event, func())
	// ConnectOpenClaw points OpenClaw's config at the gateway; UseOpenClawModel makes model
	// OpenClaw's primary. Both block on disk and are called off the Fyne goroutine.
	ConnectOpenClaw() error
	UseOpenClawModel(model string) error
	// Activity reads the latest requests and the spend totals from the log; it blocks on disk
	// and is called off the Fyne goroutine.
	Activity(ctx context.Context, limit int) (app.Activity, error)
	// EditKey changes a virtual key's limit, reset period or blocked state (off the Fyne goroutine).
	EditKey(ctx context.Context, token string, ed app.KeyEdit) error
}

// Options tune Run. The zero value works.
type Options struct {
	// OnQuit, when set, is called once after the ui has stopped (Quit in the tray, closing the window
	// when there is no tray, SIGINT or SIGTERM) and before Run returns.
	OnQuit func()
	// OpenFolder opens a folder in the file manager (default: the desktop's URL opener on file://).
	OpenFolder func(path string) error
	// Version is shown as the app's version in builds that carry no FyneApp.toml metadata.
	Version string
	// LogTail returns the last lines of the log for the Problems view; LogPath is the log file.
	LogTail func(n int) []string
	LogPath string
	// Show receives when a second launch hands over to this one: the main window comes up.
	Show <-chan struct{}
	// Notify sends a desktop notification (default: the platform's, with the app name "Clawgate").
	Notify func(title, body string)
}

// Run shows the ui until the user quits. It must be called from the main goroutine (Fyne's rule).
func Run(svc Service, opts Options) error {
	if svc == nil {
		return errors.New("ui: no service")
	}
	// Probe before Fyne starts: Fyne itself reaches for the session bus (theme portal), and with
	// dbus-x11 installed that can auto-launch one, which would hide the fact that there was none.
	host := trayHost()

	a := fyneapp.NewWithID(appID)
	fillMetadata(a, opts.Version)
	a.SetIcon(appIcon)
	if opts.Notify == nil {
		opts.Notify = platformNotifier(a)
	}

	var t tray
	if d, ok := a.(desktop.App); ok && host == nil {
		t = systemTray{d}
	}
	g := newGUI(a, t, svc, opts)
	if host != nil {
		g.noTrayHost(host)
	}
	ig := newIdleGate(g.anyWindowOpen)
	queue := onUI
	onUI = func(f func()) { queue(f); ig.nudge() }
	g.start()
	go ig.run()
	a.Run()
	ig.close()
	g.stop()
	if opts.OnQuit != nil {
		opts.OnQuit()
	}
	return nil
}

// fillMetadata gives a plain `go build` binary what `fyne build`/`fyne package` would embed from
// FyneApp.toml (they call app.SetMetadata before main; then Name is already set and this does nothing).
func fillMetadata(a fyne.App, version string) {
	m := a.Metadata()
	if m.Name != "" {
		return
	}
	m.ID, m.Name = appID, appName
	if version != "" {
		m.Version = version
	}
	m.Icon = appIcon
	if m.Migrations == nil {
		m.Migrations = map[string]bool{}
	}
	m.Migrations["fyneDo"] = true
	fyneapp.SetMetadata(m)
}

// tray is the part of desktop.App the ui uses; nil when there is no tray host.
type tray interface {
	SetSystemTrayMenu(menu *fyne.Menu)
	SetSystemTrayIcon(icon fyne.Resource)
}

// onUI hands f to the Fyne goroutine: every background goroutine in this package touches widgets
// only through it. It is fyne.Do; tests that read widgets while background reads land swap it for a
// queue they run on their own goroutine (fyne/test runs fyne.Do inline on the calling goroutine,
// which would race with the test's reads).
var onUI = fyne.Do

// tooltipTray is a tray that can show a tooltip.
type tooltipTray interface {
	SetTooltip(text string)
}

// systemTray is Fyne's tray with a tooltip: desktop.App has none, so it is set on the tray item
// through fyne.io/systray, which Fyne's tray runs on (hosts that show tooltips show it on hover).
type systemTray struct{ desktop.App }

func (systemTray) SetTooltip(text string) { systray.SetTooltip(text) }

// gui ties the app service to the tray and the status window. Its fields are only touched on the
// Fyne goroutine; events arrive on another goroutine and are handed over through fyne.Do.
type gui struct {
	a    fyne.App
	tray tray
	svc  Service
	opts Options
	// The windows, nil until first needed: use mainWin, activityWin, problemsWin, settingsWin and
	// wizardWin (windows.go), which build them.
	win  *statusWindow
	reqs *activityWindow
	prob *problemsWindow
	sets *settingsWindow
	wiz  *wizardWindow
	team *teamWindow
	// hasSettings, hasWizard and hasTeam say whether the service has the calls those windows need.
	hasSettings, hasWizard, hasTeam bool

	// notified holds the IDs of the problems present at the last apply: a notification goes out
	// for each new one, once (not per request), and again only after it went away and came back.
	notified map[string]bool
	// keyringAck is set by "Keep running loopback-only": the keyring problem stays listed but no
	// longer brings the Problems window up.
	keyringAck bool
	// quit ends the app (fyne.App.Quit; tests record it).
	quit func()
	// login is the service's start-at-login switch, nil when it has none.
	login loginSwitch
	// previous is the model OpenClaw used before the last switch from the tray ("Back to" it).
	previous string

	status   app.Status
	menu     []item    // last model sent to the tray, to skip identical rebuilds
	icon     iconState // last icon sent to the tray
	iconSent bool
	tip      string // the tooltip last set

	events     <-chan app.Event
	cancel     func() // ends the subscription
	stopEvents func() // ends the goroutine that follows events
	// stopped is set as the app shuts down: Fyne then runs fyne.Do callbacks inline on the calling
	// goroutine, and the tray they would touch is already gone.
	stopped atomic.Bool
	// jobs counts service calls running in the background (tests wait on it).
	jobs sync.WaitGroup
}

func newGUI(a fyne.App, t tray, svc Service, opts Options) *gui {
	g := &gui{a: a, tray: t, svc: svc, opts: opts, quit: a.Quit}
	g.login, _ = svc.(loginSwitch)
	if choice := a.Preferences().String(prefTheme); choice != "" {
		applyTheme(a, choice) // the Settings window's choice; unset follows the system
	}
	g.keyringAck = a.Preferences().Bool(prefKeyringAck)
	_, g.hasSettings = svc.(settingsService)
	_, g.hasWizard = svc.(wizardService)
	_, g.hasTeam = svc.(teamService)
	// No window is built here (windows.go): a tray app nobody opens keeps Fyne's fonts out of memory.
	// Subscribe before reading the status, so no change falls between the two.
	g.events, g.cancel = svc.Subscribe()
	s := svc.Status()
	g.apply(s)
	if s.Team.Joined() && g.hasTeam {
		g.teamWin().refreshNow() // once, for the tray's Team line; then only while the Team window shows
	}
	switch {
	case s.FirstRun && g.hasWizard:
		g.wizardWin().show() // no config.yaml before this start: set up in a few steps
		if t == nil {
			g.mainWin().show() // without a tray, the window that quits must be there too
		}
	case t == nil || s.FirstRun:
		g.mainWin().show()
	}
	return g
}

// start follows the service's events until stop.
func (g *gui) start() {
	done := make(chan struct{})
	finished := make(chan struct{})
	g.a.Lifecycle().SetOnStopped(func() { g.stopped.Store(true) })
	if g.opts.Show != nil {
		g.jobs.Add(1)
		go func() {
			defer g.jobs.Done()
			for {
				select {
				case <-done:
					return
				case _, ok := <-g.opts.Show:
					if !ok {
						return
					}
					onUI(func() {
						if !g.stopped.Load() {
							g.mainWin().show()
						}
					})
				}
			}
		}()
	}
	go func() {
		defer close(finished)
		coalesce(g.events, done, refreshEvery, func(s app.Status) {
			onUI(func() {
				if !g.stopped.Load() {
					g.apply(s)
				}
			})
		}, func(al app.Alert) {
			onUI(func() {
				if !g.stopped.Load() {
					g.notify(al)
				}
			})
		})
	}()
	g.stopEvents = func() {
		close(done)
		<-finished
	}
}

func (g *gui) stop() {
	g.stopped.Store(true)
	if g.team != nil {
		g.team.stopTicking()
	}
	if g.stopEvents != nil {
		g.stopEvents()
		g.stopEvents = nil
	}
	if g.cancel != nil {
		g.cancel()
		g.cancel = nil
	}
}

// notify shows a budget alert as a native notification; call on the Fyne goroutine.
func (g *gui) notify(al app.Alert) { g.send(al.Title, al.Message) }

// send posts a desktop notification.
func (g *gui) send(title, body string) {
	if g.opts.Notify != nil {
		g.opts.Notify(title, body)
		return
	}
	g.a.SendNotification(fyne.NewNotification(title, body))
}

// apply shows s everywhere; call on the Fyne goroutine.
func (g *gui) apply(s app.Status) {
	g.status = s
	if g.win != nil { // an unbuilt window reads the status when it is built
		g.win.update(s)
	}
	if g.prob != nil && g.prob.visible {
		g.prob.update(s)
	}
	if g.team != nil && g.team.visible {
		g.team.update(s)
	}
	g.announce(s.Problems())
	if g.tray == nil {
		return
	}
	x := menuExtras{previous: g.previous, settings: g.hasSettings, wizard: g.hasWizard, team: g.hasTeam}
	if g.login != nil {
		on := g.login.StartAtLogin()
		x.login = &on
	}
	if m := menuFor(s, x); !equalItems(m, g.menu) {
		g.menu = m
		g.tray.SetSystemTrayMenu(g.fyneMenu(m))
	}
	if ic := iconFor(s); !g.iconSent || ic != g.icon {
		g.icon, g.iconSent = ic, true
		g.tray.SetSystemTrayIcon(trayResource(ic))
	}
	if tt, ok := g.tray.(tooltipTray); ok {
		if tip := tooltip(s); tip != g.tip {
			g.tip = tip
			tt.SetTooltip(tip)
		}
	}
}

// fyneMenu turns the model into a Fyne menu. The last item is marked IsQuit so Fyne's tray does not
// append a second Quit.
func (g *gui) fyneMenu(items []item) *fyne.Menu {
	return fyne.NewMenu(appName, g.fyneItems(items)...)
}

func (g *gui) fyneItems(items []item) []*fyne.MenuItem {
	out := make([]*fyne.MenuItem, 0, len(items))
	for _, it := range items {
		if it.Separator {
			out = append(out, fyne.NewMenuItemSeparator())
			continue
		}
		mi := fyne.NewMenuItem(it.Label, g.handler(it))
		mi.Disabled = it.Disabled
		mi.Checked = it.Checked
		mi.IsQuit = it.Action == actQuit
		if len(it.Children) > 0 {
			mi.ChildMenu = fyne.NewMenu("", g.fyneItems(it.Children)...)
		}
		out = append(out, mi)
	}
	return out
}

func (g *gui) handler(it item) func() {
	switch it.Action {
	case actCopyURL:
		return g.copyURL
	case actOpenFolder:
		return g.openFolder
	case actShowStatus:
		return func() { g.mainWin().show() }
	case actShowRequests:
		return func() { g.activityWin().show(tabRequests) }
	case actShowBudgets:
		return func() { g.activityWin().show(tabBudgets) }
	case actShowRoutes:
		return func() { g.activityWin().show(tabRoutes) }
	case actShowProblems:
		return func() { g.problemsWin().show() }
	case actStartAtLogin:
		return g.toggleLogin
	case actQuit:
		return g.a.Quit
	case actConnectOpenClaw:
		return g.connectOpenClaw
	case actUseOpenClaw:
		model := it.Arg
		return func() { g.useOpenClaw(model) }
	case actShowSettings:
		return func() { g.settingsWin().show() }
	case actShowWizard:
		return func() { g.wizardWin().show() }
	case actUseBackend:
		arg := it.Arg
		return func() { g.useBackend(arg) }
	case actShowTeam:
		return func() { g.teamWin().show() }
	case actUseTeam:
		return func() { g.teamWin().switchTo(true) }
	case actUseLocal:
		return func() { g.teamWin().switchTo(false) }
	case actLeaveTeam:
		return func() { tw := g.teamWin(); tw.show(); tw.confirmLeave() }
	}
	return nil
}

// connectOpenClaw runs on the Fyne goroutine; the edit runs beside it and reports by notification.
func (g *gui) connectOpenClaw() {
	g.background(g.svc.ConnectOpenClaw, "OpenClaw connected", "OpenClaw now uses this gateway.", "OpenClaw not connected")
}

// useOpenClaw checks model at once (the tray has no radio items: flip Checked and rebuild) and
// switches OpenClaw in the background; on failure the service's status puts the check back.
func (g *gui) useOpenClaw(model string) {
	s := g.status
	if m := currentModel(s); m != "" && m != model {
		g.previous = m
	}
	s.OpenClaw.Primary, s.OpenClaw.Err = openClawRef(model), ""
	g.apply(s)
	g.background(func() error { return g.svc.UseOpenClawModel(model) },
		"OpenClaw model", "OpenClaw now uses "+model+".", "OpenClaw model not changed")
}

// background runs call off the Fyne goroutine, then notifies the result and shows the service's
// status (which a failed call may not have published).
func (g *gui) background(call func() error, okTitle, okText, failTitle string) {
	g.run(call, okTitle, okText, failTitle, nil)
}

// run is background for a call made from a window: a failure is shown there as a dialog (its
// message says what to do, too long for a notification), a success as a notification.
func (g *gui) run(call func() error, okTitle, okText, failTitle string, win fyne.Window) {
	g.jobs.Add(1)
	go func() {
		defer g.jobs.Done()
		err := call()
		s := g.svc.Status()
		onUI(func() {
			if g.stopped.Load() {
				return
			}
			g.apply(s)
			switch {
			case err != nil && win != nil:
				dialog.ShowError(fmt.Errorf("%s: %w", failTitle, err), win)
			case err != nil:
				g.send(failTitle, err.Error())
			default:
				g.send(okTitle, okText)
			}
		})
	}()
}

func (g *gui) copyURL() {
	if u := baseURL(g.status); u != "" {
		g.a.Clipboard().SetContent(u)
	}
}

func (g *gui) copySnippet() {
	g.a.Clipboard().SetContent(openClawSnippet(g.status))
}

func (g *gui) openFolder() {
	if g.status.ConfigPath == "" {
		return
	}
	w := g.mainWin()
	w.show()
	g.openPath(filepath.Dir(g.status.ConfigPath), w.w)
}

func equalItems(a, b []item) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if x.Label != y.Label || x.Disabled != y.Disabled || x.Checked != y.Checked || x.Action != y.Action || x.Arg != y.Arg ||
			x.Separator != y.Separator || !equalItems(x.Children, y.Children) {
			return false
		}
	}
	return true
}
