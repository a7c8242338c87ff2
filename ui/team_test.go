package ui

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/clawgate/clawgate/app"
)

// *app.App is what the tray joins a team with.
var _ teamService = (*app.App)(nil)

const teamGatewayConfig = `general_settings:
  master_key: sk-team-master
model_list:
  - model_name: team-fast
    litellm_params: {model: openai/gpt-4o-mini}
  - model_name: team-smart
    litellm_params: {model: anthropic/claude-sonnet-4-5}
`

// openClawHome is a throwaway HOME with an OpenClaw config and no OpenClaw variables.
func openClawHome(t *testing.T) (config string) {
	t.Helper()
	home := t.TempDir()
	t.Setenv("HOME", home)
	for _, k := range []string{"LITELLM_API_KEY", "CLAWGATE_TEAM_KEY", "OPENCLAW_STATE_DIR", "OPENCLAW_CONFIG_PATH", "OPENCLAW_HOME", "OPENCLAW_PROFILE", "OPENCLAW_GATEWAY_PORT"} {
		t.Setenv(k, "")
	}
	config = filepath.Join(home, ".openclaw", "openclaw.json")
	os.MkdirAll(filepath.Dir(config), 0o700)
	if err := os.WriteFile(config, []byte("{\n  gateway: { mode: \"local\" },\n}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return config
}

func submenu(t *testing.T, m *fyne.Menu, prefix string) *fyne.Menu {
	t.Helper()
	for _, it := range m.Items {
		if strings.HasPrefix(it.Label, prefix) && it.ChildMenu != nil {
			return it.ChildMenu
		}
	}
	t.Fatalf("no submenu %q…", prefix)
	return nil
}

// The tray joins a real team gateway (another Clawgate with a virtual key for this user): the
// form checks what is typed, a wrong key is refused in the form, the right one shows the key's
// budget and the team's models, the tray gets the Team submenu, and "Use the local gateway" and
// "Leave team" work from it.
func TestTeamJoinEndToEnd(t *testing.T) {
	oc := openClawHome(t)
	team, _ := realApp(t, teamGatewayConfig, memKeychain{})
	budget := 10.0
	key, err := team.CreateKey(context.Background(), app.KeySpec{Alias: "alice", MaxBudget: &budget, BudgetDuration: "30d"})
	if err != nil {
		t.Fatal(err)
	}
	teamURL := team.Status().BaseURL()
	kc := memKeychain{}
	local, _ := realApp(t, routesConfig, kc)

	a := test.NewTempApp(t)
	uiQueue(t)
	tr := newFakeTray()
	g := newGUI(a, tr, local, Options{})
	settle(t, g)
	if g.teamWin() == nil {
		t.Fatal("no Team window: *app.App lacks a teamService method")
	}
	t.Cleanup(func() { g.teamWin().hide(); g.jobs.Wait() })
	menuItem(t, latestMenu(t, tr), "Join a team gateway…").Action()
	tw := g.teamWin()
	if !tw.visible || tw.joined || !g.anyWindowOpen() {
		t.Fatalf("the form is not up: visible %v joined %v", tw.visible, tw.joined)
	}

	// The form validates as typed.
	if !tw.join.Disabled() {
		t.Error("Join enabled on an empty form")
	}
	test.Type(tw.url, "llm.example.com")
	if !tw.urlProblem.Visible() || !strings.Contains(tw.urlProblem.Text, "https://") {
		t.Errorf("a URL without scheme: problem %q shown %v", tw.urlProblem.Text, tw.urlProblem.Visible())
	}
	tw.url.SetText(teamURL)
	if tw.urlProblem.Visible() || !tw.join.Disabled() {
		t.Errorf("URL fine, no key: problem shown %v, join disabled %v", tw.urlProblem.Visible(), tw.join.Disabled())
	}
	test.Type(tw.key, "sk-not-the-team-key-0123")
	if tw.join.Disabled() {
		t.Fatal("Join disabled with a URL and a key")
	}

	// A wrong key: the team gateway refuses it, the form says so, nothing is kept.
	test.Tap(tw.join)
	waitFor(t, "the refusal", func() bool { return !tw.joining })
	if !strings.Contains(tw.joinErr.Text, "refused the key") || tw.joined {
		t.Fatalf("wrong key: %q, joined %v", tw.joinErr.Text, tw.joined)
	}
	if _, ok := kc[app.TeamKeyName]; ok {
		t.Error("a refused key was kept")
	}

	// The right key: joined, the details show the key and the models.
	tw.key.SetText(key)
	test.Tap(tw.join)
	waitFor(t, "the join", func() bool { return !tw.joining && tw.joined })
	if kc[app.TeamKeyName] != key {
		t.Error("the key is not in the keychain")
	}
	got := strings.Join(labels(tw.w.Content()), "\n")
	for _, want := range []string{"OpenClaw uses the team gateway " + teamURL, "Key alice: $0.00 of $10.00", "team-fast, team-smart", "Resets every 30d"} {
		if !strings.Contains(got, want) {
			t.Errorf("details lack %q:\n%s", want, got)
		}
	}
	if b, _ := os.ReadFile(oc); !strings.Contains(string(b), teamURL+"/v1") {
		t.Errorf("OpenClaw's config does not point at the team:\n%s", b)
	}

	// The tray: a Team submenu with the spend, the team gateway checked, one click back.
	m := latestMenu(t, tr)
	sub := submenu(t, m, "Team: $0.00 of $10.00 per 30d")
	if !menuItem(t, sub, "Use the team gateway").Checked || menuItem(t, sub, "Use the local gateway").Checked {
		t.Error("the team gateway is not the checked one")
	}
	for _, it := range openClawMenu(t, m).Items {
		if it.Label == "local" {
			t.Error("the OpenClaw submenu offers a local model while OpenClaw uses the team")
		}
	}
	menuItem(t, sub, "Use the local gateway").Action()
	waitFor(t, "the switch back", func() bool { return !g.status.UsingTeam() && g.status.Team.Joined() })
	if b, _ := os.ReadFile(oc); strings.Contains(string(b), teamURL) || !strings.Contains(string(b), local.Status().BaseURL()+"/v1") {
		t.Errorf("OpenClaw's config after Use the local gateway:\n%s", b)
	}
	sub = submenu(t, latestMenu(t, tr), "Team: ")
	if menuItem(t, sub, "Use the team gateway").Checked || !menuItem(t, sub, "Use the local gateway").Checked {
		t.Error("the local gateway is not the checked one")
	}

	// Leave, from the tray: it asks first.
	menuItem(t, sub, "Leave team…").Action()
	test.Tap(topOverlayButton(t, tw.w, "Yes"))
	waitFor(t, "the leave", func() bool { return !g.status.Team.Joined() })
	if _, ok := kc[app.TeamKeyName]; ok {
		t.Error("the key is still in the keychain")
	}
	menuItem(t, latestMenu(t, tr), "Join a team gateway…")
	if tw.w.Content() != tw.form {
		t.Error("the window does not offer the form again")
	}
}

// fakeTeam is a service that has joined a team gateway: what the Team window and menu show.
type fakeTeam struct {
	*fakeService
	reads int
}

var teamStatus = func() app.Status {
	s := running
	budget := 20.0
	reset := time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC)
	s.Team = app.TeamState{URL: "https://llm.acme.example", Info: &app.TeamInfo{
		URL:    "https://llm.acme.example",
		Key:    app.TeamKey{Alias: "alice-laptop", Spend: 7.42, MaxBudget: &budget, BudgetDuration: "30d", BudgetResetAt: &reset},
		Models: []string{"claude-sonnet-4-5", "gpt-4o", "gpt-4o-mini"},
		ReadAt: time.Date(2026, 12, 7, 10, 41, 5, 0, time.Local),
	}}
	s.OpenClaw = app.OpenClawState{Connected: true, Primary: "litellm/claude-sonnet-4-5", BaseURL: "https://llm.acme.example/v1"}
	return s
}()

func (f *fakeTeam) JoinTeam(_ context.Context, url, key string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "join "+url)
	if key != "sk-good" {
		return nil, fmt.Errorf("%w (401 from %s/key/info): check that you pasted the whole key", app.ErrTeamKeyRejected, url)
	}
	f.status.Team = teamStatus.Team
	return nil, nil
}

