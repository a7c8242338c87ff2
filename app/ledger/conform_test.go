package ledger

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clawgate/clawgate/proxy"
)

// LiteLLM's own proxy tests, as they found Clawgate: key aliases, /key/info and /key/update.
func TestKeyAliasesRoute(t *testing.T) {
	e := newEnv(t)
	key, _ := e.generate(`{"models": ["exact"], "aliases": {"fast": "exact", "big": "gpt-4o"}}`)
	if a, _ := e.info(key)["aliases"].(map[string]any); a["fast"] != "exact" || a["big"] != "gpt-4o" || len(a) != 2 {
		t.Fatalf("/key/info aliases: %v", e.info(key)["aliases"])
	}
	fast := strings.Replace(exactChat, `"model":"exact"`, `"model":"fast"`, 1)
	r := e.chat(key, fast)
	if r.status != 200 || r.header.Get("X-Litellm-Model-Group") != "exact" {
		t.Fatalf("model=fast (alias of exact): %d group %q %s", r.status, r.header.Get("X-Litellm-Model-Group"), r.body)
	}
	// The key's models list holds for the group an alias resolves to.
	big := strings.Replace(exactChat, `"model":"exact"`, `"model":"big"`, 1)
	if er := e.chat(key, big).errOf(t, 403); er.Type != "key_model_access_denied" {
		t.Errorf("alias to a group the key may not use: type %q", er.Type)
	}
	// Changed by /key/update, kept across a restart.
	if r := e.master("POST", "/key/update", `{"key": "`+key+`", "aliases": {"fast": "gpt-4o-mini"}, "models": []}`); r.status != 200 {
		t.Fatalf("/key/update: %d %s", r.status, r.body)
	}
	e.restart()
	if r := e.chat(key, fast); r.status != 200 || r.header.Get("X-Litellm-Model-Group") != "gpt-4o-mini" {
		t.Errorf("after update and restart, model=fast: %d group %q", r.status, r.header.Get("X-Litellm-Model-Group"))
	}
	if r := e.master("POST", "/key/generate", `{"aliases": {"fast": ""}}`); r.status != 400 {
		t.Errorf("an alias to nothing: %d", r.status)
	}
}

func TestKeyInfoConformance(t *testing.T) {
	clk := newClock(time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC))
	e := newEnv(t, withClock(clk))
	key, token := e.generate(`{"key_alias": "mine"}`)
	for name, bearer := range map[string]string{"master": masterKey, "itself": key} {
		r := e.do("GET", "/key/info?key="+key, bearer, "")
		if r.status != 200 {
			t.Fatalf("%s: %d %s", name, r.status, r.body)
		}
		if _, ok := r.obj(t)["info"].(map[string]any)["token"]; ok || strings.Contains(string(r.body), `"token"`) {
			t.Errorf("%s: /key/info shows the key's hash: %s", name, r.body)
		}
	}
	// A key that does not exist: 404 to a virtual key too, as LiteLLM answers.
	if er := e.do("GET", "/key/info?key=sk-nosuchkey0000000000000", key, "").errOf(t, 404); er.Type != "not_found_error" {
		t.Errorf("unknown key: type %q", er.Type)
	}
	other, _ := e.generate(`{}`)
	e.do("GET", "/key/info?key="+other, key, "").errOf(t, 403)

	before := e.info(token)["updated_at"]
	clk.Set(clk.Now().Add(time.Hour))
	r := e.master("POST", "/key/update", `{"key": "`+key+`", "max_budget": 3}`)
	if r.status != 200 || r.obj(t)["updated_at"] == before {
		t.Errorf("/key/update answered updated_at %v, before %v", r.obj(t)["updated_at"], before)
	}
	if got := e.info(token)["updated_at"]; got != clk.Now().UTC().Format(time.RFC3339) {
		t.Errorf("/key/info updated_at after the update: %v, want %s", got, clk.Now().UTC().Format(time.RFC3339))
	}
}

// x-litellm-key-spend is the key's spend before the request, x-litellm-key-max-budget its
// limit, x-litellm-version the build's.
func TestKeyResponseHeaders(t *testing.T) {
	e := newEnv(t)
	key, _ := e.generate(`{"max_budget": 5}`)
	r := e.chat(key, exactChat)
	if r.status != 200 || r.header.Get("X-Litellm-Key-Spend") != "0" || r.header.Get("X-Litellm-Key-Max-Budget") != "5" ||
		r.header.Get("X-Litellm-Version") != proxy.Version {
		t.Fatalf("first call: %d headers %v", r.status, r.header)
	}
	cost, err := strconv.ParseFloat(r.header.Get("X-Litellm-Response-Cost"), 64)
	if err != nil || cost <= 0 {
		t.Fatalf("response cost %q", r.header.Get("X-Litellm-Response-Cost"))
	}
	r = e.chat(key, exactChat)
	if got, _ := strconv.ParseFloat(r.header.Get("X-Litellm-Key-Spend"), 64); !near(got, cost) {
		t.Errorf("second call: x-litellm-key-spend %q, want the first call's cost %v", r.header.Get("X-Litellm-Key-Spend"), cost)
	}
	unlimited, _ := e.generate(`{}`)
	if r := e.chat(unlimited, exactChat); r.header.Get("X-Litellm-Key-Max-Budget") != "" || r.header.Get("X-Litellm-Key-Spend") != "0" {
		t.Errorf("a key without a budget: %v", r.header)
	}
}

// /health/readiness says the database is connected; metadata.tags become the row's request_tags.
func TestReadinessAndRequestTags(t *testing.T) {
	e := newEnv(t)
	r := e.do("GET", "/health/readiness", "", "")
	if r.status != 200 || r.obj(t)["db"] != "connected" {
		t.Errorf("/health/readiness: %d %s", r.status, r.body)
	}
	key, token := e.generate(`{}`)
	tagged := `{"model":"exact","max_tokens":4,"metadata":{"tags":["openclaw","nightly"]},"messages":[{"role":"user","content":"hi"}]}`
	if r := e.chat(key, tagged); r.status != 200 {
		t.Fatalf("tagged chat: %d %s", r.status, r.body)
	}
	e.chat(key, exactChat)
	e.flush()
	var rows []struct {
		RequestTags []string `json:"request_tags"`
	}
	e.master("GET", "/spend/logs?api_key="+token, "").json(t, &rows)
	got := []string{}
	for _, row := range rows {
		got = append(got, strings.Join(row.RequestTags, "+"))
	}
	slices.Sort(got)
	if strings.Join(got, ",") != ",openclaw+nightly" {
		t.Errorf("request_tags of the two rows: %q", got)
	}
}
