package ui

import (
	"context"
	"image/png"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/clawgate/clawgate/app"
	"github.com/clawgate/clawgate/internal/fakeupstream"
)

// variantTheme is Fyne's default theme held to one variant, so a test can draw light and dark.
type variantTheme = fixedVariant

var variants = []struct {
	name string
	v    fyne.ThemeVariant
}{{"light", theme.VariantLight}, {"dark", theme.VariantDark}}

// shots writes w as drawn in the light and the dark theme, at its own size and filling a 1366x768
// screen, to $CLAWGATE_UI_SHOTS when set (to look at), else to the test's temp folder (so every run
// checks that it draws). name gets "-light.png", "-dark-1366.png", ...
func shots(t *testing.T, a fyne.App, w fyne.Window, name string) {
	t.Helper()
	dir := shotsDir(t)
	own := w.Canvas().Size()
	defer func() {
		a.Settings().SetTheme(test.Theme())
		w.Resize(own)
	}()
	for _, v := range variants {
		a.Settings().SetTheme(variantTheme{theme.DefaultTheme(), v.v})
		for _, size := range []struct {
			suffix string
			s      fyne.Size
		}{{"", own}, {"-1366", fyne.NewSize(1366, 768-32)}} { // 32: a panel
			w.Resize(size.s)
			writePNG(t, w, filepath.Join(dir, name+"-"+v.name+size.suffix+".png"))
		}
	}
}

// shotsDir is $CLAWGATE_UI_SHOTS when set (to look at the PNGs), else the test's temp folder (so
// every run checks that the windows draw).
func shotsDir(t *testing.T) string {
	if dir := os.Getenv("CLAWGATE_UI_SHOTS"); dir != "" {
		return dir
	}
	return t.TempDir()
}

// openActivity is a gui over a fake service reporting act, with the activity window open on tab
// and its first read shown.
func openActivity(t *testing.T, act app.Activity, tab int) (fyne.App, *fakeService, *gui) {
	t.Helper()
	a := test.NewTempApp(t)
	uiQueue(t)
	svc := newFakeService(running)
	svc.activity = act
	g := newGUI(a, newFakeTray(), svc, Options{})
	settle(t, g)
	g.activityWin().show(tab)
	t.Cleanup(g.activityWin().hide)
	n := min(len(act.Requests), requestsShown)
	waitFor(t, "the first read", func() bool { return len(g.activityWin().rows) == n && len(g.activityWin().brows) == len(act.Budgets) })
	return a, svc, g
}

func writePNG(t *testing.T, w fyne.Window, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, w.Canvas().Capture()); err != nil {
		t.Fatal(err)
	}
}

// TestShots draws every window with realistic data; `make screenshots` keeps the PNGs.
func TestShots(t *testing.T) {
	a, svc, g := openActivity(t, sampleActivity(), tabRequests)
	shots(t, a, g.mainWin().w, "status")
	g.activityWin().table.selectKey("req-local")
	shots(t, a, g.activityWin().w, "requests")
	g.activityWin().show(tabBudgets)
	g.activityWin().budgets.selectKey(budgetKey(svc.activity.Budgets[1]))
	shots(t, a, g.activityWin().w, "budgets")
	g.activityWin().show(tabRoutes)
	shots(t, a, g.activityWin().w, "routes")
}

