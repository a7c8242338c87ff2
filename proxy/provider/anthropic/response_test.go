package anthropic

import (
	"encoding/json"
	"errors"
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
			out, err := ToChatCompletion(readFile(t, filepath.Join(dir, name+".json")), "fallback-model")
			if err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join(dir, name+".openai.json"), indent(t, out))
		})
	}
}

// completion is the part of a chat.completion the tests compare.
type completion struct {
	ID      string    `json:"id"`
	Object  string    `json:"object"`
	Model   string    `json:"model"`
	Choices []choice  `json:"choices"`
	Usage   chatUsage `json:"usage"`
}

type choice struct {
	Message      message `json:"message"`
	FinishReason string  `json:"finish_reason"`
}

type message struct {
	Role             string          `json:"role"`
	Content          *string         `json:"content"`
	ReasoningContent string          `json:"reasoning_content"`
	ThinkingBlocks   json.RawMessage `json:"thinking_blocks"`
	ToolCalls        []toolCall      `json:"tool_calls"`
}

type toolCall struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

func TestToChatCompletionMapping(t *testing.T) {
	decode := func(t *testing.T, name string) completion {
		t.Helper()
		out, err := ToChatCompletion(readFile(t, filepath.Join("testdata", "responses", name+".json")), "fallback-model")
		if err != nil {
			t.Fatal(err)
		}
		var c completion
		if err := json.Unmarshal(out, &c); err != nil {
			t.Fatal(err)
		}
		if len(c.Choices) != 1 || c.Object != "chat.completion" || c.Choices[0].Message.Role != "assistant" {
			t.Fatalf("shape: %s", out)
		}
		return c
	}
	t.Run("cache usage", func(t *testing.T) {
		c := decode(t, "cache")
		u := c.Usage
		if u.PromptTokens != 12+1024+18432 || u.CompletionTokens != 42 || u.TotalTokens != 12+1024+18432+42 ||
			u.PromptTokensDetails.CachedTokens != 18432 || u.CacheReadInputTokens != 18432 || u.CacheCreationInputTokens != 1024 {
			t.Errorf("usage = %+v", u)
		}
		if c.ID != "msg_01QC4g3HwBThD4BaNtBckFDJ" || c.Model != "claude-sonnet-4-5-20250929" {
			t.Errorf("id %q model %q", c.ID, c.Model)
		}
	})
	t.Run("tool calls", func(t *testing.T) {
		c := decode(t, "parallel_tools")
		m := c.Choices[0].Message
		if c.Choices[0].FinishReason != "tool_calls" || len(m.ToolCalls) != 2 {
			t.Fatalf("finish %q calls %d", c.Choices[0].FinishReason, len(m.ToolCalls))
		}
		tc := m.ToolCalls[1]
		if tc.ID != "toolu_01TimeTokyo00000002" || tc.Type != "function" || tc.Function.Name != "get_time" || tc.Function.Arguments != `{"timezone":"Asia/Tokyo"}` {
			t.Errorf("tool call = %+v", tc)
		}
	})
	t.Run("no text and tool calls: content null", func(t *testing.T) {
		c := decode(t, "tool_no_args")
		m := c.Choices[0].Message
		if m.Content != nil || m.ToolCalls[0].Function.Arguments != "{}" {
			t.Errorf("content %v arguments %q", m.Content, m.ToolCalls[0].Function.Arguments)
		}
	})
	t.Run("thinking", func(t *testing.T) {
		c := decode(t, "thinking")
		m := c.Choices[0].Message
		if !strings.HasPrefix(m.ReasoningContent, "The user wants the weather in Paris.") {
			t.Errorf("reasoning_content = %q", m.ReasoningContent)
		}
		var blocks []chatPart
		if err := json.Unmarshal(m.ThinkingBlocks, &blocks); err != nil || len(blocks) != 2 ||
			blocks[0].Signature == "" || blocks[1].Type != "redacted_thinking" || blocks[1].Data == "" {
			t.Errorf("thinking_blocks = %s (%v)", m.ThinkingBlocks, err)
		}
	})
	t.Run("max_tokens is length", func(t *testing.T) {
		if got := decode(t, "max_tokens").Choices[0].FinishReason; got != "length" {
			t.Errorf("finish_reason = %q", got)
		}
	})
	t.Run("server tool blocks left out", func(t *testing.T) {
		c := decode(t, "unknown_events")
		m := c.Choices[0].Message
		if len(m.ToolCalls) != 0 || m.Content == nil || *m.Content != "It is sunny and 75°F in New York City." {
			t.Errorf("message = %+v", m)
		}
	})
}

func TestFinishReason(t *testing.T) {
	for stop, want := range map[string]string{
		"end_turn": "stop", "stop_sequence": "stop", "pause_turn": "stop", "": "stop", "something_new": "stop",
		"max_tokens": "length", "model_context_window_exceeded": "length",
		"tool_use": "tool_calls", "refusal": "content_filter",
	} {
		if got := finishReason(stop); got != want {
			t.Errorf("finishReason(%q) = %q, want %q", stop, got, want)
		}
	}
}

func TestToChatCompletionErrors(t *testing.T) {
	tests := []struct {
		name   string
		body   string
		status int
		typ    string
	}{
		{"not JSON", `{"id":`, 502, "api_error"},
		{"not a message", `{"type":"completion"}`, 502, "api_error"},
		{"error envelope", string(readFile(t, filepath.Join("testdata", "errors", "overloaded_529.json"))), 529, "overloaded_error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ToChatCompletion([]byte(tt.body), "m")
			var pe *provider.Error
			if !errors.As(err, &pe) || pe.Status != tt.status || pe.Type != tt.typ {
				t.Errorf("err = %#v, want status %d type %s", err, tt.status, tt.typ)
			}
		})
	}
}

func TestAppendString(t *testing.T) {
	for _, s := range []string{"", "plain", "quote \" backslash \\ slash /", "ctl \x00\x01\x1f\t\r\n", "<b>&amp;</b>", "café ☕ 𝄞", "bad \xff utf8", "\u2028\u2029"} {
		got := appendString(nil, s)
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Errorf("%q: not JSON: %s", s, got)
			continue
		}
		want := strings.ToValidUTF8(s, "\uFFFD")
		if back != want {
			t.Errorf("%q round-trips to %q", s, back)
		}
	}
}
