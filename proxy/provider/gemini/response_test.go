package gemini

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
			resetIDs()
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
	Role             string     `json:"role"`
	Content          *string    `json:"content"`
	Refusal          *string    `json:"refusal"`
	ReasoningContent string     `json:"reasoning_content"`
	ToolCalls        []toolCall `json:"tool_calls"`
}

type toolCall struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
	ProviderSpecificFields *providerFields `json:"provider_specific_fields"`
}

func decodeResponse(t *testing.T, name string) completion {
	t.Helper()
	resetIDs()
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

func TestToChatCompletionMapping(t *testing.T) {
	t.Run("text, usage with thoughts counted as completion", func(t *testing.T) {
		c := decodeResponse(t, "text")
		m := c.Choices[0].Message
		if m.Content == nil || !strings.HasPrefix(*m.Content, "AI learns") || !strings.Contains(*m.Content, "<not>") || m.ReasoningContent != "" {
			t.Errorf("message = %+v", m)
		}
		u := c.Usage
		if u.PromptTokens != 8 || u.CompletionTokens != 21+427 || u.TotalTokens != 456 ||
			u.CompletionTokensDetails.ReasoningTokens != 427 || u.PromptTokensDetails.CachedTokens != 0 {
			t.Errorf("usage = %+v", u)
		}
		if c.ID != "mAitaNDhCZ6Hz7IPq5ecmAo" || c.Model != "gemini-2.5-flash" || c.Choices[0].FinishReason != "stop" {
			t.Errorf("id %q model %q finish %q", c.ID, c.Model, c.Choices[0].FinishReason)
		}
	})
	t.Run("tool call with its signature in the id and provider_specific_fields", func(t *testing.T) {
		c := decodeResponse(t, "tool_call")
		m := c.Choices[0].Message
		if m.Content != nil || len(m.ToolCalls) != 1 || c.Choices[0].FinishReason != "tool_calls" {
			t.Fatalf("message = %+v finish %q", m, c.Choices[0].FinishReason)
		}
		tc := m.ToolCalls[0]
		const sig = "CikB0e2Kb7zkpgRyJXXNt6ykO/+FAMuF0u5lJtcLV8rLkqjhhwGpXo5ygqMZCMI="
		if tc.ID != "call_000000000000000000000001__thought__"+sig || tc.Type != "function" ||
			tc.ProviderSpecificFields == nil || tc.ProviderSpecificFields.ThoughtSignature != sig {
			t.Errorf("tool call = %+v", tc)
		}
		if tc.Function.Name != "get_current_weather" || tc.Function.Arguments != `{"location":"Boston, MA","unit":"fahrenheit"}` {
			t.Errorf("function = %+v", tc.Function)
		}
	})
	t.Run("parallel calls: only the first is signed, ids differ", func(t *testing.T) {
		c := decodeResponse(t, "parallel_tools")
		tcs := c.Choices[0].Message.ToolCalls
		if len(tcs) != 2 || tcs[0].ID == tcs[1].ID || !strings.Contains(tcs[0].ID, thoughtSep) ||
			strings.Contains(tcs[1].ID, thoughtSep) || tcs[1].ProviderSpecificFields != nil {
			t.Errorf("tool calls = %+v", tcs)
		}
	})
	t.Run("thought summaries as reasoning_content", func(t *testing.T) {
		c := decodeResponse(t, "thinking")
		m := c.Choices[0].Message
		if !strings.HasPrefix(m.ReasoningContent, "**Analyzing the Request**") || !strings.Contains(m.ReasoningContent, "**Choosing Examples**") {
			t.Errorf("reasoning_content = %q", m.ReasoningContent)
		}
		if m.Content == nil || strings.Contains(*m.Content, "Analyzing") || !strings.HasSuffix(*m.Content, "it was the dog.") {
			t.Errorf("content = %v", m.Content)
		}
		if c.Usage.CompletionTokens != 54+982 || c.Usage.CompletionTokensDetails.ReasoningTokens != 982 {
			t.Errorf("usage = %+v", c.Usage)
		}
	})
	t.Run("finish reasons", func(t *testing.T) {
		for name, want := range map[string]string{"max_tokens": "length", "safety": "content_filter", "prompt_blocked": "content_filter", "cached": "stop"} {
			if got := decodeResponse(t, name).Choices[0].FinishReason; got != want {
				t.Errorf("%s: finish_reason %q, want %q", name, got, want)
			}
		}
	})
	t.Run("blocked prompt is a refusal", func(t *testing.T) {
		c := decodeResponse(t, "prompt_blocked")
		m := c.Choices[0].Message
		if m.Content != nil || m.Refusal == nil || !strings.Contains(*m.Refusal, "PROHIBITED_CONTENT") {
			t.Errorf("message = %+v", m)
		}
		if c.Usage.PromptTokens != 9 || c.Usage.CompletionTokens != 0 || c.Usage.TotalTokens != 9 {
			t.Errorf("usage = %+v", c.Usage)
		}
	})
	t.Run("safety stop with no content", func(t *testing.T) {
		m := decodeResponse(t, "safety").Choices[0].Message
		if m.Content == nil || *m.Content != "" || m.Refusal != nil {
			t.Errorf("message = %+v", m)
		}
	})
	t.Run("cached tokens", func(t *testing.T) {
		u := decodeResponse(t, "cached").Usage
		if u.PromptTokens != 32845 || u.PromptTokensDetails.CachedTokens != 32768 || u.CompletionTokens != 14+243 || u.TotalTokens != 33102 {
			t.Errorf("usage = %+v", u)
		}
	})
}

func TestFinishReason(t *testing.T) {
	tests := []struct {
		reason string
		tools  bool
		want   string
	}{
		{"STOP", false, "stop"},
		{"STOP", true, "tool_calls"},
		{"MAX_TOKENS", false, "length"},
		{"MAX_TOKENS", true, "length"},
		{"SAFETY", false, "content_filter"},
		{"RECITATION", false, "content_filter"},
		{"BLOCKLIST", false, "content_filter"},
		{"PROHIBITED_CONTENT", false, "content_filter"},
		{"SPII", false, "content_filter"},
		{"IMAGE_SAFETY", false, "content_filter"},
		{"MALFORMED_FUNCTION_CALL", false, "stop"},
		{"OTHER", false, "stop"},
		{"LANGUAGE", false, "stop"},
		{"SOMETHING_NEW", false, "stop"},
		{"", false, "stop"},
	}
	for _, tt := range tests {
		if got := finishReason(tt.reason, tt.tools); got != tt.want {
			t.Errorf("finishReason(%q, %v) = %q, want %q", tt.reason, tt.tools, got, tt.want)
		}
	}
}

func TestUsage(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"none", `null`, `{"prompt_tokens":0,"completion_tokens":0,"total_tokens":0,"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}}`},
		{"thoughts and cache", `{"promptTokenCount":100,"candidatesTokenCount":20,"thoughtsTokenCount":30,"cachedContentTokenCount":64,"totalTokenCount":150}`,
			`{"prompt_tokens":100,"completion_tokens":50,"total_tokens":150,"prompt_tokens_details":{"cached_tokens":64},"completion_tokens_details":{"reasoning_tokens":30}}`},
		{"total missing", `{"promptTokenCount":3,"candidatesTokenCount":4}`,
			`{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7,"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}}`},
		{"tool use prompt", `{"promptTokenCount":10,"toolUsePromptTokenCount":90,"candidatesTokenCount":5,"totalTokenCount":105}`,
			`{"prompt_tokens":100,"completion_tokens":5,"total_tokens":105,"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var u *usageMetadata
			if err := json.Unmarshal([]byte(tt.in), &u); err != nil {
				t.Fatal(err)
			}
			got, _ := marshal(u.chat())
			if string(got) != tt.want {
				t.Errorf("\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestToChatCompletionErrors(t *testing.T) {
	tests := []struct {
		name   string
		body   string
		status int
		typ    string
		msg    string
	}{
		{"not JSON", `<html>`, 502, "api_error", "not valid JSON"},
		{"error object", `{"error":{"code":500,"message":"An internal error has occurred.","status":"INTERNAL"}}`, 500, "INTERNAL", "internal error"},
		{"error without code", `{"error":{"message":"slow down","status":"RESOURCE_EXHAUSTED"}}`, 429, "RESOURCE_EXHAUSTED", "slow down"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ToChatCompletion([]byte(tt.body), "m")
			var pe *provider.Error
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v", err)
			}
			if pe.Status != tt.status || pe.Type != tt.typ || !strings.Contains(pe.Message, tt.msg) {
				t.Errorf("got %+v", pe)
			}
		})
	}
	t.Run("no candidates, no feedback", func(t *testing.T) {
		out, err := ToChatCompletion([]byte(`{"usageMetadata":{"promptTokenCount":4,"totalTokenCount":4}}`), "asked-model")
		if err != nil {
			t.Fatal(err)
		}
		var c completion
		_ = json.Unmarshal(out, &c)
		if c.Model != "asked-model" || !strings.HasPrefix(c.ID, "chatcmpl-") || c.Choices[0].Message.Content == nil || c.Choices[0].FinishReason != "stop" {
			t.Errorf("completion = %s", out)
		}
	})
}
