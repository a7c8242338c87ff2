package ui

import (
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/clawgate/clawgate/internal/fakeupstream"
)

// The Routes tab: Serve now makes the selected deployment its model's backend (the next requests go
// to it), and the Fallbacks dialog reorders router_settings.fallbacks with up/down, in force at once.
func TestRoutesServeNowAndFallbacks(t *testing.T) {
	upA, upB := fakeupstream.New(), fakeupstream.New()
	sa, sb := httptest.NewServer(upA), httptest.NewServer(upB)
	defer sa.Close()
	defer sb.Close()
	config := twoBackends(sa.URL, sb.URL) + "router_settings:\n  num_retries: 0\n  fallbacks:\n    - down: [\"mini\", \"gpt-4o\"] # in this order\n" +
		"  # nothing listens on port 9\n"
	config = strings.Replace(config, "model_list:\n", "model_list:\n  - model_name: down\n    litellm_params:\n      model: openai/x\n      api_base: http://127.0.0.1:9/v1\n      api_key: sk-x\n", 1)
	svc, path := realApp(t, config, memKeychain{})
	a := test.NewTempApp(t)
	uiQueue(t)
	g := newGUI(a, newFakeTray(), svc, Options{})
	settle(t, g)
	g.activityWin().w.Resize(fyne.NewSize(1100, 640))
	g.activityWin().show(tabRoutes)
	defer g.activityWin().hide()
	re := g.activityWin().redit
	waitFor(t, "the file's routes", func() bool { return len(g.activityWin().rrows) == 4 })
	ro := re.order
	if ro == nil {
		t.Fatal("no backend choice: *app.App lacks an orderService method")
	}
	g.activityWin().routes.table.Select(widget.TableCellID{Row: 2, Col: 0}) // mini: one deployment
	if !ro.serve.Disabled() {
		t.Error("Serve now is enabled for a model with one deployment")
	}
	g.activityWin().routes.table.Select(widget.TableCellID{Row: 3, Col: 0}) // gpt-4o at B
	if ro.serve.Disabled() || !strings.Contains(re.status.Text, "sharing its requests") {
		t.Fatalf("B selected: serve disabled=%v, status %q", ro.serve.Disabled(), re.status.Text)
	}
	test.Tap(ro.serve)
	// The re-read after the edit selects the row again and says it serves now.
	waitFor(t, "the switch", func() bool { return strings.Contains(re.status.Text, "this one serves it now") })
	if !ro.serve.Disabled() {
		t.Error("Serve now still enabled on the deployment that serves")
	}
	base := svc.Status().BaseURL()
	chat(t, base, "gpt-4o")
	chat(t, base, "gpt-4o")
	if upA.Requests() != 0 || upB.Requests() != 2 {
		t.Fatalf("A served %d, B %d: want B", upA.Requests(), upB.Requests())
	}

	// "down" falls back to mini (at A) first.
	chat(t, base, "down")
	if upA.Requests() != 1 {
		t.Fatalf("down's first fallback: A served %d", upA.Requests())
	}
	test.Tap(ro.fallbacks)
	waitFor(t, "the fallbacks", func() bool { return ro.fb != nil && len(ro.fb.chains) == 1 })
	fv := ro.fb
	if got := labels(fv.box); strings.Join(got, "|") != "down falls back to|1. mini|2. gpt-4o" {
		t.Fatalf("dialog rows %q", got)
	}
	var downBtn *widget.Button
	for _, o := range test.LaidOutObjects(fv.box) {
		if b, ok := o.(*widget.Button); ok && downBtn == nil && !b.Disabled() {
			downBtn = b // the first enabled arrow: mini's down
		}
	}
	test.Tap(downBtn)
	waitFor(t, "the move", func() bool { return strings.Contains(fv.note.Text, "mini moved") })
	if got := labels(fv.box); strings.Join(got, "|") != "down falls back to|1. gpt-4o|2. mini" {
		t.Errorf("rows after the move %q", got)
	}
	text, _ := os.ReadFile(path)
	if !strings.Contains(string(text), "    - down: [\"gpt-4o\", \"mini\"] # in this order\n  # nothing listens on port 9\n") {
		t.Errorf("config after the move:\n%s", text)
	}
	chat(t, base, "down")
	if upB.Requests() != 3 || upA.Requests() != 1 {
		t.Errorf("after the move down went to A %d, B %d times; want gpt-4o (B) first", upA.Requests(), upB.Requests())
	}
	shots(t, a, g.activityWin().w, "routes-fallbacks")
}
