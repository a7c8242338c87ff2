package messages

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/clawgate/clawgate/proxy/provider/anthropic"
)

// roundTrip sends an Anthropic request through ToChat and back through the anthropic provider's
// FromChat, and returns both sides in canonical form (see canon).
func roundTrip(t *testing.T, body []byte) (orig, back any) {
	t.Helper()
	chat, info, err := ToChat(body, Options{})
	if err != nil {
		t.Fatalf("ToChat: %v\n%s", err, body)
	}
	var in struct {
		Model string `json:"model"`
	}
	_ = json.Unmarshal(body, &in)
	mr, err := anthropic.FromChat(chat, in.Model, 0)
	if err != nil {
		t.Fatalf("FromChat: %v\nrequest %s\nchat %s", err, body, chat)
	}
	out, err := json.Marshal(mr)
	if err != nil {
		t.Fatal(err)
	}
	return canon(t, body, nil), canon(t, out, &info)
}

// canon puts an Anthropic request in one form where ToChat's translation is meant to lose
// nothing: strings become text blocks, empty tool results lose their content, fields with no
// OpenAI meaning (stream, top_k, a user_id too long for OpenAI) go, and names shortened for
// the upstream are mapped back with info.
func canon(t *testing.T, body []byte, info *Info) any {
	t.Helper()
	var r map[string]any
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatal(err)
	}
	delete(r, "stream")
	delete(r, "top_k")
	if m, ok := r["metadata"].(map[string]any); ok {
		if id, _ := m["user_id"].(string); len(id) > maxUser {
			delete(r, "metadata")
		}
	}
	if stops, ok := r["stop_sequences"].([]any); ok {
		var keep []any
		for _, s := range stops {
			if s != "" {
				keep = append(keep, s)
			}
		}
		r["stop_sequences"] = keep
		if len(keep) == 0 {
			delete(r, "stop_sequences")
		}
	}
	name := func(v any) any {
		if s, ok := v.(string); ok && info != nil {
			return info.original(s)
		}
		return v
	}
	if s, ok := r["system"].(string); ok {
		r["system"] = []any{map[string]any{"type": "text", "text": s}}
	}
	for _, m := range asSlice(r["messages"]) {
		msg := m.(map[string]any)
		msg["content"] = canonBlocks(msg["content"], name)
	}
	for _, tl := range asSlice(r["tools"]) {
		tm := tl.(map[string]any)
		if tm["type"] == "custom" {
			delete(tm, "type")
		}
		if _, ok := tm["input_schema"]; !ok {
			tm["input_schema"] = map[string]any{"type": "object", "properties": map[string]any{}}
		}
		if tm["description"] == "" {
			delete(tm, "description")
		}
		tm["name"] = name(tm["name"])
	}
	if tc, ok := r["tool_choice"].(map[string]any); ok {
		if n, ok := tc["name"]; ok {
			tc["name"] = name(n)
		}
		if tc["disable_parallel_tool_use"] == false {
			delete(tc, "disable_parallel_tool_use")
		}
	}
	return r
}

func asSlice(v any) []any { s, _ := v.([]any); return s }

func canonBlocks(v any, name func(any) any) any {
	if s, ok := v.(string); ok {
		if s == "" {
			return []any{}
		}
		return []any{map[string]any{"type": "text", "text": s}}
	}
	out := []any{}
	for _, b := range asSlice(v) {
		bm := b.(map[string]any)
		switch bm["type"] {
		case "text":
			if bm["text"] == "" {
				continue
			}
		case "tool_use":
			bm["name"] = name(bm["name"])
		case "tool_result":
			c := canonBlocks(bm["content"], name)
			if len(c.([]any)) == 0 {
				delete(bm, "content")
			} else {
				bm["content"] = c
			}
			if bm["is_error"] == false {
				delete(bm, "is_error")
			}
		}
		out = append(out, bm)
	}
	return out
}

// TestRoundTripFixtures: the common request shapes in testdata survive ToChat and the anthropic
// provider's FromChat unchanged.
func TestRoundTripFixtures(t *testing.T) {
	for _, name := range []string{"text", "system_cache", "thinking", "thinking_low", "tool_choice"} {
		t.Run(name, func(t *testing.T) {
			orig, back := roundTrip(t, readFile(t, filepath.Join("testdata", "requests", name+".anthropic.json")))
			if !reflect.DeepEqual(orig, back) {
				a, _ := marshal(orig)
				b, _ := marshal(back)
				t.Errorf("round trip changed the request\n orig %s\n back %s", a, b)
			}
		})
	}
}

// TestRoundTripProperty generates conversations of the shapes Claude Code and the SDKs send
// (system blocks with cache_control, tools, parallel tool calls and their results, images,
// thinking kept across tool turns, long MCP tool names) and checks each one survives the trip.
func TestRoundTripProperty(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 400 {
		body := genRequest(rng)
		orig, back := roundTrip(t, body)
		if !reflect.DeepEqual(orig, back) {
			a, _ := marshal(orig)
			b, _ := marshal(back)
			t.Fatalf("case %d: round trip changed the request\n orig %s\n back %s", i, a, b)
		}
	}
}

