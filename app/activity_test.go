package app

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clawgate/clawgate/internal/fakeupstream"
)

func TestActivity(t *testing.T) {
	t.Setenv("LITELLM_MASTER_KEY", "sk-master")
	up := httptest.NewServer(fakeupstream.New())
	defer up.Close()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	os.WriteFile(cfg, []byte(`model_list:
  - model_name: mini
    litellm_params: {model: openai/gpt-4o-mini, api_base: "`+up.URL+`/v1", api_key: sk-up}
  - model_name: down
    litellm_params: {model: openai/gpt-4o-mini, api_base: "http://127.0.0.1:1/v1", api_key: sk-up}
litellm_settings: {max_budget: 10, budget_duration: 30d}
`), 0o600)
	a := startApp(t, Options{ConfigPath: cfg, DataDir: dir})

	got, err := a.Activity(context.Background(), 50)
	if err != nil || len(got.Requests) != 0 || got.Today.Requests != 0 || got.Month.Spend != 0 {
		t.Fatalf("before any request: %+v, %v", got, err)
	}
	if len(got.Budgets) != 1 || !got.Budgets[0].Global || *got.Budgets[0].MaxBudget != 10 || got.Budgets[0].Duration != "30d" ||
		got.Budgets[0].ResetAt == nil || got.Budgets[0].Spend != 0 {
		t.Fatalf("budgets before any request: %+v", got.Budgets)
	}
	call := func(path, key, body string) []byte {
		t.Helper()
		req, _ := http.NewRequest("POST", a.Status().BaseURL()+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return b
	}
	var minted struct{ Key string }
	if err := json.Unmarshal(call("/key/generate", "sk-master", `{"key_alias":"openclaw","max_budget":1}`), &minted); err != nil || minted.Key == "" {
		t.Fatalf("key/generate: %v", err)
	}
	post := func(body string) { call("/v1/chat/completions", minted.Key, body) }
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
	// Routes: both deployments; the unreachable one has failed (once per retry).
	if len(got.Routes) != 2 || got.Routes[0].Name != "mini" || got.Routes[0].RecentFailures != 0 ||
		got.Routes[1].Name != "down" || got.Routes[1].RecentFailures == 0 {
		t.Errorf("routes: %+v", got.Routes)
	}
	// Budgets: the proxy-wide one and the key's, both with the spend just made.
	if len(got.Budgets) != 2 {
		t.Fatalf("budgets: %+v", got.Budgets)
	}
	global, key := got.Budgets[0], got.Budgets[1]
	if !global.Global || global.Spend < got.Today.Spend*0.999 || global.Spend > got.Today.Spend*1.001 {
		t.Errorf("global budget %+v, spend today %v", global, got.Today.Spend)
	}
	if key.Global || key.Name != "openclaw" || *key.MaxBudget != 1 || key.Spend < got.Today.Spend*0.999 || key.Blocked {
		t.Errorf("key budget %+v", key)
	}
	// Editing the key from the tray: a limit and a reset period, then blocked, which the gateway
	// enforces at once.
	limit, monthly, yes := 2.5, "monthly", true
	if err := a.EditKey(context.Background(), key.Token, KeyEdit{MaxBudget: &limit, BudgetDuration: &monthly}); err != nil {
		t.Fatal(err)
	}
	got, _ = a.Activity(context.Background(), 50)
	if k := got.Budgets[1]; *k.MaxBudget != 2.5 || k.Duration != "monthly" || k.ResetAt == nil || k.Blocked {
		t.Errorf("after the edit: %+v", k)
	}
	if err := a.EditKey(context.Background(), key.Token, KeyEdit{Blocked: &yes}); err != nil {
		t.Fatal(err)
	}
	if b := call("/v1/chat/completions", minted.Key, `{"model":"mini","messages":[{"role":"user","content":"hi"}]}`); !strings.Contains(string(b), "blocked") {
		t.Errorf("a blocked key was served: %s", b)
	}
	bad := -1.0
	if err := a.EditKey(context.Background(), key.Token, KeyEdit{MaxBudget: &bad}); err == nil {
		t.Error("a negative limit was accepted")
	}
	// The blocked key's refusal is logged as a failed request too.
	if got, _ := a.Activity(context.Background(), 1); len(got.Requests) != 1 || got.Today.Requests != 4 || got.Requests[0].OK {
		t.Errorf("limit 1: %d rows, %d today", len(got.Requests), got.Today.Requests)
	}
}
