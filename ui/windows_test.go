package ui

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/clawgate/clawgate/app"
)

// A tray app that nobody opens builds no window (building one loads Fyne's fonts); the first
// click builds it with the status of that moment, not of start-up.
func TestWindowsBuiltWhenFirstShown(t *testing.T) {
	a := test.NewTempApp(t)
	tr := newFakeTray()
	base := len(a.Driver().AllWindows()) // the test driver keeps one of its own
	built := func() int { return len(a.Driver().AllWindows()) - base }
	g := newGUI(a, tr, newFakeService(running), Options{Notify: func(string, string) {}})
	settle(t, g)
	if n := built(); n != 0 || g.win != nil || g.reqs != nil || g.prob != nil || g.sets != nil || g.wiz != nil {
		t.Fatalf("%d windows built at start-up with a tray and nothing wrong", n)
	}

	later := running
	later.Models = []string{"gpt-4o", "claude-sonnet", "gemini-flash"}
	g.apply(later)
	if n := built(); n != 0 {
		t.Fatalf("a status change built %d windows", n)
	}

	m := latestMenu(t, tr)
	menuItem(t, m, "Show status…").Action()
	if g.win == nil || !g.win.visible || built() != 1 {
		t.Fatalf("Show status… did not build and show one window (%d built)", built())
	}
	if got := strings.Join(labels(g.win.w.Content()), "\n"); !strings.Contains(got, "gpt-4o, claude-sonnet, gemini-flash") {
		t.Errorf("the window shows the start-up status, not the current one:\n%s", got)
	}
	menuItem(t, m, "Show status…").Action()
	if n := built(); n != 1 {
		t.Errorf("showing it again built another window: %d", n)
	}

	// A problem that needs the user brings the Problems window up, built then.
	g.apply(app.Status{ConfigPath: brokenAt3.File, ConfigErr: brokenAt3})
	if g.prob == nil || !g.prob.visible || built() != 2 {
		t.Errorf("a broken config did not build and show the Problems window (%d built)", built())
	}
}

// A second launch hands over to this one (Options.Show): the status window is built then and
// comes up again on each later launch; it is built once.
func TestSecondLaunchBuildsAndShowsTheWindow(t *testing.T) {
	a := test.NewTempApp(t)
	uiQueue(t)
	base := len(a.Driver().AllWindows())
	show := make(chan struct{})
	g := newGUI(a, newFakeTray(), newFakeService(running), Options{Show: show})
	settle(t, g)
	g.start()
	t.Cleanup(g.stop)
	if g.win != nil {
		t.Fatal("status window built before a second launch asked for it")
	}
	for range 2 {
		show <- struct{}{}
		waitFor(t, "the status window", func() bool { return g.win != nil && g.win.visible })
		g.win.hide() // closed by the user before the next launch
	}
	if n := len(a.Driver().AllWindows()) - base; n != 1 {
		t.Errorf("%d windows built for two launches", n)
	}
}

// The same with the real app's service, which has the calls of every optional window (settings,
// wizard, ...): none of them is built until asked for.
func TestNoWindowBuiltAtStartWithTheRealApp(t *testing.T) {
	svc, _ := realApp(t, routesConfig, memKeychain{})
	a := test.NewTempApp(t)
	uiQueue(t)
	base := len(a.Driver().AllWindows())
	tr := newFakeTray()
	g := newGUI(a, tr, svc, Options{Notify: func(string, string) {}})
	settle(t, g)
	t.Cleanup(g.jobs.Wait)
	m := latestMenu(t, tr)
	menuItem(t, m, "Settings…")            // the service has the optional windows' calls
	menuItem(t, m, "Join a team gateway…") // and the Team window's
	if n := len(a.Driver().AllWindows()) - base; n != 0 {
		var titles []string
		for _, w := range a.Driver().AllWindows()[base:] {
			titles = append(titles, w.Title())
		}
		t.Errorf("%d windows built at start-up with a tray and nothing wrong: %q", n, titles)
	}
}
