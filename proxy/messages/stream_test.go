package messages

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clawgate/clawgate/proxy/provider"
)

// replay feeds a chunk transcript to a StreamWriter: one payload a line, and a last line
// "!close {provider.Error fields}" to end with that error instead of a clean Close.
func replay(t *testing.T, transcript []byte, info Info) []byte {
	t.Helper()
	var out bytes.Buffer
	sw := NewStreamWriter(&out, info)
	var closeErr error
	sc := bufio.NewScanner(bytes.NewReader(transcript))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if rest, ok := bytes.CutPrefix(line, []byte("!close ")); ok {
			pe := &provider.Error{}
			if err := json.Unmarshal(rest, pe); err != nil {
				t.Fatal(err)
			}
			closeErr = pe
			break
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if err := sw.Chunk(line); err != nil {
			t.Fatalf("Chunk(%s): %v", line, err)
		}
	}
	if err := sw.Close(closeErr); err != nil {
		t.Fatal(err)
	}
	if err := sw.Close(nil); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	return out.Bytes()
}

// TestStreamGolden turns testdata/streams/X.chunks.jsonl into X.sse.
func TestStreamGolden(t *testing.T) {
	dir := filepath.Join("testdata", "streams")
	for _, name := range names(t, dir, ".chunks.jsonl") {
		t.Run(name, func(t *testing.T) {
			got := replay(t, readFile(t, filepath.Join(dir, name+".chunks.jsonl")), testInfo)
			golden(t, filepath.Join(dir, name+".sse"), got)
			checkProtocol(t, parseSSE(t, got))
		})
	}
}

type sseEvent struct {
	name string
	data []byte
}

// parseSSE splits a transcript into events, failing on anything not "event: X\ndata: Y\n\n".
func parseSSE(t *testing.T, b []byte) []sseEvent {
	t.Helper()
	var evs []sseEvent
	for _, raw := range strings.SplitAfter(string(b), "\n\n") {
		if raw == "" {
			continue
		}
		lines := strings.Split(strings.TrimSuffix(raw, "\n\n"), "\n")
		if len(lines) != 2 || !strings.HasPrefix(lines[0], "event: ") || !strings.HasPrefix(lines[1], "data: ") {
			t.Fatalf("malformed event %q", raw)
		}
		data := []byte(strings.TrimPrefix(lines[1], "data: "))
		if !json.Valid(data) {
			t.Fatalf("event data is not JSON: %s", data)
		}
		evs = append(evs, sseEvent{strings.TrimPrefix(lines[0], "event: "), data})
	}
	return evs
}

// checkProtocol holds a transcript to the order Anthropic's stream follows: message_start, then
// blocks started in index order, each delta inside its block, every block stopped, and
// message_delta plus message_stop at the end (or an error event as the last word).
func checkProtocol(t *testing.T, evs []sseEvent) {
	t.Helper()
	if len(evs) == 0 {
		t.Fatal("no events")
	}
	open := map[int]string{}
	next, started := 0, false
	for i, ev := range evs {
		var e struct {
			Type         string `json:"type"`
			Index        int    `json:"index"`
			ContentBlock struct {
				Type string `json:"type"`
			} `json:"content_block"`
			Delta struct {
				Type string `json:"type"`
			} `json:"delta"`
		}
		if err := json.Unmarshal(ev.data, &e); err != nil {
			t.Fatal(err)
		}
		if e.Type != ev.name {
			t.Errorf("event %d: name %q, type %q", i, ev.name, e.Type)
		}
		if ev.name != "message_start" && ev.name != "error" && !started {
			t.Fatalf("event %d (%s) before message_start", i, ev.name)
		}
		switch ev.name {
		case "message_start":
			if started || i != 0 {
				t.Errorf("message_start at %d", i)
			}
			started = true
		case "content_block_start":
			if e.Index != next {
				t.Errorf("block %d started, want %d", e.Index, next)
			}
			if len(open) > 0 {
				t.Errorf("block %d started while %v open", e.Index, open)
			}
			open[e.Index] = e.ContentBlock.Type
			next++
		case "content_block_delta":
			kind, ok := open[e.Index]
			want := map[string]string{"text_delta": "text", "thinking_delta": "thinking", "signature_delta": "thinking", "input_json_delta": "tool_use"}[e.Delta.Type]
			if !ok || kind != want {
				t.Errorf("event %d: %s for block %d (%q open)", i, e.Delta.Type, e.Index, kind)
			}
		case "content_block_stop":
			if _, ok := open[e.Index]; !ok {
				t.Errorf("event %d: stop of block %d, not open", i, e.Index)
			}
			delete(open, e.Index)
		case "message_delta":
			if len(open) > 0 {
				t.Errorf("message_delta with blocks open: %v", open)
			}
			if i != len(evs)-2 || evs[len(evs)-1].name != "message_stop" {
				t.Errorf("message_delta at %d of %d, not followed by message_stop", i, len(evs))
			}
		case "error":
			if i != len(evs)-1 {
				t.Errorf("error event at %d of %d", i, len(evs))
			}
		case "ping", "message_stop":
		default:
			t.Errorf("unknown event %q", ev.name)
		}
	}
}

