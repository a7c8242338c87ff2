package ui

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/clawgate/clawgate/app"
	"github.com/clawgate/clawgate/internal/fakeupstream"
)

// The first run end to end: no config.yaml before, so the wizard opens; a provider and key are
// tested against a fake upstream and added (key in the keychain); OpenClaw's file is changed
// exactly as the preview showed; OpenClaw's key gets a monthly budget.
func TestWizardFirstRun(t *testing.T) {
	fake := fakeupstream.New()
	fake.Key = "sk-typed"
	up := httptest.NewServer(fake)
	defer up.Close()
	home := t.TempDir()
	t.Setenv("HOME", home)
	for _, k := range []string{"LITELLM_API_KEY", "OPENCLAW_STATE_DIR", "OPENCLAW_CONFIG_PATH", "OPENCLAW_HOME"} {
		t.Setenv(k, "")
	}
	oc := filepath.Join(home, ".openclaw", "openclaw.json")
	os.MkdirAll(filepath.Dir(oc), 0o700)
	orig := "// mine\n{\n  agents: { defaults: { model: { primary: \"openai/gpt-5\" } } },\n}\n"
	os.WriteFile(oc, []byte(orig), 0o600)
	dir := t.TempDir()
	secrets := memKeychain{}
	svc, err := app.New(app.Options{ConfigPath: filepath.Join(dir, "config.yaml"), DataDir: filepath.Join(dir, "data"),
		Port: freeTCPPort(t), Secrets: secrets, OpenClawConfig: oc, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
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
	if !svc.Status().FirstRun {
		t.Fatal("not a first run")
	}

	a := test.NewTempApp(t)
	uiQueue(t)
	tr := newFakeTray()
	g := newGUI(a, tr, svc, Options{})
	settle(t, g)
	t.Cleanup(func() { g.wizardWin().hide(); g.jobs.Wait() })
	ww := g.wizardWin()
	if ww == nil || !ww.visible || !g.anyWindowOpen() {
		t.Fatal("the wizard is not open on a first run")
	}
	menuItem(t, latestMenu(t, tr), "Setup wizard…") // reachable again from the tray

	// 1. Provider and key.
	if !ww.next.Disabled() {
		t.Error("Test and add enabled with nothing typed")
	}
	ww.preset.SetSelected("OpenAI-compatible URL")
	ww.base.SetText(up.URL + "/v1")
	ww.model.SetText("gpt-4o-mini")
	test.Type(ww.key, "sk-wrong")
	test.Tap(ww.next)
	waitFor(t, "the failed test", func() bool { return strings.HasPrefix(ww.note.Text, "The provider did not answer") })
	if ww.step != stepProvider {
		t.Fatal("moved on after a failed test")
	}
	shots(t, a, ww.w, "wizard-provider")
	ww.key.SetText("sk-typed")
	test.Tap(ww.next)
	waitFor(t, "the preview", func() bool { return ww.step == stepOpenClaw && !ww.busy })
	if secrets["custom"] != "sk-typed" {
		t.Errorf("keychain %v", secrets)
	}
	cfg, _ := os.ReadFile(svc.Status().ConfigPath)
	if !strings.Contains(string(cfg), "api_key: keychain/custom") || strings.Contains(string(cfg), "sk-typed") {
		t.Errorf("config.yaml:\n%s", cfg)
	}

	// 2. OpenClaw, changed exactly as shown.
	shown := ww.diff.Text
	if !strings.Contains(shown, "+ ") || !strings.Contains(ww.note.Text, oc) {
		t.Fatalf("preview %q, note %q", shown, ww.note.Text)
	}
	if b, _ := os.ReadFile(oc); string(b) != orig {
		t.Fatal("OpenClaw's file changed before Connect")
	}
	shots(t, a, ww.w, "wizard-openclaw")
	test.Tap(ww.next)
	waitFor(t, "the connect", func() bool { return ww.step == stepBudget })
	after, _ := os.ReadFile(oc)
	if added, removed := changedLines(orig, string(after)); added != linesWith(shown, "+ ") || removed != linesWith(shown, "- ") {
		t.Errorf("written: added\n%s\nremoved\n%s\nshown:\n%s", added, removed, shown)
	}

	// 3. Budget.
	ww.budget.SetText("x")
	if !ww.next.Disabled() {
		t.Error("Set budget enabled for a budget that is not a number")
	}
	ww.budget.SetText("20")
	test.Tap(ww.next)
	waitFor(t, "done", func() bool { return ww.step == stepDone })
	act, err := svc.Activity(context.Background(), 10)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, b := range act.Budgets {
		if b.Name == "openclaw" && b.MaxBudget != nil && *b.MaxBudget == 20 && b.Duration == "monthly" {
			found = true
		}
	}
	if !found {
		t.Errorf("no monthly $20 budget on the openclaw key: %+v", act.Budgets)
	}
	shots(t, a, ww.w, "wizard-done")
	test.Tap(ww.next)
	if ww.visible {
		t.Error("Close left the wizard open")
	}
}

// changedLines are the lines of b not in a and of a not in b, in file order, one per line.
func changedLines(a, b string) (added, removed string) {
	in := func(s string) map[string]int {
		m := map[string]int{}
		for _, l := range strings.Split(strings.TrimSuffix(s, "\n"), "\n") {
			m[l]++
		}
		return m
	}
	ina, inb := in(a), in(b)
	var add, rem []string
	for _, l := range strings.Split(strings.TrimSuffix(b, "\n"), "\n") {
		if ina[l] == 0 {
			add = append(add, l)
		}
	}
	for _, l := range strings.Split(strings.TrimSuffix(a, "\n"), "\n") {
		if inb[l] == 0 {
			rem = append(rem, l)
		}
	}
	return strings.Join(add, "\n"), strings.Join(rem, "\n")
}

// linesWith are the diff's lines with prefix, the prefix cut.
func linesWith(diff, prefix string) string {
	var out []string
	for _, l := range strings.Split(diff, "\n") {
		if rest, ok := strings.CutPrefix(l, prefix); ok {
			out = append(out, rest)
		}
	}
	return strings.Join(out, "\n")
}
