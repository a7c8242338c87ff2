package proxy

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clawgate/clawgate/internal/fuzzstat"
)

// TestMockResponse: mock_response answers without calling the upstream, streamed and not; the
// key's gate still admits it (at $0) and its spend row costs $0 and says it was a mock.
func TestMockResponse(t *testing.T) {
	up := newUpstream(t).always(reply{file: "chat_completion.json"})
	gate := &fakeGate{}
	g := newGatewayWith(t, oneModel, Options{Gate: gate}, up)

	resp := g.chat(`{"model":"gpt-4o-mini","mock_response":"mocked <hi>","messages":[{"role":"user","content":"hi"}]}`)
	body := readAll(t, resp.Body)
	var cc struct {
		Choices []struct {
			Message struct{ Content string } `json:"message"`
		} `json:"choices"`
		Usage struct {
			Total int `json:"total_tokens"`
		} `json:"usage"`
	}
	if resp.StatusCode != 200 || json.Unmarshal(body, &cc) != nil || len(cc.Choices) != 1 || cc.Choices[0].Message.Content != "mocked <hi>" {
		t.Fatalf("status %d body %s", resp.StatusCode, body)
	}
	if c := resp.Header.Get("x-litellm-response-cost"); c != "0" {
		t.Errorf("x-litellm-response-cost = %q, want 0", c)
	}

	resp = g.chat(`{"model":"gpt-4o-mini","stream":true,"mock_response":"streamed mock","messages":[{"role":"user","content":"hi"}]}`)
	events := sseEvents(t, resp.Body)
	if len(events) < 2 || events[len(events)-1] != "[DONE]" || !strings.Contains(strings.Join(events, ""), "streamed mock") {
		t.Fatalf("stream %q", events)
	}
	cs := decodeStream(t, events)
	if fr := finishReasons(cs); len(fr) != 1 || fr[0] != "stop" {
		t.Errorf("finish reasons %q", fr)
	}
	if up.calls() != 0 {
		t.Fatalf("the upstream was called %d times for mocks", up.calls())
	}
	recs := g.sink.all()
	if len(recs) != 2 {
		t.Fatalf("%d usage records, want 2", len(recs))
	}
	for _, u := range recs {
		if !u.Mock || u.Cost != 0 || !u.Priced || u.Status != 200 || u.ModelID != "dep-a" {
			t.Errorf("record %+v: want a $0 priced mock on dep-a", u)
		}
	}
	if len(gate.expected) != 2 || gate.expected[0] != 0 || gate.expected[1] != 0 {
		t.Errorf("gate reserved %v, want $0 for mocks", gate.expected)
	}
	if len(gate.repriced) != 0 {
		t.Errorf("gate repriced %v for mocks", gate.repriced)
	}
}

// TestBodyFallbacks: the body's fallbacks work with none configured, and a key cannot reach a
// group outside its models through them; the fields never reach the upstream.
func TestBodyFallbacks(t *testing.T) {
	const yaml = `
model_list:
  - model_name: a-fail
    litellm_params: {model: openai/gpt-4o-mini, api_base: "{{A}}"}
  - model_name: expensive
    litellm_params: {model: openai/o1, api_base: "{{B}}"}
router_settings: {num_retries: 0}
general_settings: {master_key: ` + masterKey + `}
`
	const scoped = "sk-scoped-0123456789"
	fail := newUpstream(t).always(reply{status: 500, file: "error_500.json"})
	exp := newUpstream(t).always(reply{file: "chat_completion.json"})
	g := newKeyedGateway(t, yaml, modelListKeys{key: scoped, models: []string{"a-fail"}}, fail, exp)
	body := `{"model":"a-fail","fallbacks":["expensive"],"num_retries":0,"timeout":30,"messages":[{"role":"user","content":"hi"}]}`

	resp := g.chat(body, "Authorization", "Bearer "+scoped)
	e := errorOf(t, resp)
	if resp.StatusCode == 200 || exp.calls() != 0 || !strings.Contains(e.Message, "expensive") || !strings.Contains(e.Message, "key's models") {
		t.Fatalf("scoped key: status %d, expensive calls %d, message %q: want the fallback skipped for the key's models", resp.StatusCode, exp.calls(), e.Message)
	}

	resp = g.chat(body)
	readAll(t, resp.Body)
	if resp.StatusCode != 200 || exp.calls() != 1 || resp.Header.Get("x-litellm-model-group") != "expensive" {
		t.Fatalf("master key: status %d, expensive calls %d, group %q", resp.StatusCode, exp.calls(), resp.Header.Get("x-litellm-model-group"))
	}
	for _, b := range [][]byte{fail.body(0), exp.body(0)} {
		for _, k := range optionKeys {
			if strings.Contains(string(b), `"`+k+`"`) {
				t.Errorf("upstream got %q: %s", k, b)
			}
		}
	}

	// disable_fallbacks turns off configured and body fallbacks alike.
	resp = g.chat(`{"model":"a-fail","fallbacks":["expensive"],"disable_fallbacks":true,"messages":[{"role":"user","content":"hi"}]}`)
	readAll(t, resp.Body)
	if resp.StatusCode != 500 || exp.calls() != 1 {
		t.Errorf("disable_fallbacks: status %d, expensive calls %d", resp.StatusCode, exp.calls())
	}
}