func (f *fakeTeam) RefreshTeam(context.Context) (app.TeamState, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	return f.status.Team, nil
}

func (f *fakeTeam) UseTeamGateway(context.Context) ([]string, error) { return f.call("use team") }

func (f *fakeTeam) UseLocalGateway(context.Context) ([]string, error) { return f.call("use local") }

func (f *fakeTeam) LeaveTeam(context.Context) ([]string, error) { return f.call("leave") }

func (f *fakeTeam) call(what string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, what)
	return nil, nil
}

func (f *fakeTeam) readCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reads
}

// The window reads the team gateway when it opens and then on a timer, and only while it shows.
func TestTeamWindowReadsOnlyWhileShown(t *testing.T) {
	prev := teamRefreshEvery
	teamRefreshEvery = 20 * time.Millisecond
	t.Cleanup(func() { teamRefreshEvery = prev })
	a := test.NewTempApp(t)
	uiQueue(t)
	svc := &fakeTeam{fakeService: newFakeService(teamStatus)}
	g := newGUI(a, newFakeTray(), svc, Options{})
	settle(t, g)
	t.Cleanup(func() { g.teamWin().hide(); g.jobs.Wait() })
	// One read at start, for the tray's Team line, and no timer while no window shows.
	waitFor(t, "the read at start", func() bool { return !g.teamWin().reading })
	if svc.readCount() != 1 || g.teamWin().ticking() {
		t.Fatalf("%d reads at start, timer running %v", svc.readCount(), g.teamWin().ticking())
	}
	g.teamWin().show()
	waitFor(t, "three reads", func() bool { return svc.readCount() >= 3 })
	g.teamWin().hide()
	if g.teamWin().ticking() {
		t.Error("the timer runs on with the window closed")
	}
	g.jobs.Wait()
}

