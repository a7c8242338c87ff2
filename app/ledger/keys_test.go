package ledger

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/clawgate/clawgate/proxy"
)

// Every refusal comes in LiteLLM's envelope with the right status.
func TestErrorPaths(t *testing.T) {
	clk := newClock(time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC))
	e := newEnv(t, withClock(clk))
	key, token := e.generate(`{"key_alias": "mine"}`)
	other, otherToken := e.generate(`{"key_alias": "other"}`)

	t.Run("bad budget_duration lists what is accepted", func(t *testing.T) {
		for _, body := range []string{`{"budget_duration": "1 month"}`, `{"budget_duration": "1M"}`, `{"budget_duration": "yearly"}`} {
			er := e.master("POST", "/key/generate", body).errOf(t, 400)
			for _, want := range []string{"budget_duration", `"30s"`, `"30m"`, `"30h"`, `"30d"`, `"1w"`, `"1mo"`, `"daily"`, `"weekly"`, `"monthly"`} {
				if !strings.Contains(er.Message, want) {
					t.Errorf("%s: message lacks %s: %s", body, want, er.Message)
				}
			}
			if er.Type != "invalid_request_error" {
				t.Errorf("type %q", er.Type)
			}
		}
		e.master("POST", "/key/update", `{"key": "`+key+`", "budget_duration": "fortnightly"}`).errOf(t, 400)
		e.master("POST", "/key/generate", `{"duration": "forever"}`).errOf(t, 400)
	})
	t.Run("the accepted forms", func(t *testing.T) {
		for _, d := range []string{"30s", "30m", "30h", "30d", "1w", "1mo", "daily", "weekly", "monthly", "Monthly"} {
			if r := e.master("POST", "/key/generate", `{"budget_duration": "`+d+`"}`); r.status != 200 {
				t.Errorf("%s: %d %s", d, r.status, r.body)
			}
		}
	})
	t.Run("bad fields", func(t *testing.T) {
		for body, want := range map[string]string{
			`{"max_budget": -1}`:            "max_budget",
			`{"max_budget": "ten"}`:         "max_budget must be a number",
			`{"rpm_limit": 1.5}`:            "rpm_limit must be a whole number",
			`{"models": "gpt-4o"}`:          "models must be a list of strings",
			`{"key": "not-sk"}`:             "sk-",
			`[1, 2]`:                        "JSON object",
			`{"key_alias": "mine"}`:         "Key with alias 'mine' already exists",
			`{"tpm_limit": -5}`:             "tpm_limit",
			`{"metadata": "x"}`:             "metadata must be a JSON object",
			`{"soft_budget": -0.5}`:         "soft_budget",
			`{"key": "` + key + `"}`:        "already exists",
			`{"duration": "30 days"}`:       "duration",
			`{"spend": -3}`:                 "spend",
			`{"models": ["gpt", " "]}`:      "models",
			`{"blocked": "yes"}`:            "blocked",
			`{"user_id": 7}`:                "user_id",
			`{"max_parallel_requests": -1}`: "max_parallel_requests",
		} {
			if er := e.master("POST", "/key/generate", body).errOf(t, 400); !strings.Contains(er.Message, want) {
				t.Errorf("%s: %q lacks %q", body, er.Message, want)
			}
		}
	})
	t.Run("management needs the master key", func(t *testing.T) {
		for _, c := range []struct{ method, path, body string }{
			{"POST", "/key/generate", `{}`}, {"POST", "/key/update", `{"key": "` + key + `"}`},
			{"POST", "/key/delete", `{"keys": ["` + key + `"]}`}, {"GET", "/key/list", ""},
			{"POST", "/key/regenerate", `{"key": "` + key + `"}`}, {"POST", "/key/" + key + "/regenerate", ""},
			{"POST", "/key/block", `{"key": "` + other + `"}`}, {"POST", "/key/unblock", `{"key": "` + key + `"}`},
			{"GET", "/spend/logs", ""}, {"GET", "/spend/logs/ui", ""}, {"GET", "/global/spend", ""},
			{"GET", "/user/daily/activity", ""}, {"GET", "/v1/spend/logs", ""},
		} {
			er := e.do(c.method, c.path, key, c.body).errOf(t, 403)
			if er.Type != "auth_error" || strings.Contains(er.Message, key) {
				t.Errorf("%s %s: %+v", c.method, c.path, er)
			}
		}
	})
	t.Run("a virtual key reads only its own info", func(t *testing.T) {
		if r := e.do("GET", "/key/info", key, ""); r.status != 200 || r.obj(t)["key"] != token {
			t.Errorf("own info without ?key: %d %s", r.status, r.body)
		}
		if r := e.do("GET", "/key/info?key="+key, key, ""); r.status != 200 || r.obj(t)["key"] != key {
			t.Errorf("own info by key: %d %s", r.status, r.body)
		}
		if r := e.do("GET", "/v1/key/info?key="+token, key, ""); r.status != 200 {
			t.Errorf("own info by hash: %d %s", r.status, r.body)
		}
		e.do("GET", "/key/info?key="+other, key, "").errOf(t, 403)
		e.do("GET", "/key/info?key="+otherToken, key, "").errOf(t, 403)
	})
	t.Run("unknown key: 401 that echoes neither key nor hash", func(t *testing.T) {
		bogus := "sk-bogus0123456789abcdefgh"
		for _, path := range []string{"/v1/chat/completions", "/key/info"} {
			method := "GET"
			if strings.Contains(path, "chat") {
				method = "POST"
			}
			r := e.do(method, path, bogus, exactChat)
			er := r.errOf(t, 401)
			if strings.Contains(string(r.body), bogus) || strings.Contains(string(r.body), proxy.HashKey(bogus)) ||
				strings.Contains(string(r.body), bogus[len(bogus)-4:]) || er.Type != "auth_error" {
				t.Errorf("%s: %s", path, r.body)
			}
		}
		e.master("GET", "/key/info?key="+strings.Repeat("ab", 32), "").errOf(t, 404)
		e.master("GET", "/key/info", "").errOf(t, 404)
	})
	t.Run("blocked", func(t *testing.T) {
		r := e.master("POST", "/key/block", `{"key": "`+other+`"}`)
		if r.status != 200 || r.obj(t)["blocked"] != true {
			t.Fatalf("block: %d %s", r.status, r.body)
		}
		er := e.chat(other, exactChat).errOf(t, 401)
		if !strings.Contains(er.Message, "Key is blocked") || er.Type != "auth_error" {
			t.Errorf("blocked: %+v", er)
		}
		e.do("GET", "/key/info", other, "").errOf(t, 401)
		if r := e.master("POST", "/key/unblock", `{"key": "`+otherToken+`"}`); r.status != 200 || r.obj(t)["blocked"] != false {
			t.Fatalf("unblock: %d %s", r.status, r.body)
		}
		if r := e.chat(other, exactChat); r.status != 200 {
			t.Errorf("after unblock: %d %s", r.status, r.body)
		}
	})
	t.Run("expired", func(t *testing.T) {
		k, _ := e.generate(`{"duration": "1h"}`)
		if r := e.chat(k, exactChat); r.status != 200 {
			t.Fatalf("%d %s", r.status, r.body)
		}
		clk.Set(clk.Now().Add(time.Hour))
		er := e.chat(k, exactChat).errOf(t, 401)
		if !strings.Contains(er.Message, "Expired Key") {
			t.Errorf("expired: %+v", er)
		}
		// Extending its life works.
		e.master("POST", "/key/update", `{"key": "`+k+`", "duration": "1d"}`)
		if r := e.chat(k, exactChat); r.status != 200 {
			t.Errorf("after extending: %d %s", r.status, r.body)
		}
	})
	t.Run("model not allowed", func(t *testing.T) {
		k, _ := e.generate(`{"models": ["gpt-4o-mini"]}`)
		e.chat(k, exactChat).errOf(t, 403)
		if r := e.chat(k, strings.Replace(exactChat, `"exact"`, `"gpt-4o-mini"`, 1)); r.status != 200 {
			t.Errorf("allowed model: %d %s", r.status, r.body)
		}
	})
	t.Run("wrong method and unknown route", func(t *testing.T) {
		if r := e.master("GET", "/key/generate", ""); r.status != 405 || r.header.Get("Allow") != "POST" {
			t.Errorf("GET /key/generate: %d %v", r.status, r.header)
		}
		e.master("POST", "/budget/new", `{}`).errOf(t, 404)
		e.master("GET", "/spend/logs/ui", "").errOf(t, 400)
		e.master("GET", "/user/daily/activity", "").errOf(t, 400)
		e.master("GET", "/spend/logs?start_date=2026-01-01", "").errOf(t, 400)
		e.master("GET", "/spend/logs?start_date=01/01/2026&end_date=2026-01-02", "").errOf(t, 400)
		e.master("GET", "/key/list?size=1000", "").errOf(t, 400)
	})
}