const pixel = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="

func genRequest(rng *rand.Rand) []byte {
	chance := func(p float64) bool { return rng.Float64() < p }
	word := func() string {
		words := []string{"alpha", "<b>bold</b>", "naïve", "quote \"q\"", "line\nbreak", "tab\tbed", "emoji 🙂", "path C:\\tmp"}
		return words[rng.IntN(len(words))]
	}
	cache := func(b map[string]any, p float64) {
		if chance(p) {
			if chance(0.3) {
				b["cache_control"] = map[string]any{"type": "ephemeral", "ttl": "1h"}
			} else {
				b["cache_control"] = map[string]any{"type": "ephemeral"}
			}
		}
	}
	r := map[string]any{"model": "claude-sonnet-4-5"}
	thinking := chance(0.3)
	if thinking {
		budget := []int{1024, 2048, 5000}[rng.IntN(3)]
		r["thinking"] = map[string]any{"type": "enabled", "budget_tokens": budget}
		r["max_tokens"] = budget + 1 + rng.IntN(4000)
	} else {
		r["max_tokens"] = 1 + rng.IntN(8192)
		if chance(0.5) {
			r["temperature"] = float64(rng.IntN(11)) / 10
		}
		if chance(0.3) {
			r["top_p"] = 0.5 + float64(rng.IntN(5))/10
		}
	}
	switch rng.IntN(3) {
	case 1:
		r["system"] = "You are " + word()
	case 2:
		var sys []any
		for range 1 + rng.IntN(3) {
			b := map[string]any{"type": "text", "text": word()}
			cache(b, 0.4)
			sys = append(sys, b)
		}
		r["system"] = sys
	}
	if chance(0.3) {
		r["stop_sequences"] = []any{"END", word()}
	}
	if chance(0.3) {
		r["metadata"] = map[string]any{"user_id": fmt.Sprintf("user-%d", rng.IntN(1000))}
	}
	if chance(0.5) {
		r["stream"] = true
	}

	var toolNames []string
	if chance(0.7) {
		var tools []any
		for j := range 1 + rng.IntN(3) {
			n := fmt.Sprintf("tool_%d", j)
			if chance(0.25) {
				n = "mcp__" + strings.Repeat("very_long_server_name_", 3) + n
			}
			toolNames = append(toolNames, n)
			tl := map[string]any{"name": n}
			if chance(0.7) {
				tl["description"] = "Does " + word()
			}
			if chance(0.8) {
				tl["input_schema"] = map[string]any{"type": "object", "properties": map[string]any{"q": map[string]any{"type": "string"}}, "required": []any{"q"}}
			}
			if chance(0.2) {
				tl["type"] = "custom"
			}
			cache(tl, 0.2)
			tools = append(tools, tl)
		}
		r["tools"] = tools
		switch rng.IntN(5) {
		case 1:
			r["tool_choice"] = map[string]any{"type": "auto", "disable_parallel_tool_use": chance(0.5)}
		case 2:
			r["tool_choice"] = map[string]any{"type": "any", "disable_parallel_tool_use": chance(0.5)}
		case 3:
			r["tool_choice"] = map[string]any{"type": "tool", "name": toolNames[rng.IntN(len(toolNames))], "disable_parallel_tool_use": chance(0.5)}
		case 4:
			r["tool_choice"] = map[string]any{"type": "none"}
		}
	}

	userContent := func() any {
		if chance(0.3) {
			return word()
		}
		var bs []any
		for range 1 + rng.IntN(3) {
			var b map[string]any
			switch rng.IntN(4) {
			case 0:
				b = map[string]any{"type": "image", "source": map[string]any{"type": "base64", "media_type": "image/png", "data": pixel}}
			case 1:
				b = map[string]any{"type": "image", "source": map[string]any{"type": "url", "url": "https://example.com/" + fmt.Sprint(rng.IntN(100)) + ".jpg"}}
			default:
				b = map[string]any{"type": "text", "text": word()}
			}
			cache(b, 0.2)
			bs = append(bs, b)
		}
		return bs
	}
	var msgs []any
	var pending []string // tool_use ids the next user turn must answer
	turns := 1 + 2*rng.IntN(4)
	for turn := 0; turn < turns || len(pending) > 0; turn++ {
		if turn%2 == 0 {
			var bs []any
			for _, id := range pending {
				tr := map[string]any{"type": "tool_result", "tool_use_id": id}
				switch rng.IntN(4) {
				case 0:
					tr["content"] = word()
				case 1:
					tr["content"] = []any{map[string]any{"type": "text", "text": word()}, map[string]any{"type": "text", "text": word()}}
				case 2:
					inner := map[string]any{"type": "text", "text": word()}
					cache(inner, 0.5)
					tr["content"] = []any{inner}
				}
				cache(tr, 0.2)
				bs = append(bs, tr)
			}
			pending = nil
			if len(bs) == 0 || chance(0.3) {
				switch c := userContent().(type) {
				case string:
					if len(bs) == 0 {
						msgs = append(msgs, map[string]any{"role": "user", "content": c})
						continue
					}
					bs = append(bs, map[string]any{"type": "text", "text": c})
				case []any:
					bs = append(bs, c...)
				}
			}
			msgs = append(msgs, map[string]any{"role": "user", "content": bs})
			continue
		}
		var bs []any
		if thinking {
			bs = append(bs, map[string]any{"type": "thinking", "thinking": word(), "signature": fmt.Sprintf("sig%d", rng.IntN(1e6))})
			if chance(0.2) {
				bs = append(bs, map[string]any{"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix"})
			}
		}
		useTools := len(toolNames) > 0 && chance(0.6)
		if !useTools || chance(0.6) {
			b := map[string]any{"type": "text", "text": word()}
			cache(b, 0.2)
			bs = append(bs, b)
		}
		if useTools {
			var last map[string]any
			for k := range 1 + rng.IntN(2) {
				id := fmt.Sprintf("toolu_%02d_%d", turn, k)
				last = map[string]any{"type": "tool_use", "id": id, "name": toolNames[rng.IntN(len(toolNames))], "input": map[string]any{"q": word()}}
				bs = append(bs, last)
				pending = append(pending, id)
			}
			cache(last, 0.3)
		}
		if !thinking && len(bs) == 1 && chance(0.2) {
			if b := bs[0].(map[string]any); b["type"] == "text" && b["cache_control"] == nil {
				msgs = append(msgs, map[string]any{"role": "assistant", "content": b["text"]})
				continue
			}
		}
		msgs = append(msgs, map[string]any{"role": "assistant", "content": bs})
	}
	r["messages"] = msgs
	b, _ := json.Marshal(r)
	return b
}

