package ui

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/clawgate/clawgate/app"
)

// fakeService is a Service whose events the test sends by hand.
type fakeService struct {
	events    chan app.Event
	cancelled chan struct{}

	mu     sync.Mutex // the OpenClaw calls run on the gui's background goroutine
	status app.Status
	calls  []string
	err    error // what the OpenClaw calls return

	activity    app.Activity // what Activity returns
	activityErr error
	reads       int // Activity calls
}

func (f *fakeService) EditKey(_ context.Context, token string, ed app.KeyEdit) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	call := "edit " + token
	if ed.Blocked != nil {
		call += fmt.Sprintf(" blocked=%v", *ed.Blocked)
	}
	if ed.MaxBudget != nil {
		call += fmt.Sprintf(" max=%v", *ed.MaxBudget)
	}
	if ed.BudgetDuration != nil {
		call += fmt.Sprintf(" every=%q", *ed.BudgetDuration)
	}
	f.calls = append(f.calls, call)
	return f.err
}

func (f *fakeService) Activity(_ context.Context, limit int) (app.Activity, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	a := f.activity
	if len(a.Requests) > limit {
		a.Requests = a.Requests[:limit]
	}
	return a, f.activityErr
}

func newFakeService(s app.Status) *fakeService {
	return &fakeService{status: s, events: make(chan app.Event), cancelled: make(chan struct{})}
}

func (f *fakeService) Status() app.Status {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.status
}

func (f *fakeService) ConnectOpenClaw() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "connect")
	if f.err == nil {
		f.status.OpenClaw.Connected = true
	}
	return f.err
}

func (f *fakeService) UseOpenClawModel(model string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "use "+model)
	if f.err == nil {
		f.status.OpenClaw.Primary = "litellm/" + model
	}
	return f.err
}

func (f *fakeService) called() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}
func (f *fakeService) Subscribe() (<-chan app.Event, func()) {
	var once sync.Once
	return f.events, func() { once.Do(func() { close(f.cancelled) }) }
}

// fakeTray records what the gui sends to the system tray.
type fakeTray struct {
	menus chan *fyne.Menu
	icons chan fyne.Resource
}

func newFakeTray() *fakeTray {
	return &fakeTray{menus: make(chan *fyne.Menu, 10), icons: make(chan fyne.Resource, 10)}
}

func (f *fakeTray) SetSystemTrayMenu(m *fyne.Menu)    { f.menus <- m }
func (f *fakeTray) SetSystemTrayIcon(r fyne.Resource) { f.icons <- r }

func receive[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(5 * time.Second):
		t.Fatalf("no %s", what)
		panic("unreachable")
	}
}

func labels(o fyne.CanvasObject) []string {
	var out []string
	for _, obj := range test.LaidOutObjects(o) {
		if l, ok := obj.(*widget.Label); ok {
			out = append(out, l.Text)
		}
	}
	return out
}

func button(t *testing.T, o fyne.CanvasObject, text string) *widget.Button {
	t.Helper()
	for _, obj := range test.LaidOutObjects(o) {
		if b, ok := obj.(*widget.Button); ok && b.Text == text {
			return b
		}
	}
	t.Fatalf("no button %q", text)
	return nil
}

func menuItem(t *testing.T, m *fyne.Menu, label string) *fyne.MenuItem {
	t.Helper()
	for _, it := range m.Items {
		if it.Label == label {
			return it
		}
	}
	t.Fatalf("no menu item %q", label)
	return nil
}

// openClawMenu is the OpenClaw submenu, whose title names the model in use once connected.
func openClawMenu(t *testing.T, m *fyne.Menu) *fyne.Menu {
	t.Helper()
	for _, it := range m.Items {
		if it.Label == "OpenClaw" || strings.HasPrefix(it.Label, "OpenClaw: ") {
			return it.ChildMenu
		}
	}
	t.Fatal("no OpenClaw submenu")
	return nil
}

var running = app.Status{
	State:      app.StateRunning,
	Addr:       "127.0.0.1:4000",
	Models:     []string{"gpt-4o", "claude-sonnet"},
	ConfigPath: "/home/u/.config/clawgate/config.yaml",
}

func TestStatusWindowShowsStatus(t *testing.T) {
	a := test.NewTempApp(t)
	g := newGUI(a, newFakeTray(), newFakeService(running), Options{})
	content := g.mainWin().w.Content()

	got := strings.Join(labels(content), "\n")
	for _, want := range []string{
		"Gateway running on 127.0.0.1:4000",
		"http://127.0.0.1:4000",
		"gpt-4o, claude-sonnet",
		"/home/u/.config/clawgate/config.yaml",
		"Point OpenClaw at it",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("window lacks %q; labels:\n%s", want, got)
		}
	}
	if s := g.mainWin().snippet.Text; !strings.Contains(s, `baseUrl: "http://127.0.0.1:4000/v1"`) || !strings.Contains(s, `api: "openai-completions"`) {
		t.Errorf("snippet:\n%s", s)
	}
	if g.mainWin().w.Title() != "Clawgate" {
		t.Errorf("title %q", g.mainWin().w.Title())
	}
}

