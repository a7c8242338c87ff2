package bedrock

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clawgate/clawgate/proxy/provider"
)

// TestToChatCompletionGolden translates testdata/responses/X.json into X.openai.json.
func TestToChatCompletionGolden(t *testing.T) {
	dir := filepath.Join("testdata", "responses")
	for _, name := range names(t, dir, ".json") {
		if strings.HasSuffix(name, ".openai") {
			continue
		}
		t.Run(name, func(t *testing.T) {
			out, err := ToChatCompletion(readFile(t, filepath.Join(dir, name+".json")), claudeModel)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join(dir, name+".openai.json"), indent(t, out))
		})
	}
}

func TestToChatCompletionRules(t *testing.T) {
	get := func(t *testing.T, name string) completion {
		t.Helper()
		out, err := ToChatCompletion(readFile(t, filepath.Join("testdata", "responses", name+".json")), claudeModel)
		if err != nil {
			t.Fatal(err)
		}
		var c completion
		if err := json.Unmarshal(out, &c); err != nil {
			t.Fatal(err)
		}
		return c
	}
	finish := map[string]string{
		"text": "stop", "tool_use": "tool_calls", "max_tokens": "length", "guardrail": "content_filter",
		"parallel_tools": "tool_calls", "thinking": "tool_calls", "unknown_events": "stop",
	}
	for name, want := range finish {
		if got := get(t, name).Choices[0].FinishReason; got != want {
			t.Errorf("%s: finish_reason %q, want %q", name, got, want)
		}
	}
	t.Run("cache usage", func(t *testing.T) {
		u := get(t, "cache").Usage
		if u.PromptTokens != 24+18432+1012 || u.CompletionTokens != 17 || u.TotalTokens != 24+18432+1012+17 ||
			u.PromptTokensDetails.CachedTokens != 18432 || u.CacheReadInputTokens != 18432 || u.CacheCreationInputTokens != 1012 {
			t.Errorf("usage = %+v", u)
		}
	})
	t.Run("tool calls without text have null content", func(t *testing.T) {
		m := get(t, "parallel_tools").Choices[0].Message
		if m.Content != nil || len(m.ToolCalls) != 2 || m.ToolCalls[1].Function.Arguments != `{"location":"Tokyo"}` || m.ToolCalls[1].ID != "tooluse_Tokyo0002MnOpQrStUvWx" {
			t.Errorf("message = %+v", m)
		}
	})
	t.Run("reasoning and thinking blocks", func(t *testing.T) {
		m := get(t, "thinking").Choices[0].Message
		if !strings.HasPrefix(m.ReasoningContent, "The user wants") || !strings.Contains(string(m.ThinkingBlocks), `"signature":"EqQB`) ||
			!strings.Contains(string(m.ThinkingBlocks), `{"type":"redacted_thinking","data":"RXhh`) {
			t.Errorf("message = %+v %s", m, m.ThinkingBlocks)
		}
	})
}

func TestToChatCompletionErrors(t *testing.T) {
	for name, body := range map[string]string{
		"not JSON":    `<html>`,
		"no output":   `{"message":"oops"}`,
		"truncated":   `{"output":{"message":{"role":"assistant","content":[{"text":"hi`,
		"wrong shape": `{"output":{"message":"text"}}`,
	} {
		_, err := ToChatCompletion([]byte(body), claudeModel)
		if pe := provider.AsError(err); err == nil || pe.Status != http.StatusBadGateway || pe.Transport {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}
