package gemini

import (
	"bytes"
	"encoding/json"
	"io"
	"path/filepath"
	"regexp"
	"testing"
)

// TestSignaturesSurviveToolTurn feeds the assistant message a client built from our answer
// (streamed or not) back as history to a Gemini 3 model, and checks that Gemini gets its own
// functionCall parts back: the same names, the same args and the same thoughtSignature on the
// same parts, so that a thinking model can continue after a tool call. It also checks the
// fallbacks: a client that drops provider_specific_fields still has the id, and one that drops
// the signature from the id still has provider_specific_fields.
func TestSignaturesSurviveToolTurn(t *testing.T) {
	for _, name := range []string{"tool_call", "parallel_tools"} {
		raw := readFile(t, filepath.Join("testdata", "responses", name+".json"))
		var orig struct {
			Candidates []struct {
				Content struct {
					Parts []json.RawMessage `json:"parts"`
				} `json:"content"`
			} `json:"candidates"`
		}
		if err := json.Unmarshal(raw, &orig); err != nil {
			t.Fatal(err)
		}
		want := orig.Candidates[0].Content.Parts

		resetIDs()
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
		resetIDs()
		chunks, err := drain(t, streamOver(bytes.NewReader(readFile(t, filepath.Join("testdata", name+".sse")))))
		if err != io.EOF {
			t.Fatal(err)
		}
		streamed, _ := json.Marshal(assemble(t, chunks).Choices[0].Message)

		noFields := regexp.MustCompile(`,"provider_specific_fields":\{[^}]*\}`).ReplaceAll(c.Choices[0].Message, nil)
		noIDSig := regexp.MustCompile(`__thought__[^"]*`).ReplaceAll(c.Choices[0].Message, nil)
		if bytes.Contains(noFields, []byte("provider_specific_fields")) || bytes.Contains(noIDSig, []byte(thoughtSep)) ||
			!bytes.Contains(noIDSig, []byte("thought_signature")) {
			t.Fatalf("the variants do not strip what they say:\n%s\n%s", noFields, noIDSig)
		}
		for variant, msg := range map[string][]byte{
			"non-streamed": c.Choices[0].Message, "streamed": streamed,
			"without provider_specific_fields": noFields, "signature only in provider_specific_fields": noIDSig,
		} {
			t.Run(name+"/"+variant, func(t *testing.T) {
				var m struct {
					ToolCalls []struct {
						ID string `json:"id"`
					} `json:"tool_calls"`
				}
				if err := json.Unmarshal(msg, &m); err != nil {
					t.Fatal(err)
				}
				body := `{"messages":[{"role":"user","content":"What's the weather?"},` + string(msg)
				for _, tc := range m.ToolCalls {
					id, _ := json.Marshal(tc.ID)
					body += `,{"role":"tool","tool_call_id":` + string(id) + `,"content":"{\"temp\":18}"}`
				}
				body += `],"reasoning_effort":"low"}`
				gr, err := FromChat([]byte(body), "gemini-3-pro-preview")
				if err != nil {
					t.Fatal(err)
				}
				got := gr.Contents[1].Parts
				if len(got) != len(want) {
					t.Fatalf("model turn has %d parts, want %d", len(got), len(want))
				}
				for i := range got {
					g, _ := json.Marshal(got[i])
					if !sameJSON(t, g, want[i]) {
						t.Errorf("part %d:\n got %s\nwant %s", i, g, want[i])
					}
				}
				if n := len(gr.Contents[2].Parts); n != len(m.ToolCalls) || gr.Contents[2].Parts[0].FunctionResponse == nil {
					t.Errorf("tool results: %d parts for %d calls", n, len(m.ToolCalls))
				}
			})
		}
	}
}