func TestRateLimits(t *testing.T) {
	e := newEnv(t)
	t.Run("rpm_limit", func(t *testing.T) {
		k, _ := e.generate(`{"rpm_limit": 2}`)
		e.chat(k, exactChat)
		e.chat(k, exactChat)
		r := e.chat(k, exactChat)
		er := r.errOf(t, 429)
		if er.Type != "rate_limit_error" || er.Details["limit"] != "rpm_limit" || !strings.Contains(er.Message, "rpm_limit is 2") {
			t.Errorf("%+v", er)
		}
		if ra := r.header.Get("Retry-After"); ra == "" || ra == "0" {
			t.Errorf("Retry-After %q", ra)
		}
	})
	t.Run("tpm_limit", func(t *testing.T) {
		k, _ := e.generate(`{"tpm_limit": 29}`)
		e.chat(k, exactChat) // 29 tokens: the window is full
		er := e.chat(k, exactChat).errOf(t, 429)
		if er.Details["limit"] != "tpm_limit" {
			t.Errorf("%+v", er)
		}
	})
	t.Run("max_parallel_requests", func(t *testing.T) {
		k, token := e.generate(`{"max_parallel_requests": 1}`)
		// Hold the key's one slot, as a request in flight does.
		adm, err := e.l.Admit(t.Context(), &proxy.Principal{KeyHash: token}, "exact", 0, 1)
		if err != nil {
			t.Fatal(err)
		}
		r := e.chat(k, exactChat)
		if er := r.errOf(t, 429); er.Details["limit"] != "max_parallel_requests" || r.header.Get("Retry-After") != "1" {
			t.Errorf("%+v %v", er, r.header)
		}
		adm.Done(&proxy.Usage{CallID: "held", Start: time.Now(), End: time.Now()})
		if r := e.chat(k, exactChat); r.status != 200 {
			t.Errorf("after the slot is free: %d", r.status)
		}
	})
	t.Run("rpm_limit 0 refuses all, as in LiteLLM", func(t *testing.T) {
		k, _ := e.generate(`{"rpm_limit": 0}`)
		e.chat(k, exactChat).errOf(t, 429)
	})
}