func TestStatusWindowButtons(t *testing.T) {
	a := test.NewTempApp(t)
	var opened []string
	g := newGUI(a, newFakeTray(), newFakeService(running), Options{
		OpenFolder: func(p string) error { opened = append(opened, p); return nil },
	})
	content := g.mainWin().w.Content()

	test.Tap(button(t, content, "Copy base URL"))
	if got := a.Clipboard().Content(); got != "http://127.0.0.1:4000" {
		t.Errorf("clipboard after Copy base URL = %q", got)
	}
	test.Tap(button(t, content, "Copy snippet"))
	if got := a.Clipboard().Content(); got != openClawSnippet(running) {
		t.Errorf("clipboard after Copy snippet = %q", got)
	}
	test.Tap(button(t, content, "Open config folder"))
	if len(opened) != 1 || opened[0] != "/home/u/.config/clawgate" {
		t.Errorf("opened %v, want the config folder", opened)
	}
}

func TestStatusWindowOpenFolderError(t *testing.T) {
	a := test.NewTempApp(t)
	g := newGUI(a, newFakeTray(), newFakeService(running), Options{
		OpenFolder: func(string) error { return errors.New("no file manager") },
	})
	test.Tap(button(t, g.mainWin().w.Content(), "Open config folder"))
	// The error is shown in a dialog over the window, which is brought up for it.
	if !g.mainWin().visible {
		t.Error("window not shown for the error")
	}
	var found bool
	for _, o := range g.mainWin().w.Canvas().Overlays().List() {
		for _, l := range labels(o) {
			found = found || strings.Contains(l, "no file manager")
		}
	}
	if !found {
		t.Error("no error dialog")
	}
}

func TestStatusWindowStopped(t *testing.T) {
	a := test.NewTempApp(t)
	g := newGUI(a, newFakeTray(), newFakeService(app.Status{}), Options{})
	content := g.mainWin().w.Content()
	if b := button(t, content, "Copy base URL"); !b.Disabled() {
		t.Error("Copy base URL enabled with no address")
	}
	if b := button(t, content, "Open config folder"); !b.Disabled() {
		t.Error("Open config folder enabled with no config path")
	}
	a.Clipboard().SetContent("before")
	g.copyURL()
	if got := a.Clipboard().Content(); got != "before" {
		t.Errorf("clipboard changed to %q with no address", got)
	}
}

func TestWindowShownWhen(t *testing.T) {
	tests := []struct {
		name     string
		withTray bool
		firstRun bool
		want     bool
	}{
		{"tray, not first run", true, false, false},
		{"tray, first run", true, true, true},
		{"no tray", false, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := test.NewTempApp(t)
			s := running
			s.FirstRun = tt.firstRun
			var tr tray
			if tt.withTray {
				tr = newFakeTray()
			}
			g := newGUI(a, tr, newFakeService(s), Options{})
			if g.mainWin().visible != tt.want {
				t.Errorf("window visible = %v, want %v", g.mainWin().visible, tt.want)
			}
		})
	}
}

func TestTrayMenu(t *testing.T) {
	a := test.NewTempApp(t)
	tr := newFakeTray()
	g := newGUI(a, tr, newFakeService(running), Options{})

	m := receive(t, tr.menus, "tray menu")
	if icon := receive(t, tr.icons, "tray icon"); icon != trayResource(iconOK) {
		t.Errorf("icon %s, want the ok icon", icon.Name())
	}
	var quits int
	for _, it := range m.Items {
		if it.IsQuit {
			quits++
		}
	}
	if quits != 1 || !m.Items[len(m.Items)-1].IsQuit {
		t.Errorf("want exactly one Quit, last, so Fyne adds none; got %d", quits)
	}
	if st := m.Items[0]; st.Label != "Gateway running on 127.0.0.1:4000" || !st.Disabled {
		t.Errorf("status item %q disabled=%v", st.Label, st.Disabled)
	}
	models := menuItem(t, m, "Models").ChildMenu
	if models == nil || len(models.Items) != 2 || models.Items[1].Label != "claude-sonnet" || !models.Items[1].Disabled {
		t.Errorf("models submenu %+v", models)
	}

	menuItem(t, m, "Copy base URL").Action()
	if got := a.Clipboard().Content(); got != "http://127.0.0.1:4000" {
		t.Errorf("clipboard = %q", got)
	}
	if g.mainWin().visible {
		t.Fatal("window visible before Show status")
	}
	menuItem(t, m, "Show status…").Action()
	if !g.mainWin().visible {
		t.Error("Show status… did not show the window")
	}
}