// The anthropic provider's recorded answers: Anthropic → OpenAI there, OpenAI → Anthropic here.
var providerTestdata = filepath.Join("..", "provider", "anthropic", "testdata")

// TestRoundTripResponses: an Anthropic Message turned into a chat completion by the anthropic
// provider comes back from FromChatCompletion as the same Message (content, stop_reason, usage).
func TestRoundTripResponses(t *testing.T) {
	for _, name := range []string{"text", "tool_use", "parallel_tools", "thinking", "cache", "max_tokens", "tool_no_args"} {
		t.Run(name, func(t *testing.T) {
			orig := readFile(t, filepath.Join(providerTestdata, "responses", name+".json"))
			chat, err := anthropic.ToChatCompletion(orig, "m")
			if err != nil {
				t.Fatal(err)
			}
			back, err := FromChatCompletion(chat, testInfo)
			if err != nil {
				t.Fatal(err)
			}
			a, b := canonMessage(t, orig), canonMessage(t, back)
			if !reflect.DeepEqual(a, b) {
				t.Errorf("round trip changed the message\n orig %v\n back %v", a, b)
			}
		})
	}
}

// TestRoundTripStreams: an Anthropic SSE transcript turned into OpenAI chunks by the anthropic
// provider comes back from StreamWriter as a transcript that builds the same Message.
func TestRoundTripStreams(t *testing.T) {
	for _, name := range []string{"text", "tool_use", "parallel_tools", "thinking", "cache", "max_tokens", "tool_no_args"} {
		t.Run(name, func(t *testing.T) {
			orig := readFile(t, filepath.Join(providerTestdata, name+".sse"))
			up := anthropic.NewStream(io.NopCloser(bytes.NewReader(orig)), "m")
			defer up.Close()
			var out bytes.Buffer
			sw := NewStreamWriter(&out, testInfo)
			for {
				p, err := up.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				if err := sw.Chunk(p); err != nil {
					t.Fatal(err)
				}
			}
			if err := sw.Close(nil); err != nil {
				t.Fatal(err)
			}
			evs := parseSSE(t, out.Bytes())
			checkProtocol(t, evs)
			a, _ := json.Marshal(accumulate(t, parseSSE(t, orig)))
			b, _ := json.Marshal(accumulate(t, evs))
			ca, cb := canonMessage(t, a), canonMessage(t, b)
			if !reflect.DeepEqual(ca, cb) {
				t.Errorf("round trip changed the message\n orig %v\n back %v", ca, cb)
			}
		})
	}
}

// canonMessage keeps what a client acts on: id, content, stop_reason and the four usage figures.
func canonMessage(t *testing.T, b []byte) map[string]any {
	t.Helper()
	m := decode(t, b).(map[string]any)
	u := m["usage"].(map[string]any)
	usage := map[string]any{}
	for _, k := range []string{"input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"} {
		usage[k] = u[k]
		if usage[k] == nil {
			usage[k] = float64(0)
		}
	}
	return map[string]any{"id": m["id"], "content": m["content"], "stop_reason": m["stop_reason"], "usage": usage}
}
