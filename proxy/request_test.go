package proxy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/clawgate/clawgate/internal/fuzzstat"
)

func TestUpstreamBody(t *testing.T) {
	for _, tc := range []struct {
		name, body, path, model, want string
	}{
		{"model replaced, rest untouched", `{"model":"a","messages":[{"role":"user","content":"\"model\":\"x\""}],"extra":{"model":"keep"}}`, "", "b",
			`{"model":"b","messages":[{"role":"user","content":"\"model\":\"x\""}],"extra":{"model":"keep"}}`},
		{"spaces kept", "{ \"messages\" : [1] ,\n \"model\" :\t\"a\" }", "", "gpt-4o",
			"{ \"messages\" : [1] ,\n \"model\" :\t\"gpt-4o\" }"},
		{"model from the path", `{"messages":[1]}`, "dep", "gpt-4o", `{"model":"gpt-4o","messages":[1]}`},
		{"stream gets usage", `{"model":"a","stream":true,"messages":[1]}`, "", "a",
			`{"model":"a","stream":true,"messages":[1],"stream_options":{"include_usage":true}}`},
		{"stream_options before model", `{"stream_options":{"include_usage":false},"stream":true,"messages":[1],"model":"a"}`, "", "zz",
			`{"stream_options":{"include_usage":true},"stream":true,"messages":[1],"model":"zz"}`},
		{"stream_options null", `{"model":"a","stream":true,"stream_options":null,"messages":[1]}`, "", "a",
			`{"model":"a","stream":true,"stream_options":{"include_usage":true},"messages":[1]}`},
		{"asked already", `{"model":"a","stream":true,"stream_options":{"include_usage":true},"messages":[1]}`, "", "a",
			`{"model":"a","stream":true,"stream_options":{"include_usage":true},"messages":[1]}`},
		{"unicode model", `{"model":"a","messages":[1]}`, "", "modèle/ü", `{"model":"modèle/ü","messages":[1]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := parseChat([]byte(tc.body), tc.path)
			if err != nil {
				t.Fatal(err)
			}
			got := string(req.upstreamBody(tc.model))
			if got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
			if !json.Valid([]byte(got)) {
				t.Errorf("invalid JSON: %s", got)
			}
			if string(req.body) != tc.body {
				t.Error("the client's body was modified")
			}
		})
	}
}

// FuzzParseChat holds the scanning parser to the decoder on any body, and the upstream body it
// writes to its promise: JSON, with the model the router chose (not the client's), usage asked for
// on a stream, and every other member as the client sent it.
func FuzzParseChat(f *testing.F) {
	f.Add([]byte(`{"model":"a","stream":true,"messages":[{"role":"user","content":"hi"}]}`), "m")
	f.Add([]byte(`{"messages":[1],"stream_options":{"x":1},"stream":true}`), "p")
	f.Add([]byte(`{"model":"a","messages":[1]}  `), "")
	f.Add([]byte(`{"mod\u0065l":"a\"b","messages":[{}],"stream":null,"user":7,"max_tokens":12,"max_completion_tokens":1e3}`), "m")
	f.Add([]byte(` { "model" : null , "messages" : [ 1 ] , "stream_options" : null , "stream" : false } `), "p")
	f.Add([]byte(`{"model":1,"messages":[1]}`), "")
	f.Add([]byte(`{"model":"a","messages":[],"stream":"yes"}`), "")
	f.Add([]byte(`{"model":"a","messages":{},"stream_options":[1]}`), "")
	f.Add([]byte(`[{"model":"a"}]`), "")
	f.Add([]byte(`{"model":"a","messages":[1],"model":"b","x":{"model":"c"}}`), "d\xff")
	f.Fuzz(func(t *testing.T, body []byte, model string) {
		req, err := parseChat(body, "p")
		// The scanning parser and the decoder agree on every body.
		dreq, derr := parseChatDecoder(body, "p")
		if (err == nil) != (derr == nil) || (json.Valid(body) && err != nil && err.Error() != derr.Error()) {
			t.Fatalf("parseChat error %v, decoder %v, body %s", err, derr, body)
		}
		if !fuzzstat.Reach(err == nil) {
			return
		}
		a, b := *req, *dreq
		a.body, b.body = nil, nil
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("parseChat %+v, decoder %+v, body %s", *req, *dreq, body)
		}
		out := req.upstreamBody(model)
		var got, sent map[string]json.RawMessage
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("upstream body invalid: %s (%v) from %s", out, err, body)
		}
		var gotModel string
		// json.Marshal writes each invalid UTF-8 byte as U+FFFD, as converting to runes does.
		if json.Unmarshal(got["model"], &gotModel) != nil || gotModel != string([]rune(model)) {
			t.Fatalf("model %q did not reach the upstream body: %s", model, out)
		}
		if req.Stream {
			var so struct {
				IncludeUsage bool `json:"include_usage"`
			}
			if json.Unmarshal(got["stream_options"], &so) != nil || !so.IncludeUsage {
				t.Fatalf("a stream without usage asked for: %s from %s", out, body)
			}
		}
		if json.Unmarshal(body, &sent) != nil {
			t.Fatalf("parsed a body that does not decode: %s", body)
		}
		for k, v := range sent {
			if k != "model" && k != "stream_options" && !bytes.Equal(got[k], v) {
				t.Fatalf("member %q changed from %s to %s", k, v, got[k])
			}
		}
		if len(got) != len(sent)+boolInt(sent["model"] == nil)+boolInt(req.Stream && sent["stream_options"] == nil) {
			t.Fatalf("members added or lost: %s from %s", out, body)
		}
	})
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestCompletionMeta(t *testing.T) {
	for _, tc := range []struct {
		body   string
		id     string
		prompt int
		known  bool
	}{
		{`{"id":"c1","choices":[{"message":{"content":"the \"usage\": {\"prompt_tokens\": 99}"}}],"usage":{"prompt_tokens":3,"completion_tokens":4}}`, "c1", 3, true},
		{`{"id" : "c\"2", "usage" : { "prompt_tokens" : 5 } }`, `c"2`, 5, true},
		{`{"id":"c3","usage":null}`, "c3", 0, false},
		{`{"choices":[],"id":"c4"}`, "c4", 0, false},
		{`{"id":"c5","usage":{"prompt_tokens":7,"x":"}"}}`, "c5", 7, true},
		{`not json`, "", 0, false},
	} {
		var u Usage
		id, known := completionMeta([]byte(tc.body), &u)
		if id != tc.id || known != tc.known || u.PromptTokens != tc.prompt {
			t.Errorf("%s: id %q known %v prompt %d", tc.body, id, known, u.PromptTokens)
		}
	}
}

// TestUsageFastMatchesDecode: the scanning reader of usage gives what decoding gives.
func TestUsageFastMatchesDecode(t *testing.T) {
	for _, raw := range []string{
		`{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11,"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}}`,
		`{"prompt_tokens":472,"completion_tokens":89,"total_tokens":561,"prompt_tokens_details":{"cached_tokens":64},"cache_creation_input_tokens":12,"cache_read_input_tokens":64}`,
		`{ "prompt_tokens" : 71 , "completion_tokens" : 71, "completion_tokens_details" : { "reasoning_tokens" : 49 } }`,
		`{"prompt_tokens":5}`,
		`{"prompt_tokens":5.0,"completion_tokens":1}`,
		`{"prompt_tokens":null,"completion_tokens":1}`,
	} {
		var fast, slow Usage
		fast.setUsage(json.RawMessage(raw))
		var f usageFields
		if err := json.Unmarshal([]byte(raw), &f); err != nil {
			continue // the decoder refuses it too: nothing to compare
		}
		slow.UsageKnown = true
		slow.PromptTokens, slow.CompletionTokens = f.PromptTokens, f.CompletionTokens
		slow.CachedTokens = f.CacheReadInputTokens
		if d := f.PromptTokensDetails; d != nil && d.CachedTokens > slow.CachedTokens {
			slow.CachedTokens = d.CachedTokens
		}
		slow.CacheCreationTokens = f.CacheCreationInputTokens
		if d := f.CompletionTokensDetails; d != nil {
			slow.ReasoningTokens = d.ReasoningTokens
		}
		if fast.PromptTokens != slow.PromptTokens || fast.CompletionTokens != slow.CompletionTokens || fast.CachedTokens != slow.CachedTokens ||
			fast.CacheCreationTokens != slow.CacheCreationTokens || fast.ReasoningTokens != slow.ReasoningTokens || fast.UsageKnown != slow.UsageKnown {
			t.Errorf("%s: fast %+v, decoded %+v", raw, fast, slow)
		}
	}
}

// BenchmarkParseChat compares the scanning parser with the decoder on a body shaped like an
// agent's turn: a long system prompt, a few dozen messages and tools with JSON schemas.
func BenchmarkParseChat(b *testing.B) {
	var msgs, tools []string
	msgs = append(msgs, `{"role":"system","content":`+strconv.Quote(strings.Repeat("You are a helpful assistant. ", 300))+`}`)
	for i := range 30 {
		msgs = append(msgs, fmt.Sprintf(`{"role":"user","content":"question %d about \"files\" and tabs\t"}`, i),
			fmt.Sprintf(`{"role":"assistant","content":null,"tool_calls":[{"id":"call_%d","type":"function","function":{"name":"read","arguments":"{\"path\":\"/tmp/%d\"}"}}]}`, i, i),
			fmt.Sprintf(`{"role":"tool","tool_call_id":"call_%d","content":%q}`, i, strings.Repeat("line of output\n", 20)))
	}
	for i := range 20 {
		tools = append(tools, fmt.Sprintf(`{"type":"function","function":{"name":"tool_%d","description":"Does thing %d.","parameters":{"type":"object","properties":{"path":{"type":"string"},"limit":{"type":"integer","minimum":1}},"required":["path"]}}}`, i, i))
	}
	body := []byte(`{"model":"claude-sonnet","stream":true,"stream_options":{"include_usage":true},"max_completion_tokens":8192,"tool_choice":"auto","messages":[` +
		strings.Join(msgs, ",") + `],"tools":[` + strings.Join(tools, ",") + `]}`)
	for _, p := range []struct {
		name  string
		parse func([]byte, string) (*chatRequest, error)
	}{{"scan", parseChat}, {"decoder", parseChatDecoder}} {
		b.Run(p.name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := p.parse(body, ""); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