func TestEventsUpdateTrayAndWindow(t *testing.T) {
	a := test.NewTempApp(t)
	tr := newFakeTray()
	svc := newFakeService(running)
	g := newGUI(a, tr, svc, Options{})
	receive(t, tr.menus, "first menu")
	receive(t, tr.icons, "first icon")
	g.start()

	failed := app.Status{State: app.StateError, Addr: "127.0.0.1:4000", Err: app.ErrPortInUse}
	svc.events <- app.Event{Kind: app.EventStatus, Status: failed}
	m := receive(t, tr.menus, "menu after the event")
	if got := m.Items[0].Label; got != "Error: port 4000 is in use" {
		t.Errorf("status item %q", got)
	}
	if icon := receive(t, tr.icons, "icon after the event"); icon != trayResource(iconError) {
		t.Errorf("icon %s, want the error icon", icon.Name())
	}

	g.stop()
	select {
	case <-svc.cancelled:
	default:
		t.Error("stop did not cancel the subscription")
	}
	if got := g.mainWin().state.Text; got != "Error: port 4000 is in use" {
		t.Errorf("window state %q", got)
	}

	// The same status again changes nothing, so the tray is not rebuilt; a new one is.
	g.apply(failed)
	select {
	case m := <-tr.menus:
		t.Errorf("menu rebuilt for an unchanged status: %q", m.Items[0].Label)
	case ic := <-tr.icons:
		t.Errorf("icon reset for an unchanged status: %s", ic.Name())
	default:
	}
	g.apply(running)
	if m := receive(t, tr.menus, "menu after recovery"); m.Items[0].Label != "Gateway running on 127.0.0.1:4000" {
		t.Errorf("status item %q", m.Items[0].Label)
	}
	receive(t, tr.icons, "icon after recovery")
}

// A budget that refuses reaches the tray: the blocked icon, the status line naming it, the spend
// line under it, and the hover text, each set once per change.
func TestTrayShowsRefusingBudget(t *testing.T) {
	a := test.NewTempApp(t)
	tr := &tipTray{fakeTray: newFakeTray(), tips: make(chan string, 10)}
	svc := newFakeService(running)
	g := newGUI(a, tr, svc, Options{})
	receive(t, tr.menus, "first menu")
	receive(t, tr.icons, "first icon")
	if tip := receive(t, tr.tips, "first tooltip"); tip != "Clawgate: Gateway running on 127.0.0.1:4000" {
		t.Errorf("tooltip %q", tip)
	}
	g.start()
	defer g.stop()

	refusing := running
	refusing.Budget = app.BudgetSummary{Level: app.BudgetRefusing, Refusing: []string{"openclaw"},
		Line: "Today $1.84 · openclaw 100% of $1.00, resets Dec 8"}
	svc.events <- app.Event{Kind: app.EventStatus, Status: refusing}
	m := receive(t, tr.menus, "menu after the event")
	if got := []string{m.Items[0].Label, m.Items[1].Label}; got[0] != "Budget spent, refusing requests: openclaw" || got[1] != refusing.Budget.Line {
		t.Errorf("first menu items %q", got)
	}
	if icon := receive(t, tr.icons, "icon after the event"); icon != trayResource(iconBlocked) {
		t.Errorf("icon %s, want the blocked icon", icon.Name())
	}
	if tip := receive(t, tr.tips, "tooltip after the event"); tip != "Clawgate: Budget spent, refusing requests: openclaw\n"+refusing.Budget.Line {
		t.Errorf("tooltip %q", tip)
	}
	fyne.DoAndWait(func() { g.apply(refusing) })
	select {
	case tip := <-tr.tips:
		t.Errorf("tooltip set again for an unchanged status: %q", tip)
	default:
	}
}

// tipTray is a fake tray that also takes a tooltip, as the real one does.
type tipTray struct {
	*fakeTray
	tips chan string
}

func (f *tipTray) SetTooltip(s string) { f.tips <- s }