// TestShotsTeam draws the join form (with a refusal) and the joined view, and the tray menu with
// the Team submenu; `make screenshots` keeps them.
func TestShotsTeam(t *testing.T) {
	a := test.NewTempApp(t)
	uiQueue(t)
	none := running
	svc := &fakeTeam{fakeService: newFakeService(none)}
	g := newGUI(a, newFakeTray(), svc, Options{})
	settle(t, g)
	t.Cleanup(func() { g.teamWin().hide(); g.jobs.Wait() })
	tw := g.teamWin()
	tw.show()
	tw.url.SetText("https://llm.acme.example")
	tw.key.SetText("sk-wrong")
	test.Tap(tw.join)
	waitFor(t, "the refusal", func() bool { return !tw.joining })
	shots(t, a, tw.w, "team-join")

	svc.mu.Lock()
	svc.status = teamStatus
	svc.mu.Unlock()
	g.apply(teamStatus)
	shots(t, a, tw.w, "team")

	m := g.fyneMenu(menuFor(teamStatus, menuExtras{team: true}))
	var items []*fyne.MenuItem
	for _, it := range m.Items {
		if it.ChildMenu != nil && strings.HasPrefix(it.Label, "Team: ") {
			items = it.ChildMenu.Items
		}
	}
	if len(items) == 0 {
		t.Fatal("no Team submenu")
	}
	w := a.NewWindow("Clawgate tray menu: team")
	top, sub := widget.NewMenu(m), widget.NewMenu(fyne.NewMenu("", items...))
	w.SetContent(container.NewPadded(container.NewHBox(top, container.NewVBox(sub))))
	w.Resize(top.MinSize().Add(fyne.NewSize(sub.MinSize().Width+2*theme.Padding(), 0)).Add(fyne.NewSquareSize(3 * theme.Padding())))
	dir := shotsDir(t)
	defer a.Settings().SetTheme(test.Theme())
	for _, v := range variants {
		a.Settings().SetTheme(variantTheme{theme.DefaultTheme(), v.v})
		writePNG(t, w, filepath.Join(dir, "tray-menu-team-"+v.name+".png"))
	}
}

// The tray's model: a join item until joined, the Team submenu after, nothing for a service that
// cannot join; the tooltip names the team key's budget while OpenClaw spends on it.
func TestTeamMenuModel(t *testing.T) {
	find := func(items []item, prefix string) *item {
		for i := range items {
			if strings.HasPrefix(items[i].Label, prefix) {
				return &items[i]
			}
		}
		return nil
	}
	if find(menuFor(running, menuExtras{}), "Join a team") != nil || find(menuFor(running, menuExtras{}), "Team") != nil {
		t.Error("team items for a service that cannot join")
	}
	if it := find(menuFor(running, menuExtras{team: true}), "Join a team gateway…"); it == nil || it.Action != actShowTeam {
		t.Errorf("no join item: %+v", it)
	}
	sub := find(menuFor(teamStatus, menuExtras{team: true}), "Team: $7.42 of $20.00 per 30d")
	if sub == nil || len(sub.Children) == 0 || sub.Children[0].Label != "https://llm.acme.example" {
		t.Fatalf("Team submenu: %+v", sub)
	}
	if it := find(sub.Children, "Use the local gateway"); it == nil || it.Checked || it.Action != actUseLocal {
		t.Errorf("Use the local gateway: %+v", it)
	}
	if tip := tooltip(teamStatus); !strings.Contains(tip, "Team: $7.42 of $20.00 per 30d") || !strings.Contains(tip, "Model: claude-sonnet-4-5") {
		t.Errorf("tooltip:\n%s", tip)
	}
	local := teamStatus
	local.OpenClaw.BaseURL = "http://127.0.0.1:4000/v1"
	if tip := tooltip(local); strings.Contains(tip, "Team") {
		t.Errorf("tooltip names the team while OpenClaw uses the local gateway:\n%s", tip)
	}
	// The OpenClaw submenu offers the team's models while OpenClaw uses the team.
	oc := find(menuFor(teamStatus, menuExtras{team: true}), "OpenClaw")
	var models []string
	for _, it := range oc.Children {
		if it.Action == actUseOpenClaw {
			models = append(models, fmt.Sprintf("%s:%v", it.Arg, it.Checked))
		}
	}
	if got := strings.Join(models, " "); got != "claude-sonnet-4-5:true gpt-4o:false gpt-4o-mini:false" {
		t.Errorf("OpenClaw submenu models %s", got)
	}
}
