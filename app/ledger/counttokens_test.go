package ledger

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/clawgate/clawgate/app/store"
)

// TestCountTokensHonoursKey: /v1/messages/count_tokens is refused for a model outside the key's
// list and counts against its rpm_limit like any call, answering in Anthropic's error shape; it
// writes no spend row of its own.
func TestCountTokensHonoursKey(t *testing.T) {
	e := newEnv(t, withClock(newClock(time.Now())))
	key, token := e.generate(`{"key_alias": "scoped", "models": ["exact"], "rpm_limit": 2}`)
	count := func(model string) response {
		return e.do("POST", "/v1/messages/count_tokens", key, `{"model":"`+model+`","messages":[{"role":"user","content":"hi"}]}`)
	}
	anthropicError := func(r response, status int, typ string) {
		t.Helper()
		var env struct {
			Type  string `json:"type"`
			Error struct {
				Type    string `json:"type"`
				Message string `json:"message"`
			} `json:"error"`
		}
		if r.status != status || json.Unmarshal(r.body, &env) != nil || env.Type != "error" || env.Error.Type != typ || env.Error.Message == "" {
			t.Errorf("want %d %s in Anthropic's shape, got %d %s", status, typ, r.status, r.body)
		}
	}
	anthropicError(count("gpt-4o-mini"), 403, "permission_error")
	for i := range 2 {
		if r := count("exact"); r.status != 200 {
			t.Fatalf("count %d: %d %s", i, r.status, r.body)
		}
	}
	anthropicError(count("exact"), 429, "rate_limit_error")
	// The two counts used the key's minute: a chat is refused too.
	e.chat(key, exactChat).errOf(t, 429)
	// The master key has no limits.
	if r := e.do("POST", "/v1/messages/count_tokens", masterKey, `{"model":"exact","messages":[{"role":"user","content":"hi"}]}`); r.status != 200 {
		t.Errorf("master: %d %s", r.status, r.body)
	}
	e.flush()
	rows, _, err := e.l.Store().QuerySpendLogs(t.Context(), store.SpendQuery{APIKey: token, Status: "success"})
	if err != nil || len(rows) != 0 {
		t.Errorf("count_tokens wrote spend rows: %+v %v", rows, err)
	}
}
