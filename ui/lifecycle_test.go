package ui

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/clawgate/clawgate/app"
	"github.com/clawgate/clawgate/proxy/config"
)

// lifeService is a fakeService with the Problems view's lifecycle calls.
type lifeService struct {
	*fakeService
	lifeErr error // what Reload, RetryKeyring and SetMasterKey return
}

func (l *lifeService) record(call string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, call)
	return l.lifeErr
}

func (l *lifeService) Reload() error                 { return l.record("reload") }
func (l *lifeService) RetryKeyring() error           { return l.record("unlock") }
func (l *lifeService) SetMasterKey(key string) error { return l.record("set-master " + key) }

// notes records notifications in order (Fyne's test app keeps only the last one).
type notes struct {
	mu   sync.Mutex
	sent []string
}

func (n *notes) notify(title, _ string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.sent = append(n.sent, title)
}

func (n *notes) titles() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.sent...)
}

// overlayLabels are the labels of the dialogs shown over w.
func overlayLabels(w fyne.Window) []string {
	var out []string
	for _, o := range w.Canvas().Overlays().List() {
		out = append(out, labels(o)...)
	}
	return out
}

func overlayButton(t *testing.T, w fyne.Window, text string) *widget.Button {
	t.Helper()
	for _, o := range w.Canvas().Overlays().List() {
		for _, obj := range test.LaidOutObjects(o) {
			if b, ok := obj.(*widget.Button); ok && b.Text == text {
				return b
			}
		}
	}
	t.Fatalf("no dialog button %q", text)
	return nil
}

func contains(list []string, sub string) bool {
	return slices.ContainsFunc(list, func(s string) bool { return strings.Contains(s, sub) })
}

var brokenAt3 = &config.Error{File: "/home/u/.config/clawgate/config.yaml", Line: 3, Key: "model_list[0].litellm_params.model", Message: "required"}

func TestBrokenConfigAtLaunchShowsWhereAndRetries(t *testing.T) {
	a := test.NewTempApp(t)
	tr := newFakeTray()
	s := app.Status{ConfigPath: brokenAt3.File, ConfigErr: brokenAt3}
	svc := &lifeService{fakeService: newFakeService(s)}
	var n notes
	var opened []string
	g := newGUI(a, tr, svc, Options{Notify: n.notify, OpenFolder: func(p string) error { opened = append(opened, p); return nil }})

	if icon := receive(t, tr.icons, "tray icon"); icon != trayResource(iconError) {
		t.Errorf("icon %s, want error", icon.Name())
	}
	m := receive(t, tr.menus, "tray menu")
	if first := m.Items[0]; first.Label != "Config broken: not serving" || first.Disabled {
		t.Errorf("first menu line %q disabled=%v", first.Label, first.Disabled)
	}
	if got := n.titles(); fmt.Sprint(got) != "[Config broken: not serving]" {
		t.Errorf("notifications %q", got)
	}
	if !g.problemsWin().visible {
		t.Fatal("the Problems window did not come up for a broken config")
	}
	content := g.problemsWin().w.Content()
	if want := "File: /home/u/.config/clawgate/config.yaml, line 3, key model_list[0].litellm_params.model"; !contains(labels(content), want) {
		t.Errorf("no %q in %q", want, labels(content))
	}
	test.Tap(button(t, content, "Open file"))
	if fmt.Sprint(opened) != "["+brokenAt3.File+"]" {
		t.Errorf("opened %q", opened)
	}
	test.Tap(button(t, content, "Retry"))
	g.jobs.Wait()
	if got := svc.called(); fmt.Sprint(got) != "[reload]" {
		t.Errorf("service calls %q", got)
	}

	// The same problem again (a status event per request) does not notify again; a new one does.
	g.apply(s)
	s2 := s
	s2.ConfigErr = &config.Error{File: brokenAt3.File, Line: 9, Key: "router_settings", Message: "bad"}
	g.apply(s2)
	if got := n.titles(); fmt.Sprint(got) != "[Config broken: not serving Config applied Config broken: not serving]" {
		t.Errorf("notifications %q, want one per new problem (and Retry's answer)", got)
	}
	// A failed Retry says why in the window.
	svc.lifeErr = errors.New("config.yaml:3: still broken")
	test.Tap(button(t, g.problemsWin().w.Content(), "Retry"))
	g.jobs.Wait()
	if !contains(overlayLabels(g.problemsWin().w), "still broken") {
		t.Errorf("no error dialog: %q", overlayLabels(g.problemsWin().w))
	}
}

