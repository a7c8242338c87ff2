package messages

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clawgate/clawgate/proxy/provider"
)

var testInfo = Info{Model: "claude-sonnet-4-5"}

// TestFromChatCompletionGolden translates testdata/responses/X.openai.json into X.anthropic.json.
func TestFromChatCompletionGolden(t *testing.T) {
	dir := filepath.Join("testdata", "responses")
	for _, name := range names(t, dir, ".openai.json") {
		t.Run(name, func(t *testing.T) {
			out, err := FromChatCompletion(readFile(t, filepath.Join(dir, name+".openai.json")), testInfo)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join(dir, name+".anthropic.json"), indent(t, out))
		})
	}
}

// anthropicMessage is the shape of a Message, for checking rules one by one.
type anthropicMessage struct {
	ID           string           `json:"id"`
	Type         string           `json:"type"`
	Role         string           `json:"role"`
	Model        string           `json:"model"`
	Content      []map[string]any `json:"content"`
	StopReason   string           `json:"stop_reason"`
	StopSequence *string          `json:"stop_sequence"`
	Usage        usage            `json:"usage"`
}

func fromChat(t *testing.T, name string, info Info) anthropicMessage {
	t.Helper()
	out, err := FromChatCompletion(readFile(t, filepath.Join("testdata", "responses", name+".openai.json")), info)
	if err != nil {
		t.Fatal(err)
	}
	var m anthropicMessage
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func types(content []map[string]any) string {
	var ts []string
	for _, b := range content {
		ts = append(ts, b["type"].(string))
	}
	return strings.Join(ts, " ")
}

func TestFromChatCompletionRules(t *testing.T) {
	t.Run("text with cached prompt", func(t *testing.T) {
		m := fromChat(t, "text", testInfo)
		if m.ID != "msg_B9MBs8CjcvOU2jLn4n570S5qMJKcT" || m.Type != "message" || m.Role != "assistant" || m.Model != "claude-sonnet-4-5" {
			t.Errorf("head = %+v", m)
		}
		if types(m.Content) != "text" || m.StopReason != "end_turn" || m.StopSequence != nil {
			t.Errorf("content %s stop %s", types(m.Content), m.StopReason)
		}
		if m.Usage != (usage{InputTokens: 99, CacheReadInputTokens: 1920, OutputTokens: 10}) {
			t.Errorf("usage = %+v", m.Usage)
		}
	})
	t.Run("tool calls", func(t *testing.T) {
		m := fromChat(t, "tool_calls", testInfo)
		if types(m.Content) != "tool_use tool_use" || m.StopReason != "tool_use" {
			t.Fatalf("content %s stop %s", types(m.Content), m.StopReason)
		}
		in, _ := json.Marshal(m.Content[0]["input"])
		if string(in) != `{"location":"Boston, MA"}` || m.Content[0]["id"] != "call_abc123" {
			t.Errorf("first call = %v", m.Content[0])
		}
	})
	t.Run("reasoning without signature, cut at max_tokens", func(t *testing.T) {
		m := fromChat(t, "reasoning_length", testInfo)
		if types(m.Content) != "thinking text" || m.StopReason != "max_tokens" || m.Content[0]["signature"] != "" {
			t.Errorf("content %v stop %s", m.Content, m.StopReason)
		}
		if m.ID != "msg_930c60df-bf64-41c9-a88e-3ec75f81e00e" {
			t.Errorf("id = %s", m.ID)
		}
	})
	t.Run("anthropic thinking blocks and cache write", func(t *testing.T) {
		m := fromChat(t, "thinking_blocks", testInfo)
		if types(m.Content) != "thinking redacted_thinking text tool_use" || m.StopReason != "tool_use" {
			t.Errorf("content %s stop %s", types(m.Content), m.StopReason)
		}
		if m.ID != "msg_01Ld5uHxXh2gFkzBZSgYcVUw" || m.Content[0]["signature"] != "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds" {
			t.Errorf("id %s thinking %v", m.ID, m.Content[0])
		}
		// 19554 prompt tokens = 98 uncached + 1024 written + 18432 read.
		if m.Usage != (usage{InputTokens: 98, CacheCreationInputTokens: 1024, CacheReadInputTokens: 18432, OutputTokens: 153}) {
			t.Errorf("usage = %+v", m.Usage)
		}
	})
	t.Run("refusal", func(t *testing.T) {
		m := fromChat(t, "refusal", testInfo)
		if types(m.Content) != "text" || m.StopReason != "refusal" {
			t.Errorf("content %s stop %s", types(m.Content), m.StopReason)
		}
	})
	t.Run("tool calls with finish stop, no id, object and broken arguments", func(t *testing.T) {
		m := fromChat(t, "tool_stop_no_ids", testInfo)
		if types(m.Content) != "tool_use tool_use" || m.StopReason != "tool_use" {
			t.Fatalf("content %s stop %s", types(m.Content), m.StopReason)
		}
		in0, _ := json.Marshal(m.Content[0]["input"])
		in1, _ := json.Marshal(m.Content[1]["input"])
		if m.Content[0]["id"] == "" || string(in0) != `{"location":"Toronto"}` || string(in1) != `{}` {
			t.Errorf("content = %v", m.Content)
		}
	})
	t.Run("shortened tool name restored", func(t *testing.T) {
		long := strings.Repeat("mcp__server__", 6) + "tool"
		_, info, err := ToChat([]byte(`{"model":"m","max_tokens":5,"tools":[{"name":"`+long+`","input_schema":{"type":"object"}}],"messages":[{"role":"user","content":"hi"}]}`), Options{})
		if err != nil {
			t.Fatal(err)
		}
		var short string
		for s := range info.names {
			short = s
		}
		resp := `{"id":"chatcmpl-1","choices":[{"message":{"role":"assistant","tool_calls":[{"id":"call_1","type":"function","function":{"name":"` + short + `","arguments":"{}"}}]},"finish_reason":"tool_calls"}]}`
		out, err := FromChatCompletion([]byte(resp), info)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(out), `"name":"`+long+`"`) {
			t.Errorf("name not restored: %s", out)
		}
	})
}

func TestFromChatCompletionErrors(t *testing.T) {
	for name, body := range map[string]string{
		"not json": `{"choices":`,
		"error":    `{"error":{"message":"boom","type":"server_error"}}`,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := FromChatCompletion([]byte(body), testInfo)
			var pe *provider.Error
			if !errors.As(err, &pe) || pe.Status != 502 {
				t.Errorf("err = %v, want a 502 *provider.Error", err)
			}
		})
	}
	t.Run("no choices", func(t *testing.T) {
		out, err := FromChatCompletion([]byte(`{"id":"x","choices":[]}`), testInfo)
		if err != nil || !strings.Contains(string(out), `"content":[]`) || !strings.Contains(string(out), `"stop_reason":"end_turn"`) {
			t.Errorf("%s %v", out, err)
		}
	})
}
