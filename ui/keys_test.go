package ui

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/clawgate/clawgate/internal/fakeupstream"
)

// The Budgets tab against the real app: create a key with a budget, copy it from the once-only
// dialog, call the gateway with it; then set the proxy budget, which lands in config.yaml with its
// comments and shows as the first row.
func TestKeysCreateCopyAndProxyBudget(t *testing.T) {
	up := httptest.NewServer(fakeupstream.New())
	defer up.Close()
	config := strings.Replace(routesConfig, "ollama_chat/llama3.1\n      api_base: http://127.0.0.1:9",
		"openai/gpt-4o-mini\n      api_base: "+up.URL+"/v1\n      api_key: sk-up", 1)
	svc, path := realApp(t, config, memKeychain{})
	a := test.NewTempApp(t)
	uiQueue(t)
	g := newGUI(a, newFakeTray(), svc, Options{})
	settle(t, g)
	g.activityWin().show(tabBudgets)
	defer g.activityWin().hide()
	be := &g.activityWin().bedit
	waitFor(t, "the first read", func() bool { return len(g.activityWin().lastRoutes) == 1 })
	if be.newKey.Hidden || be.proxy.Hidden {
		t.Fatal("the key buttons are hidden with a service that manages keys")
	}

	test.Tap(be.newKey)
	f := be.keyForm
	test.Type(f.alias, "ci")
	test.Type(f.maxBudget, "five")
	if !strings.Contains(f.problem.Text, "amount in USD") || !f.save.Disabled() {
		t.Errorf("a budget that is not a number: %q, save disabled %v", f.problem.Text, f.save.Disabled())
	}
	f.maxBudget.SetText("5")
	f.softBudget.SetText("6")
	if !strings.Contains(f.problem.Text, "soft budget") || !f.save.Disabled() {
		t.Errorf("soft budget over the budget: %q", f.problem.Text)
	}
	assertReadable(t, "key form with a problem", g.activityWin().w.Canvas().Overlays().Top())
	f.softBudget.SetText("4")
	f.period.SetText("monthly")
	f.models.SetSelected([]string{"local"})
	f.rpm.SetText("60")
	if f.problem.Text != "" || f.save.Disabled() {
		t.Fatalf("a valid key: %q", f.problem.Text)
	}
	shots(t, a, g.activityWin().w, "key-form")
	test.Tap(f.save)
	waitFor(t, "the key", func() bool { return be.shown != nil })
	secret := be.shown.secret
	if !strings.HasPrefix(secret, "sk-") {
		t.Fatalf("secret %q", secret)
	}
	shots(t, a, g.activityWin().w, "key-created")
	test.Tap(be.shown.copy)
	if got := a.Clipboard().Content(); got != secret {
		t.Errorf("clipboard %q, want the secret", got)
	}
	test.Tap(topOverlayButton(t, g.activityWin().w, "Done"))
	waitFor(t, "the key's row", func() bool { return len(g.activityWin().brows) == 1 })
	if r := g.activityWin().brows[0]; r[0] != "ci" || r[2] != "$5.0000" {
		t.Errorf("row %q", r)
	}
	req, _ := http.NewRequest("POST", svc.Status().BaseURL()+"/v1/chat/completions",
		bytes.NewReader([]byte(`{"model":"local","messages":[{"role":"user","content":"hi"}]}`)))
	req.Header.Set("Authorization", "Bearer "+secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("the new key is refused: %d", resp.StatusCode)
	}

	// Edit it: the form comes filled from the store.
	g.activityWin().budgets.table.Select(widget.TableCellID{Row: 0, Col: 0})
	test.Tap(be.editKey)
	f = be.keyForm
	waitFor(t, "the key's details", func() bool { return f.alias.Text == "ci" })
	if f.maxBudget.Text != "5" || f.softBudget.Text != "4" || f.period.Text != "monthly" || f.rpm.Text != "60" ||
		strings.Join(f.models.Selected, ",") != "local" {
		t.Errorf("edit form: %q %q %q %q %v", f.maxBudget.Text, f.softBudget.Text, f.period.Text, f.rpm.Text, f.models.Selected)
	}
	f.maxBudget.SetText("7.5")
	test.Tap(f.save)
	waitFor(t, "the edit", func() bool { return len(g.activityWin().brows) == 1 && g.activityWin().brows[0][2] == "$7.5000" })

	// The proxy budget.
	test.Tap(be.proxy)
	var limit *widget.Entry
	waitFor(t, "the proxy budget form", func() bool {
		if top := g.activityWin().w.Canvas().Overlays().Top(); top != nil {
			for _, o := range test.LaidOutObjects(top) {
				if e, ok := o.(*widget.Entry); ok && e.PlaceHolder == "USD, empty for none" {
					limit = e
				}
			}
		}
		return limit != nil
	})
	limit.SetText("20")
	test.Tap(topOverlayButton(t, g.activityWin().w, "Save"))
	waitFor(t, "the proxy budget", func() bool { return len(g.activityWin().brows) == 2 })
	if r := g.activityWin().brows[0]; r[0] != "All requests (proxy budget)" || r[2] != "$20.0000" {
		t.Errorf("proxy row %q", r)
	}
	text, _ := os.ReadFile(path)
	if !strings.Contains(string(text), "litellm_settings:\n  max_budget: 20\n") || !strings.Contains(string(text), "master_key: sk-master   # mine") {
		t.Errorf("config:\n%s", text)
	}
	// Its row's Set limit… edits the same.
	g.activityWin().budgets.table.Select(widget.TableCellID{Row: 0, Col: 0})
	if be.setLimit.Disabled() {
		t.Error("Set limit… disabled on the proxy budget's row")
	}
}
