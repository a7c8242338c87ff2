package bedrock

import (
	"bytes"
	"encoding/json"
	"io"
	"path/filepath"
	"reflect"
	"testing"
)

// TestReasoningSurvivesToolTurn feeds the assistant message a client built from our answer
// (streamed or not) back as history, and checks that Bedrock gets its own content blocks back,
// reasoning and signature first, so that a thinking Claude model can continue after a tool call.
func TestReasoningSurvivesToolTurn(t *testing.T) {
	raw := readFile(t, filepath.Join("testdata", "responses", "thinking.json"))
	var orig struct {
		Output struct {
			Message struct {
				Content []json.RawMessage `json:"content"`
			} `json:"message"`
		} `json:"output"`
	}
	if err := json.Unmarshal(raw, &orig); err != nil {
		t.Fatal(err)
	}
	want := orig.Output.Message.Content
	whole, err := ToChatCompletion(raw, claudeModel)
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
	chunks, err := drain(t, streamOver(bytes.NewReader(loadFrames(t, "thinking"))))
	if err != io.EOF {
		t.Fatal(err)
	}
	streamed, _ := json.Marshal(assemble(t, chunks).Choices[0].Message)

	for name, msg := range map[string]json.RawMessage{"non-streamed": c.Choices[0].Message, "streamed": streamed} {
		t.Run(name, func(t *testing.T) {
			body := `{"messages":[{"role":"user","content":"What's the weather in Paris?"},` + string(msg) +
				`,{"role":"tool","tool_call_id":"tooluse_ThinkWeather000003","content":"18°C"}],"reasoning_effort":"low"}`
			cr, err := FromChat([]byte(body), claudeModel, 0)
			if err != nil {
				t.Fatal(err)
			}
			if cr.AdditionalModelRequestFields == nil {
				t.Error("thinking was turned off for the tool turn")
			}
			if cr.ToolConfig == nil {
				t.Error("no toolConfig although the history holds tool blocks")
			}
			got := cr.Messages[1].Content
			if len(got) != len(want) {
				t.Fatalf("assistant turn has %d blocks, want %d", len(got), len(want))
			}
			for i := range got {
				g, _ := json.Marshal(got[i])
				if !sameJSON(t, g, want[i]) {
					t.Errorf("block %d:\n got %s\nwant %s", i, g, want[i])
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