// accumulate rebuilds the final Message from a transcript the way Anthropic's SDKs do.
func accumulate(t *testing.T, evs []sseEvent) map[string]any {
	t.Helper()
	var msg map[string]any
	content := []map[string]any{}
	partial := map[int]string{}
	for _, ev := range evs {
		var e map[string]any
		if err := json.Unmarshal(ev.data, &e); err != nil {
			t.Fatal(err)
		}
		switch ev.name {
		case "message_start":
			msg = e["message"].(map[string]any)
		case "content_block_start":
			content = append(content, e["content_block"].(map[string]any))
		case "content_block_delta":
			i := int(e["index"].(float64))
			b, d := content[i], e["delta"].(map[string]any)
			switch d["type"] {
			case "text_delta":
				b["text"] = b["text"].(string) + d["text"].(string)
			case "thinking_delta":
				b["thinking"] = b["thinking"].(string) + d["thinking"].(string)
			case "signature_delta":
				b["signature"] = d["signature"]
			case "input_json_delta":
				partial[i] += d["partial_json"].(string)
			}
		case "message_delta":
			d := e["delta"].(map[string]any)
			msg["stop_reason"], msg["stop_sequence"] = d["stop_reason"], d["stop_sequence"]
			u := msg["usage"].(map[string]any)
			for k, v := range e["usage"].(map[string]any) {
				u[k] = v
			}
		case "error":
			t.Fatalf("error event: %s", ev.data)
		}
	}
	for i, p := range partial {
		var in any
		if err := json.Unmarshal([]byte(p), &in); err != nil {
			t.Fatalf("block %d: tool input %q is not JSON: %v", i, p, err)
		}
		content[i]["input"] = in
	}
	msg["content"] = content
	return msg
}