func TestBrokenConfigOnReloadWarns(t *testing.T) {
	a := test.NewTempApp(t)
	tr := newFakeTray()
	s := running
	s.ConfigErr, s.Err = brokenAt3, fmt.Errorf("config not reloaded, the previous one stays in force: %w", brokenAt3)
	var n notes
	g := newGUI(a, tr, &lifeService{fakeService: newFakeService(s)}, Options{Notify: n.notify})
	if icon := receive(t, tr.icons, "tray icon"); icon != trayResource(iconWarn) {
		t.Errorf("icon %s, want warn", icon.Name())
	}
	m := receive(t, tr.menus, "tray menu")
	if first := m.Items[0]; first.Label != "Config change not applied: the previous config stays in force" {
		t.Errorf("first menu line %q", first.Label)
	}
	if got := n.titles(); len(got) != 1 {
		t.Errorf("notifications %q", got)
	}
	// A warning is told, not pushed: the window stays closed until asked for.
	if g.problemsWin().visible {
		t.Error("Problems window opened for a reload that kept the old config")
	}
	menuItem(t, m, "Problems and log…").Action()
	if !g.problemsWin().visible || !contains(labels(g.problemsWin().w.Content()), "line 3") {
		t.Errorf("Problems and log… shows %q", labels(g.problemsWin().w.Content()))
	}
}

func TestUnresolvedKeyIsNamed(t *testing.T) {
	a := test.NewTempApp(t)
	tr := newFakeTray()
	s := running
	s.KeyProblems = []string{"model_list[0] (gpt-4o).api_key: keychain/openai: secret not found in keyring; store it with `clawgate keys set openai`"}
	var n notes
	g := newGUI(a, tr, newFakeService(s), Options{Notify: n.notify})
	if icon := receive(t, tr.icons, "tray icon"); icon != trayResource(iconWarn) {
		t.Errorf("icon %s, want warn", icon.Name())
	}
	if first := receive(t, tr.menus, "tray menu").Items[0]; first.Label != "No API key for route gpt-4o" {
		t.Errorf("first menu line %q", first.Label)
	}
	if got := n.titles(); fmt.Sprint(got) != "[No API key for route gpt-4o]" {
		t.Errorf("notifications %q", got)
	}
	g.problemsWin().show()
	if !contains(labels(g.problemsWin().w.Content()), "clawgate keys set openai") {
		t.Errorf("Problems window: %q", labels(g.problemsWin().w.Content()))
	}
}

