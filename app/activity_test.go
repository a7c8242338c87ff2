package app

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clawgate/clawgate/internal/fakeupstream"
)

func TestActivity(t *testing.T) {
	t.Setenv("LITELLM_MASTER_KEY", "")
	up := httptest.NewServer(fakeupstream.New())
	defer up.Close()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	os.WriteFile(cfg, []byte(`model_list:
  - model_name: mini
    litellm_params: {model: openai/gpt-4o-mini, api_base: "`+up.URL+`/v1", api_key: sk-up}
  - model_name: down
    litellm_params: {model: openai/gpt-4o-mini, api_base: "http://127.0.0.1:1/v1", api_key: sk-up}
`), 0o600)
	a := startApp(t, Options{ConfigPath: cfg, DataDir: dir})

	got, err := a.Activity(context.Background(), 50)
	if err != nil || len(got.Requests) != 0 || got.Today.Requests != 0 || got.Month.Spend != 0 {
		t.Fatalf("before any request: %+v, %v", got, err)
	}
	post := func(body string) {
		resp, err := http.Post(a.Status().BaseURL()+"/v1/chat/completions", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	post(`{"model":"mini","messages":[{"role":"user","content":"hi"}]}`)
	post(`{"model":"mini","stream":true,"messages":[{"role":"user","content":"hi"}]}`)
	post(`{"model":"down","messages":[{"role":"user","content":"hi"}]}`)

	// Activity flushes the writer first: the requests just made are listed, newest first.
	got, err = a.Activity(context.Background(), 50)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Requests) != 3 {
		t.Fatalf("%d requests listed, want 3: %+v", len(got.Requests), got.Requests)
	}
	failed, streamed, plain := got.Requests[0], got.Requests[1], got.Requests[2]
	if failed.Model != "down" || failed.OK || failed.Error == "" {
		t.Errorf("failed request: %+v", failed)
	}
	if !streamed.Stream || !streamed.OK || streamed.Model != "mini" || streamed.Provider != "openai" || streamed.Upstream != "gpt-4o-mini" ||
		streamed.PromptTokens == 0 || streamed.CompletionTokens == 0 || streamed.Cost <= 0 || streamed.Duration <= 0 {
		t.Errorf("streamed request: %+v", streamed)
	}
	if plain.Stream || !plain.OK || plain.Cost <= 0 {
		t.Errorf("plain request: %+v", plain)
	}
	if got.Today.Requests != 3 || got.Month.Requests != 3 {
		t.Errorf("tallies: today %+v, month %+v", got.Today, got.Month)
	}
	if want := streamed.Cost + plain.Cost; got.Today.Spend < want*0.999 || got.Today.Spend > want*1.001 || got.Month.Spend != got.Today.Spend {
		t.Errorf("spend today %v, month %v, want %v", got.Today.Spend, got.Month.Spend, want)
	}
	if got, _ := a.Activity(context.Background(), 1); len(got.Requests) != 1 || got.Today.Requests != 3 {
		t.Errorf("limit 1: %d rows, %d today", len(got.Requests), got.Today.Requests)
	}
}