// The key management routes, with LiteLLM's shapes.
func TestKeyManagement(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	for _, team := range []string{"t1", "t9"} { // a key's team must exist, as in LiteLLM
		if r := e.master("POST", "/team/new", `{"team_id": "`+team+`"}`); r.status != 200 {
			t.Fatalf("team/new: %d %s", r.status, r.body)
		}
	}

	key, token := e.generate(`{"key_alias": "a", "models": ["exact"], "metadata": {"team": "x"}, "user_id": "ana",
		"rpm_limit": 100, "tpm_limit": 100000, "max_parallel_requests": 5, "soft_budget": 1, "team_id": "t1"}`)
	gen := e.master("GET", "/key/info?key="+token, "").obj(t)["info"].(map[string]any)
	for f, v := range map[string]any{"key_alias": "a", "user_id": "ana", "rpm_limit": 100.0, "tpm_limit": 100000.0,
		"max_parallel_requests": 5.0, "soft_budget": 1.0, "blocked": false, "key_name": keyName(key)} {
		if gen[f] != v {
			t.Errorf("info %s = %v, want %v", f, gen[f], v)
		}
	}
	if fmt.Sprint(gen["models"]) != "[exact]" || fmt.Sprint(gen["metadata"]) != "map[team:x]" {
		t.Errorf("models %v, metadata %v", gen["models"], gen["metadata"])
	}

	t.Run("generate echoes what it does not use", func(t *testing.T) {
		r := e.master("POST", "/key/generate", `{"team_id": "t9", "aliases": {"x": "y"}, "key": "sk-my-own-key-123456"}`)
		m := r.obj(t)
		if m["team_id"] != "t9" || m["key"] != "sk-my-own-key-123456" || m["key_name"] != "sk-...3456" || m["token"] != proxy.HashKey("sk-my-own-key-123456") {
			t.Errorf("%s", r.body)
		}
		if r := e.chat("sk-my-own-key-123456", exactChat); r.status != 200 {
			t.Errorf("custom key: %d", r.status)
		}
	})
	t.Run("update changes only what is sent", func(t *testing.T) {
		r := e.master("POST", "/key/update", `{"key": "`+key+`", "max_budget": 9.5, "key_alias": "b", "models": null}`)
		m := r.obj(t)
		if r.status != 200 || m["max_budget"] != 9.5 || m["key_alias"] != "b" || m["rpm_limit"] != 100.0 || fmt.Sprint(m["models"]) != "[exact]" {
			t.Errorf("%d %s", r.status, r.body)
		}
		e.generate(`{"key_alias": "taken"}`)
		e.master("POST", "/key/update", `{"key": "`+key+`", "key_alias": "taken"}`).errOf(t, 400)
		e.master("POST", "/key/update", `{"key_alias": "x"}`).errOf(t, 400)
		e.master("POST", "/key/update", `{"key": "sk-nope-nope-nope"}`).errOf(t, 404)
		p, err := e.l.Authenticate(ctx, key)
		if err != nil || p.KeyAlias != "b" {
			t.Errorf("the cache did not follow the update: %+v %v", p, err)
		}
	})
	t.Run("list", func(t *testing.T) {
		var out struct {
			Keys        []any `json:"keys"`
			TotalCount  int   `json:"total_count"`
			CurrentPage int   `json:"current_page"`
			TotalPages  int   `json:"total_pages"`
		}
		e.master("GET", "/key/list?size=2&page=1", "").json(t, &out)
		if len(out.Keys) != 2 || out.TotalCount != 3 || out.TotalPages != 2 || out.CurrentPage != 1 {
			t.Errorf("%+v", out)
		}
		if _, ok := out.Keys[0].(string); !ok {
			t.Errorf("without return_full_object keys are hashes: %v", out.Keys[0])
		}
		e.master("GET", "/key/list?key_alias=b&return_full_object=true", "").json(t, &out)
		if len(out.Keys) != 1 || out.Keys[0].(map[string]any)["token"] != token {
			t.Errorf("%+v", out)
		}
		e.master("GET", "/key/list?user_id=ana", "").json(t, &out)
		if out.TotalCount != 1 {
			t.Errorf("by user: %+v", out)
		}
	})
	t.Run("regenerate", func(t *testing.T) {
		if r := e.chat(key, exactChat); r.status != 200 {
			t.Fatal(r.status)
		}
		for _, inPath := range []bool{false, true} {
			path, body := "/key/regenerate", `{"key": "`+key+`", "max_budget": 20}`
			if inPath {
				path, body = "/key/"+token+"/regenerate", `{"max_budget": 20}`
			}
			r := e.master("POST", path, body)
			if r.status != 200 {
				t.Fatalf("%s: %d %s", path, r.status, r.body)
			}
			m := r.obj(t)
			fresh := m["key"].(string)
			if fresh == key || m["token"] != proxy.HashKey(fresh) || m["spend"] != callCost || m["max_budget"] != 20.0 || m["key_alias"] != "b" {
				t.Errorf("%s: %s", path, r.body)
			}
			e.chat(key, exactChat).errOf(t, 401)
			key, token = fresh, proxy.HashKey(fresh)
			e.flush()
			if k, err := e.l.Store().GetKey(ctx, token); err != nil || !near(k.Spend, callCost) {
				t.Errorf("stored spend followed the key? %v %v", k.Spend, err)
			}
		}
		if r := e.chat(key, exactChat); r.status != 200 {
			t.Errorf("regenerated key: %d", r.status)
		}
		e.master("POST", "/key/regenerate", `{"key": "`+key+`", "new_key": "bad"}`).errOf(t, 400)
	})
	t.Run("delete", func(t *testing.T) {
		e.master("POST", "/key/delete", `{"keys": ["`+key+`", "sk-missing-missing"]}`).errOf(t, 404)
		if r := e.chat(key, exactChat); r.status != 200 {
			t.Fatalf("a failed delete deleted: %d", r.status)
		}
		r := e.master("POST", "/key/delete", `{"keys": ["`+key+`"]}`)
		if r.status != 200 || fmt.Sprint(r.obj(t)["deleted_keys"]) != "["+key+"]" {
			t.Errorf("%d %s", r.status, r.body)
		}
		e.chat(key, exactChat).errOf(t, 401)
		r = e.master("POST", "/key/delete", `{"key_aliases": ["taken"]}`)
		if r.status != 200 || fmt.Sprint(r.obj(t)["deleted_keys"]) != "[taken]" {
			t.Errorf("%d %s", r.status, r.body)
		}
		e.master("POST", "/key/delete", `{}`).errOf(t, 400)
		// The logs of a deleted key stay.
		e.flush()
		var rows []map[string]any
		e.master("GET", "/spend/logs?api_key="+token, "").json(t, &rows)
		if len(rows) != 3 { // one call before the regenerations, one after, one after the failed delete
			t.Errorf("%d rows for the deleted key", len(rows))
		}
	})
}