// TestIdentityMatchesFyneApp keeps the constants that plain go builds use in step with FyneApp.toml,
// which fyne package reads.
func TestIdentityMatchesFyneApp(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "FyneApp.toml"))
	if err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]string{"ID": appID, "Name": appName} {
		m := regexp.MustCompile(`(?m)^\s*` + key + `\s*=\s*"([^"]*)"`).FindSubmatch(b)
		if m == nil || string(m[1]) != want {
			t.Errorf("FyneApp.toml %s = %q, ui has %q", key, m, want)
		}
	}
	if !regexp.MustCompile(`(?m)^\s*fyneDo\s*=\s*true`).Match(b) {
		t.Error("FyneApp.toml lacks [Migrations] fyneDo = true, which fillMetadata assumes")
	}
}

func TestBudgetAlertIsNotified(t *testing.T) {
	a := test.NewTempApp(t)
	g := newGUI(a, newFakeTray(), newFakeService(running), Options{})
	al := app.Alert{Title: "Budget openclaw at 80%", Message: "$40.00 of $50.00 spent", Level: 0.8}
	test.AssertNotificationSent(t, fyne.NewNotification(al.Title, al.Message), func() { g.notify(al) })
}

// checked lists the labels of a menu's checked items.
func checked(m *fyne.Menu) []string {
	var out []string
	for _, it := range m.Items {
		if it.Checked {
			out = append(out, it.Label)
		}
	}
	return out
}

func TestTrayConnectOpenClaw(t *testing.T) {
	a := test.NewTempApp(t)
	tr := newFakeTray()
	svc := newFakeService(running)
	g := newGUI(a, tr, svc, Options{})
	m := receive(t, tr.menus, "tray menu")
	sub := openClawMenu(t, m)
	if sub == nil || len(sub.Items) != 1 {
		t.Fatalf("OpenClaw submenu %+v", sub)
	}
	test.AssertNotificationSent(t, fyne.NewNotification("OpenClaw connected", "OpenClaw now uses this gateway."), func() {
		menuItem(t, sub, "Connect OpenClaw").Action()
		g.jobs.Wait()
	})
	if got := svc.called(); strings.Join(got, ",") != "connect" {
		t.Errorf("service calls %q", got)
	}
	// The service's status after the call is shown: now a model list.
	m = receive(t, tr.menus, "menu after connect")
	if sub := openClawMenu(t, m); len(sub.Items) != 4 || sub.Items[0].Label != "OpenClaw: no primary model set" {
		t.Errorf("OpenClaw submenu after connect: %d items, first %q", len(sub.Items), sub.Items[0].Label)
	}
}

func TestTrayUseOpenClawModel(t *testing.T) {
	connected := running
	connected.OpenClaw = app.OpenClawState{Connected: true, Path: "/h/.openclaw/openclaw.json", Primary: "litellm/gpt-4o"}
	tests := []struct {
		name        string
		err         error
		note        *fyne.Notification
		wantChecked string // after the call settles
	}{
		{"switches", nil, fyne.NewNotification("OpenClaw model", "OpenClaw now uses claude-sonnet."), "claude-sonnet"},
		{"fails", errors.New("OpenClaw's config changed on disk"),
			fyne.NewNotification("OpenClaw model not changed", "OpenClaw's config changed on disk"), "gpt-4o"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := test.NewTempApp(t)
			tr := newFakeTray()
			svc := newFakeService(connected)
			svc.err = tt.err
			g := newGUI(a, tr, svc, Options{})
			sub := openClawMenu(t, receive(t, tr.menus, "tray menu"))
			if got := checked(sub); len(got) != 1 || got[0] != "gpt-4o" {
				t.Fatalf("checked before the click: %q", got)
			}
			if l := sub.Items[0]; l.Label != "OpenClaw: litellm/gpt-4o" || !l.Disabled {
				t.Errorf("first line %q disabled=%v", l.Label, l.Disabled)
			}
			test.AssertNotificationSent(t, tt.note, func() {
				menuItem(t, sub, "claude-sonnet").Action()
				// One click checks the new model at once, before the service answers.
				sub = openClawMenu(t, receive(t, tr.menus, "menu right after the click"))
				if got := checked(sub); len(got) != 1 || got[0] != "claude-sonnet" {
					t.Errorf("checked right after the click: %q", got)
				}
				g.jobs.Wait()
			})
			if got := svc.called(); strings.Join(got, ",") != "use claude-sonnet" {
				t.Errorf("service calls %q", got)
			}
			if tt.err != nil {
				sub = openClawMenu(t, receive(t, tr.menus, "menu after the failure"))
			} else {
				select {
				case m := <-tr.menus:
					sub = openClawMenu(t, m)
				default: // the service's status equals the one shown: no rebuild
				}
			}
			if got := checked(sub); len(got) != 1 || got[0] != tt.wantChecked {
				t.Errorf("checked after the call: %q, want %s", got, tt.wantChecked)
			}
		})
	}
}