func TestKeyringLockedAsksToUnlockOrSetAKey(t *testing.T) {
	a := test.NewTempApp(t)
	tr := newFakeTray()
	s := running
	s.Auth, s.KeyringErr = "off", errors.New("keychain unavailable: the Secret Service has no unlocked default keyring")
	svc := &lifeService{fakeService: newFakeService(s)}
	var n notes
	g := newGUI(a, tr, svc, Options{Notify: n.notify})

	if icon := receive(t, tr.icons, "tray icon"); icon != trayResource(iconWarn) {
		t.Errorf("icon %s, want warn: the gateway must not look fine without a master key", icon.Name())
	}
	if first := receive(t, tr.menus, "tray menu").Items[0]; first.Label != "Keyring locked or absent: no master key" {
		t.Errorf("first menu line %q", first.Label)
	}
	if got := n.titles(); fmt.Sprint(got) != "[Keyring locked or absent: no master key]" {
		t.Errorf("notifications %q", got)
	}
	if !g.problemsWin().visible {
		t.Fatal("the tray ran open silently: no window asking to unlock")
	}
	content := g.problemsWin().w.Content()
	test.Tap(button(t, content, "Unlock"))
	g.jobs.Wait()

	// Set a master key: a hidden entry, then the service stores it.
	test.Tap(button(t, content, "Set a master key…"))
	var entry *widget.Entry
	for _, o := range g.problemsWin().w.Canvas().Overlays().List() {
		for _, obj := range test.LaidOutObjects(o) {
			if e, ok := obj.(*widget.Entry); ok {
				entry = e
			}
		}
	}
	if entry == nil || !entry.Password {
		t.Fatalf("no hidden entry for the key: %v", entry)
	}
	test.Type(entry, "sk-my-own-master-key")
	svc.lifeErr = errors.New("no keyring to keep the master key in. Set LITELLM_MASTER_KEY in the environment")
	test.Tap(overlayButton(t, g.problemsWin().w, "Set"))
	g.jobs.Wait()
	if got := svc.called(); fmt.Sprint(got) != "[unlock set-master sk-my-own-master-key]" {
		t.Errorf("service calls %q", got)
	}
	if !contains(overlayLabels(g.problemsWin().w), "LITELLM_MASTER_KEY") {
		t.Errorf("no explanation when the key cannot be kept: %q", overlayLabels(g.problemsWin().w))
	}

	// Keep running loopback-only: the window goes and does not come back for the same problem.
	test.Tap(button(t, content, "Keep running loopback-only"))
	if g.problemsWin().visible {
		t.Error("window still up")
	}
	g.apply(s)
	if g.problemsWin().visible {
		t.Error("window came back after the user chose loopback-only")
	}
	// Nor at the next launch (same preferences): told by notification only.
	var n2 notes
	g2 := newGUI(a, newFakeTray(), &lifeService{fakeService: newFakeService(s)}, Options{Notify: n2.notify})
	if g2.problemsWin().visible || len(n2.titles()) != 1 {
		t.Errorf("next launch: window %v, notifications %q", g2.problemsWin().visible, n2.titles())
	}
}

func TestNoTrayHostKeepsAWindowAndAsksBeforeQuitting(t *testing.T) {
	a := test.NewTempApp(t)
	var n notes
	g := newGUI(a, nil, newFakeService(running), Options{Notify: n.notify})
	g.noTrayHost(errNoWatcher)
	if !g.mainWin().visible {
		t.Fatal("no window without a tray")
	}
	if got := n.titles(); fmt.Sprint(got) != "[Clawgate has no tray icon here]" {
		t.Errorf("notifications %q", got)
	}
	if !contains(overlayLabels(g.mainWin().w), "AppIndicator") {
		t.Errorf("the notice does not say how to get a tray: %q", overlayLabels(g.mainWin().w))
	}
	test.Tap(overlayButton(t, g.mainWin().w, "OK"))

	quit := make(chan struct{}, 1)
	g.quit = func() { quit <- struct{}{} }
	g.confirmQuit()
	if !contains(overlayLabels(g.mainWin().w), "Quitting stops the gateway") {
		t.Fatalf("no question before quitting: %q", overlayLabels(g.mainWin().w))
	}
	test.Tap(overlayButton(t, g.mainWin().w, "Keep running"))
	if !g.mainWin().visible || len(quit) > 0 {
		t.Error("Keep running hid the window or quit")
	}
	g.confirmQuit()
	test.Tap(overlayButton(t, g.mainWin().w, "Quit"))
	select {
	case <-quit:
	default:
		t.Error("Quit did not stop the app")
	}
}

// loginService is a fakeService with a start-at-login switch.
type loginService struct {
	*fakeService
	on bool
}

func (l *loginService) StartAtLogin() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.on
}

func (l *loginService) SetStartAtLogin(on bool) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.on = on
	return nil
}

