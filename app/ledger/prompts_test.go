package ledger

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestStoredPromptsReadBack: with store_prompts_in_spend_logs on, the master key reads a call's
// redacted messages and response back by its request id, through /spend/logs?request_id= and
// /spend/logs/ui/{request_id}; a virtual key, even the one that made the call, cannot.
func TestStoredPromptsReadBack(t *testing.T) {
	e := newEnv(t, withSettings(Settings{StorePrompts: true}))
	key, _ := e.generate(`{"key_alias": "agent"}`)
	r := e.chat(key, `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"pineapple, my key is sk-proj-abcdefghijklmnop1234"}]}`)
	if r.status != 200 {
		t.Fatalf("chat: %d %s", r.status, r.body)
	}
	id := r.header.Get("x-litellm-call-id")
	e.flush()

	check := func(what string, row map[string]any) {
		t.Helper()
		msgs, resp := toJSON(t, row["messages"]), toJSON(t, row["response"])
		if row["request_id"] != id || !strings.Contains(msgs, "pineapple") || strings.Contains(msgs, "sk-proj-abcdefghijklmnop1234") ||
			!strings.Contains(msgs, "[REDACTED]") || !strings.Contains(resp, "choices") {
			t.Errorf("%s: request_id %v, messages %s, response %s", what, row["request_id"], msgs, resp)
		}
	}
	var rows []map[string]any
	e.master("GET", "/spend/logs?request_id="+id, "").json(t, &rows)
	if len(rows) != 1 {
		t.Fatalf("/spend/logs?request_id: %d rows", len(rows))
	}
	check("/spend/logs?request_id", rows[0])
	one := e.master("GET", "/spend/logs/ui/"+id, "")
	if one.status != 200 {
		t.Fatalf("/spend/logs/ui/{id}: %d %s", one.status, one.body)
	}
	check("/spend/logs/ui/{id}", one.obj(t))
	e.master("GET", "/spend/logs/ui/no-such-call", "").errOf(t, 404)

	for _, path := range []string{"/spend/logs?request_id=" + id, "/spend/logs/ui/" + id} {
		if r := e.do("GET", path, key, ""); r.status != 403 || strings.Contains(string(r.body), "pineapple") {
			t.Errorf("virtual key on %s: %d %s", path, r.status, r.body)
		}
	}
}

func toJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
