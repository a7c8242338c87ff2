package ui

import (
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
)

func freeTCPPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// The Settings window from the tray: a port in use and a bad duration are said inline with Save
// disabled; once valid, Save writes config.yaml (comments kept) and the gateway answers on the new
// port at once.
func TestSettingsChangePort(t *testing.T) {
	svc, path := realApp(t, routesConfig, memKeychain{})
	a := test.NewTempApp(t)
	uiQueue(t)
	tr := newFakeTray()
	g := newGUI(a, tr, svc, Options{})
	settle(t, g)
	if g.settingsWin() == nil {
		t.Fatal("no Settings window: *app.App lacks a settingsService method")
	}
	t.Cleanup(func() { g.settingsWin().hide(); g.jobs.Wait() })
	menuItem(t, latestMenu(t, tr), "Settings…").Action()
	sw := g.settingsWin()
	if !g.anyWindowOpen() {
		t.Error("the idle gate does not know the Settings window is open")
	}
	waitFor(t, "the settings", func() bool { return sw.loaded && !sw.portPending })
	old := svc.Status().Addr
	if sw.port.Text != old[strings.LastIndex(old, ":")+1:] || sw.bind.Selected != bindLocal || sw.save.Disabled() {
		t.Fatalf("form: port %q bind %q save disabled %v", sw.port.Text, sw.bind.Selected, sw.save.Disabled())
	}

	held, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	sw.port.SetText(strconv.Itoa(held.Addr().(*net.TCPAddr).Port))
	waitFor(t, "the port check", func() bool { return !sw.portPending })
	if !sw.problems["port"].Visible() || !strings.Contains(sw.problems["port"].Text, "in use") || !sw.save.Disabled() {
		t.Errorf("port in use: problem %q shown %v, save disabled %v", sw.problems["port"].Text, sw.problems["port"].Visible(), sw.save.Disabled())
	}
	sw.port.SetText("80000")
	if !strings.Contains(sw.problems["port"].Text, "65535") || !sw.save.Disabled() {
		t.Errorf("port out of range: %q", sw.problems["port"].Text)
	}
	next := freeTCPPort(t)
	sw.port.SetText(strconv.Itoa(next))
	sw.retention.SetText("3 weeks")
	waitFor(t, "the port check", func() bool { return !sw.portPending })
	if !sw.problems["retention"].Visible() || sw.problems["port"].Visible() || !sw.save.Disabled() {
		t.Errorf("bad duration: retention shown %v, port shown %v, save disabled %v",
			sw.problems["retention"].Visible(), sw.problems["port"].Visible(), sw.save.Disabled())
	}
	sw.proxy.SetText("ftp://proxy")
	sw.ca.SetText("/nonexistent/ca.pem")
	sw.openclaw.SetText("relative/openclaw.json")
	waitFor(t, "the files' check", func() bool { return !sw.portPending })
	if !sw.problems["openclaw"].Visible() {
		t.Error("a relative OpenClaw path is not flagged")
	}
	if !strings.Contains(sw.problems["proxy"].Text, "scheme") || !sw.problems["ca"].Visible() {
		t.Errorf("proxy problem %q, CA problem shown %v", sw.problems["proxy"].Text, sw.problems["ca"].Visible())
	}
	sw.bind.SetSelected(bindLAN)
	waitFor(t, "the files' check", func() bool { return !sw.portPending })
	shots(t, a, sw.w, "settings-problems")
	sw.proxy.SetText("")
	sw.ca.SetText("")
	sw.openclaw.SetText("")
	sw.bind.SetSelected(bindLocal)
	sw.retention.SetText("30d")
	test.Tap(sw.store)
	waitFor(t, "the port check", func() bool { return !sw.portPending })
	if sw.save.Disabled() {
		t.Fatal("Save disabled with a valid form")
	}
	sw.bind.SetSelected(bindLAN)
	if !sw.lanWarning.Visible() {
		t.Error("no warning for every network")
	}
	sw.bind.SetSelected(bindLocal)
	waitFor(t, "the port check", func() bool { return !sw.portPending && !sw.save.Disabled() })
	shots(t, a, sw.w, "settings")
	sw.theme.SetSelected("Dark")
	if a.Preferences().String(prefTheme) != "dark" || a.Settings().Theme().Color(theme.ColorNameBackground, theme.VariantLight) !=
		theme.DefaultTheme().Color(theme.ColorNameBackground, theme.VariantDark) {
		t.Error("choosing Dark did not apply and keep it")
	}
	if g2 := newGUI(a, nil, newFakeService(running), Options{}); g2 == nil || a.Settings().Theme().Color(theme.ColorNameBackground,
		theme.VariantLight) != theme.DefaultTheme().Color(theme.ColorNameBackground, theme.VariantDark) {
		t.Error("the next start does not apply the kept theme")
	}
	sw.theme.SetSelected("Follow the system")
	test.Tap(sw.save)
	waitFor(t, "the save", func() bool { return sw.status.Text == "Saved; in force now." })
	resp, err := http.Get("http://127.0.0.1:" + strconv.Itoa(next) + "/health/liveliness")
	if err != nil {
		t.Fatalf("the gateway does not answer on the new port: %v", err)
	}
	resp.Body.Close()
	if _, err := http.Get("http://" + old + "/health/liveliness"); err == nil {
		t.Error("the old port still answers")
	}
	text, _ := os.ReadFile(path)
	for _, want := range []string{"# my gateway\n", "master_key: sk-master   # mine\n", "maximum_spend_logs_retention_period: 30d\n",
		"store_prompts_in_spend_logs: true\n", "clawgate_listen: 127.0.0.1:" + strconv.Itoa(next) + "\n"} {
		if !strings.Contains(string(text), want) {
			t.Errorf("config lacks %q:\n%s", want, text)
		}
	}
	if got := baseURL(g.status); got != "http://127.0.0.1:"+strconv.Itoa(next) {
		t.Errorf("the tray's base URL is %q", got)
	}
}
