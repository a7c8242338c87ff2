package ui

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"

	"github.com/clawgate/clawgate/app"
	"github.com/clawgate/clawgate/internal/fakeupstream"
)

// The Overview tab sums the real store: totals, a bar per day stacked by model, the top keys.
func TestOverviewTab(t *testing.T) {
	up := httptest.NewServer(fakeupstream.New())
	defer up.Close()
	config := strings.Replace(routesConfig, "ollama_chat/llama3.1\n      api_base: http://127.0.0.1:9",
		"openai/gpt-4o-mini\n      api_base: "+up.URL+"/v1\n      api_key: sk-up", 1) +
		"  - model_name: big\n    litellm_params:\n      model: openai/gpt-4o\n      api_base: " + up.URL + "/v1\n      api_key: sk-up\n"
	svc, _ := realApp(t, config, memKeychain{})
	ci, err := svc.CreateKey(context.Background(), app.KeySpec{Alias: "ci"})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"local", "big", "big"} {
		req, _ := http.NewRequest("POST", svc.Status().BaseURL()+"/v1/chat/completions",
			bytes.NewReader([]byte(`{"model":"`+m+`","messages":[{"role":"user","content":"hi"}]}`)))
		req.Header.Set("Authorization", "Bearer "+ci)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	a := test.NewTempApp(t)
	uiQueue(t)
	g := newGUI(a, newFakeTray(), svc, Options{})
	settle(t, g)
	g.activityWin().show(tabRequests)
	defer g.activityWin().hide()
	ot := g.activityWin().overview
	if ot == nil {
		t.Fatal("no Overview tab")
	}
	waitFor(t, "the first read", func() bool { return len(g.activityWin().rows) == 3 })
	if ot.last.Requests != 0 {
		t.Error("the Overview was summed while another tab was shown")
	}
	g.activityWin().tabs.Select(ot.tab)
	waitFor(t, "the overview", func() bool { return ot.last.Requests == 3 })
	if !strings.HasPrefix(ot.totals.Text, "Today $") || !strings.Contains(ot.totals.Text, "3 requests, 0.0% failed") {
		t.Errorf("totals %q", ot.totals.Text)
	}
	if !strings.HasPrefix(ot.keys.Text, "Top keys over 30 days: ci $") {
		t.Errorf("keys %q", ot.keys.Text)
	}
	if n := len(ot.chart.plot.Objects); n != app.OverviewDays*2+1 {
		t.Errorf("%d objects in the plot, want a bar per day and model and the axis", n)
	}
	shots(t, a, g.activityWin().w, "overview")
}

// The chart's colours stay apart from the background on both themes (WCAG's 3:1 for graphics).
func TestSeriesColoursReadable(t *testing.T) {
	for _, v := range variants {
		bg := theme.DefaultTheme().Color(theme.ColorNameBackground, v.v)
		for i, c := range seriesColours {
			if r := contrast(c, bg); r < 3 {
				t.Errorf("%s: colour %d at %.2f:1", v.name, i, r)
			}
		}
	}
}