// TestShotTrayMenu draws the tray menu exactly as the gui hands it to the tray, from a real app in
// a realistic state: three routes (one with two backends), a proxy budget with some spend today,
// OpenClaw connected and switched from the tray (so "Back to" is offered), start at login on. A
// tray host draws the menu in its own style, so this is its content, not its look; the OpenClaw
// submenu is drawn open. `make screenshots` keeps it as tray-menu-light.png and tray-menu-dark.png.
func TestShotTrayMenu(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config")) // start at login writes its entry here
	for _, k := range []string{"LITELLM_API_KEY", "OPENCLAW_STATE_DIR", "OPENCLAW_CONFIG_PATH", "OPENCLAW_HOME", "OPENCLAW_PROFILE"} {
		t.Setenv(k, "")
	}
	oc := filepath.Join(home, ".openclaw", "openclaw.json")
	if err := os.MkdirAll(filepath.Dir(oc), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(oc, []byte("{\n  agents: { defaults: { model: { primary: \"openai/gpt-5\" } } },\n}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	upA, upB := httptest.NewServer(fakeupstream.New()), httptest.NewServer(fakeupstream.New())
	defer upA.Close()
	defer upB.Close()
	data := t.TempDir()
	config := "general_settings:\n  master_key: sk-master\nlitellm_settings:\n  max_budget: 20\n  budget_duration: 30d\nmodel_list:\n" +
		"  - model_name: fast\n    litellm_params: {model: openai/gpt-4o-mini, api_base: " + upA.URL + "/v1, api_key: sk-a}\n" +
		"  - model_name: smart # direct\n    litellm_params: {model: openai/gpt-4o, api_base: " + upA.URL + "/v1, api_key: sk-a}\n" +
		"  - model_name: smart # reseller\n    litellm_params: {model: openai/gpt-4o, api_base: " + upB.URL + "/v1, api_key: sk-b}\n" +
		"  - model_name: claude\n    litellm_params: {model: anthropic/claude-sonnet-4-5, api_key: sk-c}\n"
	if err := os.WriteFile(filepath.Join(data, "config.yaml"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	svc, err := app.New(app.Options{ConfigPath: filepath.Join(data, "config.yaml"), DataDir: filepath.Join(data, "data"),
		Port: freeTCPPort(t), Secrets: memKeychain{}, OpenClawConfig: oc, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		svc.Stop(ctx)
	})
	if err := svc.SetStartAtLogin(true); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		chat(t, svc.Status().BaseURL(), "fast")
		chat(t, svc.Status().BaseURL(), "smart")
	}
	waitFor(t, "today's spend", func() bool {
		return strings.Contains(svc.Status().Budget.Line, "all requests") && !strings.HasPrefix(svc.Status().Budget.Line, "Today $0.00 ")
	})

	a := test.NewTempApp(t)
	uiQueue(t)
	tr := newFakeTray()
	g := newGUI(a, tr, svc, Options{Notify: func(string, string) {}})
	settle(t, g)
	t.Cleanup(g.jobs.Wait)
	menuItem(t, openClawMenu(t, latestMenu(t, tr)), "Connect OpenClaw").Action()
	g.jobs.Wait()
	pump()
	// Switched from the tray twice, as a user would: the menu then offers the way back.
	for _, model := range []string{"fast", "smart"} {
		menuItem(t, openClawMenu(t, latestMenu(t, tr)), model).Action()
		g.jobs.Wait()
		pump()
	}
	menu := latestMenu(t, tr)
	var got []string
	for _, it := range menu.Items {
		got = append(got, it.Label)
	}
	for _, want := range []string{"Backend for smart", "OpenClaw: smart", "Settings…", "Setup wizard…", "Start at login", "Quit"} {
		if !slices.Contains(got, want) {
			t.Errorf("the menu lacks %q: %q", want, got)
		}
	}
	if !menuItem(t, menu, "Start at login").Checked || !strings.HasPrefix(got[1], "Today $") {
		t.Errorf("start at login unchecked or no spend line: %q", got)
	}
	ocItems := openClawMenu(t, menu).Items
	if last := ocItems[len(ocItems)-1].Label; last != "Back to fast" {
		t.Errorf("the OpenClaw submenu ends with %q, want Back to fast", last)
	}

	w := a.NewWindow("Clawgate tray menu")
	m := widget.NewMenu(menu)
	// Open the OpenClaw submenu the way the keyboard does: step to its item.
	for _, it := range menu.Items {
		if it.IsSeparator {
			continue
		}
		m.ActivateNext()
		if it.ChildMenu != nil && strings.HasPrefix(it.Label, "OpenClaw") {
			break
		}
	}
	if !m.ActivateLastSubmenu() {
		t.Fatal("the OpenClaw submenu did not open")
	}
	w.SetContent(container.NewPadded(container.NewHBox(m)))
	w.Resize(fyne.NewSize(3*m.MinSize().Width, m.MinSize().Height)) // room for the submenu to open to the right
	// The submenu opens with its first line highlighted (a keyboard user's cursor); a pointer on
	// the parent item leaves it plain. The window grows to hold the submenu beside the menu.
	var sub *widget.Menu
	for _, o := range test.LaidOutObjects(m) {
		if sm, ok := o.(*widget.Menu); ok && sm != m && sm.Visible() {
			sub = sm
		}
	}
	if sub == nil {
		t.Fatal("no open submenu drawn")
	}
	sub.DeactivateChild()
	end := a.Driver().AbsolutePositionForObject(sub).Add(sub.Size())
	w.Resize(fyne.NewSize(end.X, max(end.Y, m.MinSize().Height)).Add(fyne.NewSquareSize(2 * theme.Padding())))
	dir := shotsDir(t)
	defer a.Settings().SetTheme(test.Theme())
	for _, v := range variants {
		a.Settings().SetTheme(variantTheme{theme.DefaultTheme(), v.v})
		writePNG(t, w, filepath.Join(dir, "tray-menu-"+v.name+".png"))
	}
}
