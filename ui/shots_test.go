package ui

import (
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/clawgate/clawgate/app"
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

// TestShotTrayMenu draws the tray's menu as the gui builds it (items, submenus, the status line
// first), in a Fyne menu widget: a tray host draws it in its own style, so this is its content,
// not its look. `make screenshots` keeps it as tray-menu-*.png.
func TestShotTrayMenu(t *testing.T) {
	a := test.NewTempApp(t)
	uiQueue(t)
	svc := newFakeService(running)
	svc.activity = sampleActivity()
	tray := newFakeTray()
	g := newGUI(a, tray, svc, Options{})
	settle(t, g)
	g.start()
	defer g.stop()
	menu := receive(t, tray.menus, "tray menu")
	if len(menu.Items) < 5 {
		t.Fatalf("tray menu has %d items", len(menu.Items))
	}
	w := a.NewWindow("Clawgate tray menu")
	m := widget.NewMenu(menu)
	w.SetContent(container.NewBorder(nil, nil, nil, nil, container.NewPadded(m)))
	w.Resize(m.MinSize().Add(fyne.NewSquareSize(2 * theme.Padding())))
	dir := shotsDir(t)
	defer a.Settings().SetTheme(test.Theme())
	for _, v := range variants {
		a.Settings().SetTheme(variantTheme{theme.DefaultTheme(), v.v})
		writePNG(t, w, filepath.Join(dir, "tray-menu-"+v.name+".png"))
	}
}
