package ledger

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clawgate/clawgate/proxy"
)

// rawCurl sends the bytes curl sends for the guide's commands and reads the answer.
func rawCurl(t *testing.T, addr, method, path string, headers []string, body string) response {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var b strings.Builder
	b.WriteString(method + " " + path + " HTTP/1.1\r\nHost: localhost:4000\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n")
	for _, h := range headers {
		b.WriteString(h + "\r\n")
	}
	if body != "" {
		b.WriteString("Content-Length: " + strconv.Itoa(len(body)) + "\r\n")
	}
	b.WriteString("\r\n" + body)
	if _, err := io.WriteString(c, b.String()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	rb, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: rb}
}

// The three commands of LiteLLM's guide for OpenClaw users, sent as curl sends them.
func TestGuideCommands(t *testing.T) {
	// The ledger's clock is held still, so that the expected budget_reset_at below cannot fall in
	// another month than the ledger's (the wall clock read twice could straddle a month's end).
	clk := newClock(time.Now().UTC())
	e := newEnv(t, withClock(clk))
	addr := strings.TrimPrefix(e.srv.URL, "http://")

	// curl -X POST "http://localhost:4000/key/generate" -H "Authorization: Bearer $LITELLM_MASTER_KEY" \
	//   -H "Content-Type: application/json" \
	//   -d '{"key_alias": "openclaw", "max_budget": 50.00, "budget_duration": "monthly"}'
	r := rawCurl(t, addr, "POST", "/key/generate",
		[]string{"Authorization: Bearer " + masterKey, "Content-Type: application/json"},
		`{"key_alias": "openclaw", "max_budget": 50.00, "budget_duration": "monthly"}`)
	if r.status != 200 {
		t.Fatalf("/key/generate: %d %s", r.status, r.body)
	}
	gen := r.obj(t)
	key, _ := gen["key"].(string)
	if !strings.HasPrefix(key, "sk-") || len(key) != 25 || strings.ContainsAny(key[3:], "+/=") {
		t.Errorf("key %q: want sk- and 22 url-safe characters", key)
	}
	now := clk.Now()
	firstOfNext := time.Date(now.Year(), now.Month()+1, 1, 0, 0, 0, 0, time.UTC)
	want := map[string]any{
		"key_alias": "openclaw", "max_budget": 50.0, "budget_duration": "monthly", "spend": 0.0,
		"key_name": "sk-..." + key[len(key)-4:], "token": proxy.HashKey(key), "token_id": proxy.HashKey(key),
		"expires": nil, "duration": nil, "budget_reset_at": firstOfNext.Format(time.RFC3339),
	}
	for f, v := range want {
		if got := gen[f]; got != v {
			t.Errorf("generate %s = %#v, want %#v", f, got, v)
		}
	}
	for _, f := range []string{"models", "metadata", "tpm_limit", "rpm_limit", "max_parallel_requests", "created_at", "user_id", "soft_budget"} {
		if _, ok := gen[f]; !ok {
			t.Errorf("generate: no %s in %s", f, r.body)
		}
	}

	// The key works for a call, which /key/info and /spend/logs then show.
	chat := e.chat(key, exactChat)
	if chat.status != 200 {
		t.Fatalf("chat with the new key: %d %s", chat.status, chat.body)
	}
	var completion struct {
		ID string `json:"id"`
	}
	chat.json(t, &completion)
	e.flush()

	// curl "http://localhost:4000/key/info" -H "Authorization: Bearer sk-litellm-key"
	r = rawCurl(t, addr, "GET", "/key/info", []string{"Authorization: Bearer " + key}, "")
	if r.status != 200 {
		t.Fatalf("/key/info: %d %s", r.status, r.body)
	}
	var info struct {
		Key  string         `json:"key"`
		Info map[string]any `json:"info"`
	}
	r.json(t, &info)
	if info.Key != proxy.HashKey(key) || info.Info["key_alias"] != "openclaw" || info.Info["max_budget"] != 50.0 ||
		info.Info["spend"] != callCost || info.Info["budget_duration"] != "monthly" ||
		info.Info["budget_reset_at"] != firstOfNext.Format(time.RFC3339) || info.Info["token"] != nil {
		t.Errorf("/key/info: %s", r.body)
	}

	// curl "http://localhost:4000/spend/logs" -H "Authorization: Bearer $LITELLM_MASTER_KEY"
	r = rawCurl(t, addr, "GET", "/spend/logs", []string{"Authorization: Bearer " + masterKey}, "")
	if r.status != 200 {
		t.Fatalf("/spend/logs: %d %s", r.status, r.body)
	}
	var rows []map[string]any
	r.json(t, &rows)
	if len(rows) != 1 {
		t.Fatalf("/spend/logs: %d rows: %s", len(rows), r.body)
	}
	row := rows[0]
	// request_id is the gateway's call id, as LiteLLM's is its own; the upstream's id is kept beside it.
	for f, v := range map[string]any{"request_id": chat.header.Get("x-litellm-call-id"), "call_type": "acompletion", "api_key": proxy.HashKey(key),
		"spend": callCost, "prompt_tokens": 19.0, "completion_tokens": 10.0, "total_tokens": 29.0, "model": "gpt-4o-mini",
		"model_group": "exact", "custom_llm_provider": "openai", "api_base": e.upSrv.URL, "status": "success"} {
		if row[f] != v {
			t.Errorf("/spend/logs %s = %#v, want %#v", f, row[f], v)
		}
	}
	for _, f := range []string{"startTime", "endTime", "completionStartTime", "model_id", "user", "metadata"} {
		if _, ok := row[f]; !ok {
			t.Errorf("/spend/logs row has no %s", f)
		}
	}
	md, _ := row["metadata"].(map[string]any)
	if md["user_api_key_alias"] != "openclaw" || md["status"] != "success" || md["response_id"] != completion.ID {
		t.Errorf("metadata: %v", md)
	}
	// The fake upstream reports 6 cached prompt tokens and 4 reasoning tokens.
	if b, _ := json.Marshal(md["usage_object"]); !strings.Contains(string(b), `"cache_read_input_tokens":6`) ||
		!strings.Contains(string(b), `"reasoning_tokens":4`) {
		t.Errorf("usage_object: %s", b)
	}
}
