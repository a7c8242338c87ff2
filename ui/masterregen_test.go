package ui

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
)

// Regenerate… in the Keys tab warns first, then puts a new master key in force and shows it masked.
func TestKeysRegenerateMaster(t *testing.T) {
	t.Setenv("LITELLM_MASTER_KEY", "")
	config := strings.Replace(routesConfig, "  master_key: sk-master   # mine\n", "  store_prompts_in_spend_logs: false\n", 1)
	svc, _ := realApp(t, config, memKeychain{})
	old := svc.MasterKey()
	if old == "" || svc.Status().Auth != "keychain" {
		t.Fatalf("master %q from %s", old, svc.Status().Auth)
	}
	a := test.NewTempApp(t)
	uiQueue(t)
	g := newGUI(a, newFakeTray(), svc, Options{})
	settle(t, g)
	g.activityWin().w.Resize(fyne.NewSize(1100, 640))
	g.activityWin().show(tabKeys)
	defer g.activityWin().hide()
	kt := g.activityWin().keys
	waitFor(t, "the master key", func() bool { return kt.last.master == old })
	if kt.regen == nil {
		t.Fatal("no Regenerate: *app.App lacks RegenerateMasterKey")
	}
	test.Tap(kt.regen)
	shots(t, a, g.activityWin().w, "keys-regenerate-master")
	test.Tap(topOverlayButton(t, g.activityWin().w, "Yes"))
	waitFor(t, "the new key", func() bool { return kt.last.master != old && kt.last.master != "" })
	if svc.MasterKey() == old || !strings.HasPrefix(kt.status.Text, "New master key in force") {
		t.Errorf("master still the old one, or status %q", kt.status.Text)
	}
	if strings.Contains(kt.master.Text, kt.last.master) {
		t.Error("the new key is shown unmasked")
	}
}
