package ledger

import (
	"strings"
	"testing"
	"time"
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
