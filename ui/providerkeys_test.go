package ui

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
)

// The Keys tab: the master key masked with Copy; the keychain's provider keys with the routes using
// each; Set stores one, Delete refuses a key a route uses and removes one no route uses.
func TestKeysTab(t *testing.T) {
	config := strings.Replace(routesConfig, "api_base: http://127.0.0.1:9   # nothing listens here",
		"api_base: http://127.0.0.1:9   # nothing listens here\n      api_key: keychain/ollama", 1)
	secrets := memKeychain{"ollama": "sk-local"}
	svc, _ := realApp(t, config, secrets)
	a := test.NewTempApp(t)
	uiQueue(t)
	g := newGUI(a, newFakeTray(), svc, Options{})
	settle(t, g)
	g.activityWin().show(tabKeys)
	defer g.activityWin().hide()
	kt := g.activityWin().keys
	if kt == nil {
		t.Fatal("no Keys tab for a service with secrets")
	}
	waitFor(t, "the keychain", func() bool { return len(kt.rows) == 1 })
	if kt.master.Text != "sk-••••••••••••ster" || strings.Contains(kt.master.Text, "master") {
		t.Errorf("master key shown as %q", kt.master.Text)
	}
	test.Tap(kt.copy)
	if got := a.Clipboard().Content(); got != "sk-master" {
		t.Errorf("clipboard %q", got)
	}
	if r := kt.rows[0]; r[0] != "ollama" || r[1] != "local" {
		t.Errorf("row %q", r)
	}

	test.Tap(kt.set)
	var entries []*widget.Entry
	for _, o := range test.LaidOutObjects(g.activityWin().w.Canvas().Overlays().Top()) {
		if e, ok := o.(*widget.Entry); ok {
			entries = append(entries, e)
		}
	}
	if len(entries) != 2 {
		t.Fatalf("%d entries in the Set form", len(entries))
	}
	entries[0].SetText("spare")
	entries[1].SetText("sk-spare")
	shots(t, a, g.activityWin().w, "provider-key-form")
	test.Tap(topOverlayButton(t, g.activityWin().w, "Save"))
	waitFor(t, "the new key", func() bool { return len(kt.rows) == 2 })
	if secrets["spare"] != "sk-spare" {
		t.Errorf("keychain %v", secrets)
	}
	shots(t, a, g.activityWin().w, "keys")

	kt.table.selectKey("ollama")
	test.Tap(kt.del)
	test.Tap(topOverlayButton(t, g.activityWin().w, "Yes"))
	waitFor(t, "the refusal", func() bool { return strings.HasPrefix(kt.status.Text, "Not deleted: ollama is used by local") })
	kt.table.selectKey("spare")
	test.Tap(kt.del)
	test.Tap(topOverlayButton(t, g.activityWin().w, "Yes"))
	waitFor(t, "the delete", func() bool { return len(kt.rows) == 1 })
	if _, ok := secrets["spare"]; ok {
		t.Error("spare is still in the keychain")
	}
}
