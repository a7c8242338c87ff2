package anthropic

import (
	"bytes"
	"encoding/json"
	"io"
	"path/filepath"
	"reflect"
	"testing"
)

// TestThinkingSurvivesToolTurn feeds the assistant message a client built from our answer
// (streamed or not) back as history, and checks that Anthropic gets its own content blocks back,
// thinking and signature first, so that a thinking model can continue after a tool call.
func TestThinkingSurvivesToolTurn(t *testing.T) {
	raw := readFile(t, filepath.Join("testdata", "responses", "thinking.json"))
	var orig struct {
		Content []json.RawMessage `json:"content"`
	}
	if err := json.Unmarshal(raw, &orig); err != nil {
		t.Fatal(err)
	}
	whole, err := ToChatCompletion(raw, "m")
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Choices []struct {
			Message json.RawMessage `json:"message"`
		} `json:"choices"`
	}
	if err := json.Unmarshal(whole, &c); err != nil {
		t.Fatal(err)
	}
	chunks, err := drain(t, streamOver(bytes.NewReader(readFile(t, filepath.Join("testdata", "thinking.sse")))))
	if err != io.EOF {
		t.Fatal(err)
	}
	streamed, _ := json.Marshal(assemble(t, chunks).Choices[0].Message)

	for name, msg := range map[string]json.RawMessage{"non-streamed": c.Choices[0].Message, "streamed": streamed} {
		t.Run(name, func(t *testing.T) {
			body := `{"messages":[{"role":"user","content":"What's the weather in Paris?"},` + string(msg) +
				`,{"role":"tool","tool_call_id":"toolu_01ThinkWeather000003","content":"18°C"}],"reasoning_effort":"low"}`
			mr, err := FromChat([]byte(body), testModel, 0)
			if err != nil {
				t.Fatal(err)
			}
			if mr.Thinking == nil {
				t.Error("thinking was turned off for the tool turn")
			}
			got := mr.Messages[1].Content
			if len(got) != len(orig.Content) {
				t.Fatalf("assistant turn has %d blocks, want %d", len(got), len(orig.Content))
			}
			for i := range got {
				g, _ := json.Marshal(got[i])
				if !sameJSON(t, g, orig.Content[i]) {
					t.Errorf("block %d:\n got %s\nwant %s", i, g, orig.Content[i])
				}
			}
		})
	}
}

func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var va, vb any
	if err := json.Unmarshal(a, &va); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &vb); err != nil {
		t.Fatal(err)
	}
	return reflect.DeepEqual(va, vb)
}