func TestStartAtLoginToggles(t *testing.T) {
	a := test.NewTempApp(t)
	tr := newFakeTray()
	svc := &loginService{fakeService: newFakeService(running)}
	var n notes
	g := newGUI(a, tr, svc, Options{Notify: n.notify})
	it := menuItem(t, receive(t, tr.menus, "tray menu"), "Start at login")
	if it.Checked {
		t.Fatal("checked while off")
	}
	it.Action()
	g.jobs.Wait()
	if !svc.StartAtLogin() || !menuItem(t, receive(t, tr.menus, "menu after the click"), "Start at login").Checked {
		t.Fatal("not switched on, or the menu does not show it")
	}
	if got := n.titles(); fmt.Sprint(got) != "[Clawgate will start at login]" {
		t.Errorf("notifications %q", got)
	}
	// A service without the switch gets no item.
	tr2 := newFakeTray()
	newGUI(test.NewTempApp(t), tr2, newFakeService(running), Options{})
	for _, it := range receive(t, tr2.menus, "menu").Items {
		if it.Label == "Start at login" {
			t.Error("Start at login offered by a service that cannot")
		}
	}
}

func TestOpenFolderFallbackOffersThePath(t *testing.T) {
	a := test.NewTempApp(t)
	g := newGUI(a, newFakeTray(), newFakeService(running), Options{OpenFolder: func(string) error { return errors.New("xdg-open cannot open folders") }})
	g.openFolder()
	if !g.mainWin().visible || !contains(overlayLabels(g.mainWin().w), "/home/u/.config/clawgate") {
		t.Fatalf("no path shown: %q", overlayLabels(g.mainWin().w))
	}
	test.Tap(overlayButton(t, g.mainWin().w, "Copy path"))
	if got := a.Clipboard().Content(); got != "/home/u/.config/clawgate" {
		t.Errorf("clipboard %q", got)
	}
}

func TestBackToPreviousModelAndTooltip(t *testing.T) {
	s := running
	s.OpenClaw = app.OpenClawState{Connected: true, Primary: "litellm/claude-sonnet"}
	s.Budget.Line = "Today $1.84"
	if got := tooltip(s); got != "Clawgate: Gateway running on 127.0.0.1:4000\nToday $1.84\nModel: claude-sonnet" {
		t.Errorf("tooltip %q", got)
	}
	m := menuFor(s, menuExtras{previous: "gpt-4o"})
	var oc item
	for _, it := range m {
		if strings.HasPrefix(it.Label, "OpenClaw") {
			oc = it
		}
	}
	if oc.Label != "OpenClaw: claude-sonnet" {
		t.Fatalf("submenu title %q", oc.Label)
	}
	last := oc.Children[len(oc.Children)-1]
	if last.Label != "Back to gpt-4o" || last.Action != actUseOpenClaw || last.Arg != "gpt-4o" {
		t.Errorf("last OpenClaw item %+v", last)
	}
	// No way back to the model in use, or to one no longer served.
	for _, prev := range []string{"claude-sonnet", "gone-model"} {
		for _, it := range menuFor(s, menuExtras{previous: prev}) {
			for _, c := range it.Children {
				if strings.HasPrefix(c.Label, "Back to") {
					t.Errorf("previous %q: offered %q", prev, c.Label)
				}
			}
		}
	}
}

func TestSwitchRemembersThePreviousModel(t *testing.T) {
	a := test.NewTempApp(t)
	tr := newFakeTray()
	s := running
	s.OpenClaw = app.OpenClawState{Connected: true, Primary: "litellm/gpt-4o"}
	svc := newFakeService(s)
	g := newGUI(a, tr, svc, Options{Notify: func(string, string) {}})
	receive(t, tr.menus, "first menu")
	g.useOpenClaw("claude-sonnet")
	g.jobs.Wait()
	if g.previous != "gpt-4o" {
		t.Fatalf("previous = %q", g.previous)
	}
	var sub *fyne.Menu
	for len(tr.menus) > 0 {
		sub = openClawMenu(t, <-tr.menus)
	}
	back := menuItem(t, sub, "Back to gpt-4o")
	back.Action()
	g.jobs.Wait()
	if got := svc.called(); fmt.Sprint(got) != "[use claude-sonnet use gpt-4o]" {
		t.Errorf("calls %q", got)
	}
}
