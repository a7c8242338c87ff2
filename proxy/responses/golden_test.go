package responses

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clawgate/clawgate/proxy/provider"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// golden compares got with testdata/name, or writes it there with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs:\n got: %s\nwant: %s", name, got, want)
	}
}

func indent(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Indent(&buf, b, "", "  "); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	return append(buf.Bytes(), '\n')
}

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestToChatGolden: each request becomes the chat body in its .chat.json golden, or the 400 in
// its .error.txt golden (message and parameter).
func TestToChatGolden(t *testing.T) {
	for _, name := range []string{"text", "tools", "builtin", "badrole", "reference", "namespace", "thinking"} {
		t.Run(name, func(t *testing.T) {
			req, err := Parse(readFile(t, name+".request.json"))
			if err != nil {
				t.Fatal(err)
			}
			chat, info, err := ToChat(req, nil, nil, "resp_test", 1700000000)
			if err != nil {
				var pe *provider.Error
				if !errors.As(err, &pe) || pe.Status != 400 {
					t.Fatalf("want a 400 *provider.Error, got %v", err)
				}
				golden(t, name+".error.txt", []byte(pe.Param+": "+pe.Message+"\n"))
				return
			}
			golden(t, name+".chat.json", indent(t, chat))
			if len(info.Input) == 0 {
				t.Error("no input items kept")
			}
		})
	}
}

// TestFromChatCompletionGolden: a completion becomes the response object in its golden.
func TestFromChatCompletionGolden(t *testing.T) {
	for _, tt := range []struct{ completion, request string }{{"text", "text"}, {"reasoning", "text"}} {
		t.Run(tt.completion, func(t *testing.T) {
			req, _ := Parse(readFile(t, tt.request+".request.json"))
			_, info, err := ToChat(req, nil, nil, "resp_test", 1700000000)
			if err != nil {
				t.Fatal(err)
			}
			res, err := FromChatCompletion(readFile(t, tt.completion+".completion.json"), info)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, tt.completion+".response.json", indent(t, res.Response))
			golden(t, tt.completion+".assistant.json", append(res.Assistant, '\n'))
		})
	}
}

// TestStreamGolden: a chat chunk stream becomes the Responses events in its .events.sse golden;
// the stream cut short (broken) ends in response.failed with what came before.
func TestStreamGolden(t *testing.T) {
	for _, tt := range []struct {
		name, chunks string
		cut          int // chunks fed before an error; 0 feeds all and closes cleanly
	}{{"tool_call", "tool_call", 0}, {"thinking", "thinking", 0}, {"broken", "thinking", 3}, {"claude", "claude", 0}} {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := Parse([]byte(`{"model":"m","stream":true,"input":"hi"}`))
			_, info, _ := ToChat(req, nil, nil, "resp_test", 1700000000)
			var out bytes.Buffer
			sw := NewStreamWriter(&out, info)
			n := 0
			for _, ev := range strings.Split(string(readFile(t, tt.chunks+".chunks.sse")), "\n\n") {
				data, ok := strings.CutPrefix(strings.TrimSpace(ev), "data: ")
				if !ok || data == "[DONE]" {
					continue
				}
				if tt.cut > 0 && n == tt.cut {
					break
				}
				if err := sw.Chunk([]byte(data)); err != nil {
					t.Fatal(err)
				}
				n++
			}
			var err error
			if tt.cut > 0 {
				err = &provider.Error{Status: 502, Message: "upstream went away"}
			}
			if err := sw.Close(err); err != nil {
				t.Fatal(err)
			}
			golden(t, tt.name+".events.sse", out.Bytes())
			// Every event's sequence_number is its position.
			for i, ev := range strings.Split(strings.TrimSpace(out.String()), "\n\n") {
				_, data, _ := strings.Cut(ev, "\ndata: ")
				var e struct {
					Seq *int `json:"sequence_number"`
				}
				if json.Unmarshal([]byte(data), &e) != nil || e.Seq == nil || *e.Seq != i {
					t.Errorf("event %d: %s", i, ev)
				}
			}
		})
	}
}

// TestNamespaceCall: a call to a tool that came inside a namespace names the namespace again.
func TestNamespaceCall(t *testing.T) {
	req, _ := Parse(readFile(t, "namespace.request.json"))
	_, info, err := ToChat(req, nil, nil, "resp_test", 1)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	sw := NewStreamWriter(&out, info)
	for _, ev := range strings.Split(string(readFile(t, "tool_call.chunks.sse")), "\n\n") {
		if data, ok := strings.CutPrefix(strings.TrimSpace(ev), "data: "); ok && data != "[DONE]" {
			_ = sw.Chunk([]byte(data))
		}
	}
	_ = sw.Close(nil)
	var item struct {
		Name, Namespace string
	}
	if err := json.Unmarshal(sw.Result().Output[0], &item); err != nil || item.Name != "get_weather" || item.Namespace != "agents" {
		t.Errorf("call item %s: %+v %v", sw.Result().Output[0], item, err)
	}
}

// TestThinkingRoundTrip: Claude's signed thinking leaves in the reasoning item's
// encrypted_content and comes back, from that item, as the thinking_blocks of the assistant turn
// (and is left out for a route that does not read it).
func TestThinkingRoundTrip(t *testing.T) {
	req, _ := Parse([]byte(`{"model":"m","stream":true,"input":"hi"}`))
	_, info, _ := ToChat(req, nil, nil, "resp_test", 1)
	var out bytes.Buffer
	sw := NewStreamWriter(&out, info)
	for _, ev := range strings.Split(string(readFile(t, "claude.chunks.sse")), "\n\n") {
		if data, ok := strings.CutPrefix(strings.TrimSpace(ev), "data: "); ok {
			_ = sw.Chunk([]byte(data))
		}
	}
	_ = sw.Close(nil)
	res := sw.Result()
	items, _ := json.Marshal(append(res.Output, json.RawMessage(`{"type":"function_call_output","call_id":"toolu_1","output":"Sunny"}`)))
	next, _ := Parse([]byte(`{"model":"m","input":` + string(items) + `}`))
	chat, _, err := ToChat(next, nil, nil, "resp_next", 2)
	if err != nil {
		t.Fatal(err)
	}
	want := `"thinking_blocks":[{"type":"thinking","thinking":"hm","signature":"sig=="}]`
	if !strings.Contains(string(chat), want) || !strings.Contains(string(res.Assistant), want) {
		t.Errorf("thinking lost:\nchat %s\nstored %s", chat, res.Assistant)
	}
	next.Plain = true
	chat, _, _ = ToChat(next, []json.RawMessage{res.Assistant}, nil, "resp_next", 2) // the stored turn too
	if strings.Contains(string(chat), "thinking_blocks") {
		t.Errorf("plain route got thinking_blocks: %s", chat)
	}
}