// TestNumRetries: the body's num_retries replaces router_settings.num_retries.
func TestNumRetries(t *testing.T) {
	fail := newUpstream(t).always(reply{status: 500, file: "error_500.json"})
	g := newGateway(t, oneModel+"router_settings: {num_retries: 0, cooldown_time: 0}\n", fail)
	resp := g.chat(`{"model":"gpt-4o-mini","num_retries":2,"messages":[{"role":"user","content":"hi"}]}`)
	readAll(t, resp.Body)
	if fail.calls() != 3 || resp.Header.Get("x-litellm-attempted-retries") != "2" {
		t.Errorf("upstream calls %d, retries header %q: want 3 calls (num_retries 2)", fail.calls(), resp.Header.Get("x-litellm-attempted-retries"))
	}
	for _, bad := range []string{`"num_retries":-1`, `"timeout":0`, `"fallbacks":"x"`, `"mock_response":{"a":1}`} {
		resp := g.chat(`{"model":"gpt-4o-mini",` + bad + `,"messages":[{"role":"user","content":"hi"}]}`)
		if e := errorOf(t, resp); resp.StatusCode != 400 || e.Type != typeInvalidRequest {
			t.Errorf("%s: status %d %+v, want a 400", bad, resp.StatusCode, e)
		}
	}
}

// TestRequestTimeout: x-litellm-timeout and the body's timeout bound an upstream that never
// answers, where the config's timeout (600 s) would hold the client.
func TestRequestTimeout(t *testing.T) {
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // so the server notices the gateway hanging up
		<-r.Context().Done()
	}))
	t.Cleanup(hang.Close)
	yaml := strings.ReplaceAll(oneModel, "{{A}}", hang.URL+"/v1") + "router_settings: {num_retries: 0}\n"
	g := newGateway(t, yaml)
	for name, c := range map[string][2]string{
		"header": {simpleChat, "0.2"},
		"body":   {`{"model":"gpt-4o-mini","timeout":0.2,"messages":[{"role":"user","content":"hi"}]}`, ""},
	} {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			resp := g.chat(c[0], "X-Litellm-Timeout", c[1])
			readAll(t, resp.Body)
			if resp.StatusCode != http.StatusGatewayTimeout || time.Since(start) > 20*time.Second {
				t.Errorf("status %d after %s, want 504 well before the config's timeout", resp.StatusCode, time.Since(start))
			}
		})
	}
}

// FuzzTakeOptions: whatever the body, takeOptions either refuses it or returns a body without
// LiteLLM's option members and with every other member as sent; a body naming none of them is
// returned as is.
func FuzzTakeOptions(f *testing.F) {
	f.Add([]byte(`{"model":"m","messages":[1],"fallbacks":["a",{"m":["b"]}],"num_retries":2,"timeout":"1.5","mock_response":"x"}`))
	f.Add([]byte(`{"model":"m","messages":[{"content":"the \"timeout\" word"}]}`))
	f.Add([]byte(`{"disable_fallbacks":true,"x":"<&>"}`))
	f.Add([]byte(`{"timeout":-1}`))
	f.Add([]byte(`[{"fallbacks":1}]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		out, o, err := takeOptions(body, http.Header{})
		if !fuzzstat.Reach(err == nil) {
			return
		}
		var in, got map[string]json.RawMessage
		if json.Unmarshal(body, &in) != nil || in == nil {
			if string(out) != string(body) {
				t.Fatalf("a body that is not an object was changed: %q -> %q", body, out)
			}
			return
		}
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("output %q is not an object: %v (from %q)", out, err, body)
		}
		for _, k := range optionKeys {
			if _, ok := got[k]; ok {
				t.Fatalf("%q left in %q", k, out)
			}
		}
		for k, v := range in {
			if slices.Contains(optionKeys, k) {
				continue
			}
			var a, b any
			_ = json.Unmarshal(v, &a)
			_ = json.Unmarshal(got[k], &b)
			if !reflect.DeepEqual(a, b) {
				t.Fatalf("member %q changed: %s -> %s", k, v, got[k])
			}
		}
		if o.numRetries != nil && (*o.numRetries < 0 || *o.numRetries > maxNumRetries) || o.timeout < 0 {
			t.Fatalf("options out of bounds: %+v", o)
		}
	})
}