func TestStreamRules(t *testing.T) {
	load := func(t *testing.T, name string) map[string]any {
		t.Helper()
		out := replay(t, readFile(t, filepath.Join("testdata", "streams", name+".chunks.jsonl")), testInfo)
		return accumulate(t, parseSSE(t, out))
	}
	asJSON := func(v any) string { b, _ := marshal(v); return string(b) }
	cases := []struct {
		name, content, stop, usage string
	}{
		{"text", `[{"text":"Hello! \"Quoted\" <tags> & a\nnew line.","type":"text"}]`, "end_turn",
			`{"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"input_tokens":19,"output_tokens":10}`},
		{"tool_call", `[{"id":"call_DdmO9pD3xa9XTPNJ32zg2hcA","input":{"location":"Paris, France"},"name":"get_weather","type":"tool_use"}]`, "tool_use",
			`{"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"input_tokens":68,"output_tokens":15}`},
		{"parallel_tools", `[{"text":"Checking both cities.","type":"text"},` +
			`{"id":"call_SF0","input":{"location":"San Francisco"},"name":"get_weather","type":"tool_use"},` +
			`{"id":"call_NY1","input":{"location":"New York"},"name":"get_weather","type":"tool_use"}]`, "tool_use", ""},
		{"same_index_tools", `[{"id":"call_a1","input":{"location":"Lyon"},"name":"get_weather","type":"tool_use"},` +
			`{"id":"call_b2","input":{"location":"Nice"},"name":"get_weather","type":"tool_use"}]`, "tool_use", ""},
		{"reasoning_text", `[{"signature":"","thinking":"Compare 9.11 and 9.8: 0.8 > 0.11.","type":"thinking"},{"text":"9.8 is greater.","type":"text"}]`, "max_tokens", ""},
		{"litellm_thinking", `[{"signature":"ErUBCkYIBBgCIkCMbp","thinking":"Let me think about cache cost.","type":"thinking"},{"text":"Cache reads cost a tenth.","type":"text"}]`, "end_turn",
			`{"cache_creation_input_tokens":0,"cache_read_input_tokens":2048,"input_tokens":52,"output_tokens":57}`},
		{"empty", `[]`, "end_turn", `{"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"input_tokens":0,"output_tokens":0}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := load(t, tc.name)
			if got := asJSON(m["content"]); got != tc.content {
				t.Errorf("content\n got %s\nwant %s", got, tc.content)
			}
			if m["stop_reason"] != tc.stop || m["stop_sequence"] != nil || m["model"] != "claude-sonnet-4-5" {
				t.Errorf("stop_reason %v stop_sequence %v model %v", m["stop_reason"], m["stop_sequence"], m["model"])
			}
			if tc.usage != "" && asJSON(m["usage"]) != tc.usage {
				t.Errorf("usage %s, want %s", asJSON(m["usage"]), tc.usage)
			}
		})
	}
}

// TestStreamMatchesNonStream: for the same exchange, the streamed and the non-streamed answers
// give the client the same Message (content, stop_reason, usage).
func TestStreamMatchesNonStream(t *testing.T) {
	chunks := readFile(t, filepath.Join("testdata", "streams", "anthropic_thinking.chunks.jsonl"))
	streamed := accumulate(t, parseSSE(t, replay(t, chunks, testInfo)))

	// The same answer as one chat.completion, assembled from the chunks the OpenAI way.
	completion := `{"id":"msg_01Ld5uHxXh2gFkzBZSgYcVUw","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant",` +
		`"content":"Let me look that up.","reasoning_content":"The user wants the weather in Paris.\n\nI should call get_weather with \"Paris, France\" and use celsius, since that is what they use there.",` +
		`"thinking_blocks":[{"type":"thinking","thinking":"The user wants the weather in Paris.\n\nI should call get_weather with \"Paris, France\" and use celsius, since that is what they use there.","signature":"EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds/ib7KKDqPc1ZkNBMQBxUNgA+J4zEYWYEB2O9mu1Al6E6xRbZJZQyCwk3z5EvjqFTp4IGtBhw=="},` +
		`{"type":"redacted_thinking","data":"EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpPkNRj2YfWXGmKDxH4mPnZ5sQ7vB9URj2pLmN4kOOvqoDpWbOX"}],` +
		`"tool_calls":[{"id":"toolu_01ThinkWeather000003","type":"function","function":{"name":"get_weather","arguments":"{\"location\": \"Paris, France\", \"unit\": \"celsius\"}"}}]},"finish_reason":"tool_calls"}],` +
		`"usage":{"prompt_tokens":86,"completion_tokens":153,"total_tokens":239,"prompt_tokens_details":{"cached_tokens":0},"cache_creation_input_tokens":0,"cache_read_input_tokens":0}}`
	whole, err := FromChatCompletion([]byte(completion), testInfo)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := json.Marshal(streamed)
	if !sameJSON(t, s, whole) {
		t.Errorf("streamed\n%s\nnon-streamed\n%s", s, whole)
	}
}

func TestStreamErrors(t *testing.T) {
	t.Run("error types", func(t *testing.T) {
		for _, tc := range []struct {
			err  error
			want string
		}{
			{&provider.Error{Status: 529, Type: "overloaded_error", Message: "Overloaded"}, `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`},
			{&provider.Error{Status: 429, Type: "rate_limit_exceeded", Message: "slow down"}, `{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}`},
			{&provider.Error{Status: 502, Type: "api_connection_error", Message: "reset", Transport: true}, `{"type":"error","error":{"type":"api_error","message":"reset"}}`},
			{errors.New("plain failure"), `{"type":"error","error":{"type":"api_error","message":"plain failure"}}`},
		} {
			var out bytes.Buffer
			sw := NewStreamWriter(&out, testInfo)
			if err := sw.Chunk([]byte(`{"id":"c","choices":[{"index":0,"delta":{"content":"hi"}}]}`)); err != nil {
				t.Fatal(err)
			}
			if err := sw.Close(tc.err); err != nil {
				t.Fatal(err)
			}
			evs := parseSSE(t, out.Bytes())
			last := evs[len(evs)-1]
			if last.name != "error" || string(last.data) != tc.want {
				t.Errorf("%v: last event %s %s, want %s", tc.err, last.name, last.data, tc.want)
			}
		}
	})
	t.Run("error before any chunk is the only event", func(t *testing.T) {
		var out bytes.Buffer
		sw := NewStreamWriter(&out, testInfo)
		if err := sw.Close(&provider.Error{Status: 401, Message: "bad key"}); err != nil {
			t.Fatal(err)
		}
		if got := out.String(); got != "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"authentication_error\",\"message\":\"bad key\"}}\n\n" {
			t.Errorf("got %q", got)
		}
	})
	t.Run("bad chunk", func(t *testing.T) {
		for _, p := range []string{`{"choices":[`, `{"error":{"message":"upstream exploded"}}`} {
			sw := NewStreamWriter(&bytes.Buffer{}, testInfo)
			var pe *provider.Error
			if err := sw.Chunk([]byte(p)); !errors.As(err, &pe) || pe.Status != 502 {
				t.Errorf("Chunk(%s) = %v, want a 502 *provider.Error", p, err)
			}
		}
	})
	t.Run("write error is sticky", func(t *testing.T) {
		boom := errors.New("client went away")
		sw := NewStreamWriter(failWriter{boom}, testInfo)
		if err := sw.Chunk([]byte(`{"id":"c","choices":[{"index":0,"delta":{"content":"hi"}}]}`)); !errors.Is(err, boom) {
			t.Fatalf("Chunk = %v", err)
		}
		if err := sw.Chunk([]byte(`{"id":"c","choices":[]}`)); !errors.Is(err, boom) {
			t.Errorf("second Chunk = %v", err)
		}
		if err := sw.Close(nil); !errors.Is(err, boom) {
			t.Errorf("Close = %v", err)
		}
	})
	t.Run("chunk after close", func(t *testing.T) {
		sw := NewStreamWriter(&bytes.Buffer{}, testInfo)
		_ = sw.Close(nil)
		if err := sw.Chunk([]byte(`{"choices":[]}`)); err == nil {
			t.Error("Chunk after Close succeeded")
		}
	})
}

type failWriter struct{ err error }

func (f failWriter) Write([]byte) (int, error) { return 0, f.err }

// TestStreamOneWritePerCall: the caller flushes after each call, so each call must hand the
// writer everything at once (a Write per event would cost a syscall each through some writers).
func TestStreamOneWritePerCall(t *testing.T) {
	cw := &countWriter{}
	sw := NewStreamWriter(cw, testInfo)
	_ = sw.Chunk([]byte(`{"id":"c","choices":[{"index":0,"delta":{"reasoning_content":"hm","content":"hi"}}]}`))
	if cw.n != 1 {
		t.Errorf("%d writes for one chunk", cw.n)
	}
	_ = sw.Close(nil)
	if cw.n != 2 {
		t.Errorf("%d writes after Close", cw.n)
	}
}

type countWriter struct{ n int }

func (c *countWriter) Write(p []byte) (int, error) { c.n++; return len(p), nil }

// TestStreamToolNameRestored: a name shortened for the upstream goes back to the client whole.
func TestStreamToolNameRestored(t *testing.T) {
	long := strings.Repeat("mcp__server__", 6) + "tool"
	_, info, err := ToChat([]byte(`{"model":"m","max_tokens":5,"tools":[{"name":"`+long+`","input_schema":{"type":"object"}}],"messages":[{"role":"user","content":"hi"}]}`), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var short string
	for s := range info.names {
		short = s
	}
	var out bytes.Buffer
	sw := NewStreamWriter(&out, info)
	if err := sw.Chunk([]byte(`{"id":"c","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","function":{"name":"` + short + `","arguments":"{}"}}]}}]}`)); err != nil {
		t.Fatal(err)
	}
	_ = sw.Close(nil)
	if !strings.Contains(out.String(), `"name":"`+long+`"`) {
		t.Errorf("name not restored:\n%s", out.String())
	}
}

// TestStreamInterleavedToolCalls: a server that interleaves the argument fragments of parallel
// calls still gets each call's whole input to the client, addressed by block index.
func TestStreamInterleavedToolCalls(t *testing.T) {
	chunks := []string{
		`{"id":"c","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_a","function":{"name":"f","arguments":"{\"x\":"}}]}}]}`,
		`{"id":"c","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_b","function":{"name":"g","arguments":"{\"y\":"}}]}}]}`,
		`{"id":"c","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"1}"}}]}}]}`,
		`{"id":"c","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":"2}"}}]},"finish_reason":"tool_calls"}]}`,
	}
	var out bytes.Buffer
	sw := NewStreamWriter(&out, testInfo)
	for _, c := range chunks {
		if err := sw.Chunk([]byte(c)); err != nil {
			t.Fatal(err)
		}
	}
	_ = sw.Close(nil)
	m := accumulate(t, parseSSE(t, out.Bytes()))
	got, _ := marshal(m["content"])
	want := `[{"id":"call_a","input":{"x":1},"name":"f","type":"tool_use"},{"id":"call_b","input":{"y":2},"name":"g","type":"tool_use"}]`
	if string(got) != want || m["stop_reason"] != "tool_use" {
		t.Errorf("content %s stop %v", got, m["stop_reason"])
	}
}
