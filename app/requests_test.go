package app

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
	"time"

	"github.com/clawgate/clawgate/internal/fakeupstream"
)

// Requests served through the gateway, filtered by model, key, status and text, and exported as CSV.
func TestRequestsFilterAndCSV(t *testing.T) {
	up := httptest.NewServer(fakeupstream.New())
	defer up.Close()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	os.WriteFile(cfg, []byte(`general_settings: {master_key: sk-master}
model_list:
  - model_name: mini
    litellm_params: {model: openai/gpt-4o-mini, api_base: "`+up.URL+`/v1", api_key: sk-up}
  - model_name: down
    litellm_params: {model: openai/gpt-4o-mini, api_base: "http://127.0.0.1:1/v1", api_key: sk-up}
`), 0o600)
	a := startApp(t, Options{ConfigPath: cfg, DataDir: dir})
	ctx := context.Background()
	call := func(key, model string) {
		req, _ := http.NewRequest("POST", a.Status().BaseURL()+"/v1/chat/completions",
			bytes.NewReader([]byte(`{"model":"`+model+`","messages":[{"role":"user","content":"hi"}]}`)))
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	ci, err := a.CreateKey(ctx, KeySpec{Alias: "ci"})
	if err != nil {
		t.Fatal(err)
	}
	oc, _ := a.CreateKey(ctx, KeySpec{Alias: "openclaw"})
	call(ci, "mini")
	call(ci, "down")
	call(oc, "mini")
	call(oc, "mini")

	for name, tt := range map[string]struct {
		f    RequestFilter
		want int
	}{
		"all":             {RequestFilter{}, 4},
		"limit":           {RequestFilter{Limit: 3}, 3},
		"key":             {RequestFilter{Key: "openclaw"}, 2},
		"failed":          {RequestFilter{Status: "failed"}, 1},
		"ok by ci":        {RequestFilter{Key: "ci", Status: "ok"}, 1},
		"model":           {RequestFilter{Model: "down"}, 1},
		"text in error":   {RequestFilter{Text: "CONNECT"}, 1},
		"text in the key": {RequestFilter{Text: "claw"}, 2},
		"nothing":         {RequestFilter{Key: "nobody"}, 0},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := a.Requests(ctx, tt.f)
			if err != nil || len(got) != tt.want {
				t.Errorf("%d rows, want %d (%v)", len(got), tt.want, err)
			}
		})
	}

	// Pages of one, forward to the end and back: each request once, then an empty page.
	all, _ := a.Requests(ctx, RequestFilter{})
	var walked []string
	var last *Request
	for range 6 {
		p, err := a.Requests(ctx, RequestFilter{Limit: 1, After: last})
		if err != nil || len(p) > 1 {
			t.Fatalf("page after %v: %v %v", last, p, err)
		}
		if len(p) == 0 {
			break
		}
		walked, last = append(walked, p[0].ID), &p[0]
	}
	if len(walked) != len(all) || walked[0] != all[0].ID || walked[len(all)-1] != all[len(all)-1].ID {
		t.Errorf("walked %v, want %d rows in the order of %v", walked, len(all), all)
	}
	if back, err := a.Requests(ctx, RequestFilter{Limit: 2, Before: last}); err != nil || len(back) != 2 ||
		back[0].ID != all[len(all)-3].ID || back[1].ID != all[len(all)-2].ID {
		t.Errorf("previous page from the oldest: %v %v", back, err)
	}
	if none, err := a.Requests(ctx, RequestFilter{Since: time.Now().Add(time.Hour)}); err != nil || len(none) != 0 {
		t.Errorf("future range: %v %v", none, err)
	}
	if got, err := a.Requests(ctx, RequestFilter{Since: time.Now().Add(-time.Hour), Until: time.Now().Add(time.Minute)}); err != nil || len(got) != 4 {
		t.Errorf("the last hour: %d rows, %v", len(got), err)
	}

	var buf bytes.Buffer
	n, err := a.ExportRequestsCSV(ctx, RequestFilter{Key: "ci", Limit: 1, After: &all[len(all)-1]}, &buf)
	if err != nil || n != 2 {
		t.Fatalf("export: %d rows, %v", n, err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil || len(rows) != 3 || strings.Join(rows[0], ",") != strings.Join(csvHeader, ",") {
		t.Fatalf("csv %q %v", rows, err)
	}
	// Newest first: the failed call to down, then mini.
	if r := rows[1]; r[2] != "down" || r[5] != "ci" || r[12] != "failure" || r[13] == "" {
		t.Errorf("first row %q", r)
	}
	if r := rows[2]; r[2] != "mini" || r[12] != "success" || r[7] == "0" {
		t.Errorf("second row %q", r)
	}
}

// The Overview sums the same requests by day and model.
func TestOverview(t *testing.T) {
	up := httptest.NewServer(fakeupstream.New())
	defer up.Close()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	os.WriteFile(cfg, []byte(`general_settings: {master_key: sk-master}
model_list:
  - model_name: mini
    litellm_params: {model: openai/gpt-4o-mini, api_base: "`+up.URL+`/v1", api_key: sk-up}
  - model_name: big
    litellm_params: {model: openai/gpt-4o, api_base: "`+up.URL+`/v1", api_key: sk-up}
`), 0o600)
	a := startApp(t, Options{ConfigPath: cfg, DataDir: dir})
	ctx := context.Background()
	ci, _ := a.CreateKey(ctx, KeySpec{Alias: "ci"})
	for _, m := range []string{"mini", "big", "big"} {
		req, _ := http.NewRequest("POST", a.Status().BaseURL()+"/v1/chat/completions",
			bytes.NewReader([]byte(`{"model":"`+m+`","messages":[{"role":"user","content":"hi"}]}`)))
		req.Header.Set("Authorization", "Bearer "+ci)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	o, err := a.Overview(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(o.Days) != OverviewDays || o.Requests != 3 || o.Today.Requests != 3 || o.Week.Requests != 3 || o.Month.Requests != 3 {
		t.Fatalf("overview %+v", o)
	}
	last := o.Days[len(o.Days)-1]
	if strings.Join(o.Models, ",") != "big,mini" || last.Total != o.Today.Spend || last.ByModel[0] <= last.ByModel[1] || last.Total <= 0 {
		t.Errorf("models %v, today %+v, spend %v", o.Models, last, o.Today.Spend)
	}
	if len(o.TopKeys) != 1 || o.TopKeys[0].Name != "ci" || o.TopKeys[0].Spend != o.Today.Spend {
		t.Errorf("top keys %+v", o.TopKeys)
	}
}

// The detail pane's row: bodies only with prompt storage on, and "Copy as curl" never holds a key.
func TestRequestDetailAndCurl(t *testing.T) {
	up := httptest.NewServer(fakeupstream.New())
	defer up.Close()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	os.WriteFile(cfg, []byte(`general_settings: {master_key: sk-master-secret, store_prompts_in_spend_logs: true}
model_list:
  - model_name: mini
    litellm_params: {model: openai/gpt-4o-mini, api_base: "`+up.URL+`/v1", api_key: sk-up}
`), 0o600)
	a := startApp(t, Options{ConfigPath: cfg, DataDir: dir})
	ctx := context.Background()
	req, _ := http.NewRequest("POST", a.Status().BaseURL()+"/v1/chat/completions",
		strings.NewReader(`{"model":"mini","messages":[{"role":"user","content":"it's here"}],"api_key":"sk-body-secret"}`))
	req.Header.Set("Authorization", "Bearer sk-master-secret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	rs, err := a.Requests(ctx, RequestFilter{})
	if err != nil || len(rs) != 1 {
		t.Fatalf("%v %v", rs, err)
	}
	d, err := a.RequestDetail(ctx, rs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if d.ID != rs[0].ID || d.CallType != "acompletion" || !strings.Contains(string(d.Body), "it's here") || len(d.Reply) == 0 {
		t.Errorf("detail %+v body %s reply %s", d.Request, d.Body, d.Reply)
	}
	curl := d.Curl(a.Status().BaseURL())
	for _, want := range []string{"curl '" + a.Status().BaseURL() + "/v1/chat/completions'", "Bearer $LITELLM_API_KEY", `it'\''s here`} {
		if !strings.Contains(curl, want) {
			t.Errorf("curl lacks %q:\n%s", want, curl)
		}
	}
	for _, secret := range []string{"sk-master-secret", "sk-body-secret", "sk-up"} {
		if strings.Contains(curl, secret) {
			t.Errorf("curl holds %s:\n%s", secret, curl)
		}
	}
	// Without a stored body the command still names the model, with a placeholder prompt.
	d.Body = nil
	if c := d.Curl("http://h/"); !strings.Contains(c, `"model":"mini"`) || !strings.Contains(c, "'http://h/v1/chat/completions'") {
		t.Errorf("curl without a body:\n%s", c)
	}
}

// A served request is announced to change subscribers, and only to them.
func TestSubscribeChanges(t *testing.T) {
	up := httptest.NewServer(fakeupstream.New())
	defer up.Close()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	os.WriteFile(cfg, []byte(`model_list:
  - model_name: mini
    litellm_params: {model: openai/gpt-4o-mini, api_base: "`+up.URL+`/v1", api_key: sk-up}
`), 0o600)
	a := startApp(t, Options{ConfigPath: cfg, DataDir: dir})
	changes, unsubscribe := a.SubscribeChanges()
	status, unsubStatus := a.Subscribe()
	defer unsubStatus()
	select {
	case e := <-changes:
		t.Fatalf("a change before any request: %+v", e)
	default:
	}
	resp, err := http.Post(a.Status().BaseURL()+"/v1/chat/completions", "application/json",
		strings.NewReader(`{"model":"mini","messages":[{"role":"user","content":"hi"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	select {
	case e := <-changes:
		if e.Kind != EventRequests {
			t.Errorf("kind %v", e.Kind)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no change event for a served request")
	}
	for len(status) > 0 {
		if e := <-status; e.Kind == EventRequests {
			t.Error("a request event reached the tray's subscription")
		}
	}
	unsubscribe()
	resp, err = http.Post(a.Status().BaseURL()+"/v1/chat/completions", "application/json",
		strings.NewReader(`{"model":"mini","messages":[{"role":"user","content":"hi"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if len(changes) != 0 {
		t.Error("an event after unsubscribing")
	}
}
