package ui

import (
	"bytes"
	"context"
	"encoding/csv"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/clawgate/clawgate/app"
	"github.com/clawgate/clawgate/internal/fakeupstream"
)

// The Requests tab's filters and CSV export against the real app and its store.
func TestRequestsFiltersAndExport(t *testing.T) {
	up := httptest.NewServer(fakeupstream.New())
	defer up.Close()
	config := strings.Replace(routesConfig, "ollama_chat/llama3.1\n      api_base: http://127.0.0.1:9",
		"openai/gpt-4o-mini\n      api_base: "+up.URL+"/v1\n      api_key: sk-up", 1) +
		"  - model_name: down\n    litellm_params:\n      model: openai/gpt-4o-mini\n      api_base: http://127.0.0.1:9/v1\n      api_key: sk-up\n"
	svc, _ := realApp(t, config, memKeychain{})
	ctx := context.Background()
	ci, err := svc.CreateKey(ctx, app.KeySpec{Alias: "ci"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ key, model string }{{ci, "local"}, {ci, "down"}, {"sk-master", "local"}} {
		req, _ := http.NewRequest("POST", svc.Status().BaseURL()+"/v1/chat/completions",
			bytes.NewReader([]byte(`{"model":"`+c.model+`","messages":[{"role":"user","content":"hi"}]}`)))
		req.Header.Set("Authorization", "Bearer "+c.key)
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
	rf := g.activityWin().filters
	if rf == nil {
		t.Fatal("no filters for a service that can filter")
	}
	waitFor(t, "the requests", func() bool { return len(g.activityWin().rows) == 3 })

	test.Type(rf.key, "ci")
	waitFor(t, "ci's requests", func() bool { return len(g.activityWin().rows) == 2 })
	if !strings.HasSuffix(g.activityWin().summary.Text, "filtered: 2 matches") {
		t.Errorf("summary %q", g.activityWin().summary.Text)
	}
	rf.status.SetSelected("failed")
	waitFor(t, "ci's failure", func() bool { return len(g.activityWin().rows) == 1 })
	if r := g.activityWin().rows[0]; r[1] != "down → gpt-4o-mini" || !strings.HasPrefix(r[6], "failed") {
		t.Errorf("row %q", r)
	}
	shots(t, a, g.activityWin().w, "requests-filtered")

	path := filepath.Join(t.TempDir(), "out.csv")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	rf.exportTo(f)
	waitFor(t, "the export", func() bool { return rf.note.Text == "1 row exported" })
	b, _ := os.ReadFile(path)
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil || len(rows) != 2 || rows[1][2] != "down" || rows[1][5] != "ci" {
		t.Errorf("csv %q %v", rows, err)
	}

	// Clearing the filters brings every request back.
	rf.status.SetSelected(statusAll)
	rf.key.SetText("")
	waitFor(t, "all requests", func() bool { return len(g.activityWin().rows) == 3 })
	if strings.Contains(g.activityWin().summary.Text, "filtered") {
		t.Errorf("summary %q", g.activityWin().summary.Text)
	}
}
