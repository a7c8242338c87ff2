package ui

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/clawgate/clawgate/internal/fakeupstream"
)

// twoBackends is a config with gpt-4o behind two upstreams (a, b) and one other model.
func twoBackends(a, b string) string {
	return "general_settings:\n  master_key: sk-master\nmodel_list:\n" +
		"  - model_name: gpt-4o # direct\n    litellm_params:\n      model: openai/gpt-4o\n      api_base: " + a + "/v1\n      api_key: sk-a\n" +
		"  - model_name: mini\n    litellm_params:\n      model: openai/gpt-4o-mini\n      api_base: " + a + "/v1\n      api_key: sk-a\n" +
		"  - model_name: gpt-4o # reseller\n    litellm_params:\n      model: openai/gpt-4o\n      api_base: " + b + "/v1\n      api_key: sk-b\n"
}

// latestMenu is the last menu the gui sent to the tray (after waiting for one).
func latestMenu(t *testing.T, tr *fakeTray) *fyne.Menu {
	t.Helper()
	m := receive(t, tr.menus, "tray menu")
	for {
		select {
		case m = <-tr.menus:
		default:
			return m
		}
	}
}

func chat(t *testing.T, base, model string) {
	t.Helper()
	req, _ := http.NewRequest("POST", base+"/v1/chat/completions",
		bytes.NewReader([]byte(`{"model":"`+model+`","messages":[{"role":"user","content":"hi"}]}`)))
	req.Header.Set("Authorization", "Bearer sk-master")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("%s: status %d", model, resp.StatusCode)
	}
}

// Switching a backend from the tray: one click checks it, writes order into config.yaml (OpenClaw's
// model name unchanged), and the next requests are served by it.
func TestTraySwitchBackend(t *testing.T) {
	upA, upB := fakeupstream.New(), fakeupstream.New()
	sa, sb := httptest.NewServer(upA), httptest.NewServer(upB)
	defer sa.Close()
	defer sb.Close()
	svc, path := realApp(t, twoBackends(sa.URL, sb.URL), memKeychain{})

	a := test.NewTempApp(t)
	uiQueue(t)
	tr := newFakeTray()
	g := newGUI(a, tr, svc, Options{})
	settle(t, g)
	m := latestMenu(t, tr)
	sub := menuItem(t, m, "Backend for gpt-4o").ChildMenu
	if sub == nil || len(sub.Items) != 2 || len(checked(sub)) != 0 {
		t.Fatalf("Backend submenu %+v (none checked while both share the load)", sub)
	}
	for _, it := range m.Items {
		if strings.Contains(it.Label, "mini") && strings.HasPrefix(it.Label, "Backend") {
			t.Errorf("a one-deployment model has a Backend submenu: %q", it.Label)
		}
	}
	bLabel := sub.Items[1].Label
	if !strings.Contains(bLabel, strings.TrimPrefix(sb.URL, "http://")) {
		t.Fatalf("second backend labelled %q, want B's host", bLabel)
	}
	sub.Items[1].Action()
	m = latestMenu(t, tr)
	if got := checked(menuItem(t, m, "Backend for gpt-4o").ChildMenu); len(got) != 1 || got[0] != bLabel {
		t.Fatalf("checked right after the click: %q", got)
	}
	g.jobs.Wait()
	pump()
	text, _ := os.ReadFile(path)
	if strings.Count(string(text), "order: ") != 2 || !strings.HasSuffix(string(text), "api_key: sk-b\n      order: 1\n") {
		t.Fatalf("config after the switch:\n%s", text)
	}
	base := svc.Status().BaseURL()
	for range 4 {
		chat(t, base, "gpt-4o")
	}
	if upA.Requests() != 0 || upB.Requests() != 4 {
		t.Fatalf("A served %d, B %d: the switch did not take", upA.Requests(), upB.Requests())
	}
	// And back to A, from the menu as it is now (rebuilt only if the service's status differed).
	select {
	case m = <-tr.menus:
	default:
	}
	sub = menuItem(t, m, "Backend for gpt-4o").ChildMenu
	sub.Items[0].Action()
	g.jobs.Wait()
	pump()
	chat(t, base, "gpt-4o")
	if upA.Requests() != 1 {
		t.Fatalf("A served %d after switching back", upA.Requests())
	}
}
