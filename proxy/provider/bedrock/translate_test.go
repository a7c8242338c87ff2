package bedrock

import (
	"encoding/json"
	"errors"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/clawgate/clawgate/proxy/provider"
)

const (
	claudeModel   = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
	llamaModel    = "meta.llama3-3-70b-instruct-v1:0"
	testMaxTokens = 8192
)

// modelFor picks the model a request fixture is translated for: llama_* files test the rules
// for models that are not Claude.
func modelFor(name string) string {
	if strings.HasPrefix(name, "llama_") {
		return llamaModel
	}
	return claudeModel
}

// TestFromChatGolden translates testdata/requests/X.openai.json into X.converse.json.
func TestFromChatGolden(t *testing.T) {
	dir := filepath.Join("testdata", "requests")
	for _, name := range names(t, dir, ".openai.json") {
		t.Run(name, func(t *testing.T) {
			in := readFile(t, filepath.Join(dir, name+".openai.json"))
			cr, err := FromChat(in, modelFor(name), testMaxTokens)
			if err != nil {
				t.Fatal(err)
			}
			body, err := marshal(cr)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join(dir, name+".converse.json"), indent(t, body))
		})
	}
}

func load(t *testing.T, name string) *ConverseRequest {
	t.Helper()
	cr, err := FromChat(readFile(t, filepath.Join("testdata", "requests", name+".openai.json")), modelFor(name), testMaxTokens)
	if err != nil {
		t.Fatal(err)
	}
	return cr
}

func roles(cr *ConverseRequest) string {
	var r []string
	for _, m := range cr.Messages {
		r = append(r, m.Role)
	}
	return strings.Join(r, " ")
}

// kinds names each block by its member, for compact assertions.
func kinds(blocks []Block) string {
	var k []string
	for _, b := range blocks {
		switch {
		case b.Text != "":
			k = append(k, "text")
		case b.Image != nil:
			k = append(k, "image")
		case b.Document != nil:
			k = append(k, "document")
		case b.ToolUse != nil:
			k = append(k, "toolUse")
		case b.ToolResult != nil:
			k = append(k, "toolResult")
		case b.ReasoningContent != nil && b.ReasoningContent.ReasoningText != nil:
			k = append(k, "reasoning")
		case b.ReasoningContent != nil:
			k = append(k, "redacted")
		case b.CachePoint != nil:
			k = append(k, "cachePoint")
		default:
			k = append(k, "EMPTY")
		}
	}
	return strings.Join(k, " ")
}

func toolNames(cfg *ToolConfig) string {
	var n []string
	for _, tool := range cfg.Tools {
		if tool.ToolSpec != nil {
			n = append(n, tool.ToolSpec.Name)
		} else {
			n = append(n, "cachePoint")
		}
	}
	return strings.Join(n, " ")
}

// TestFromChatRules checks the rules the goldens show, one by one, so that a careless -update
// cannot bless a regression.
func TestFromChatRules(t *testing.T) {
	t.Run("system lifted, cache point after the cached block, inferenceConfig", func(t *testing.T) {
		cr := load(t, "basic")
		var sys []string
		for _, b := range cr.System {
			if b.CachePoint != nil {
				sys = append(sys, "cachePoint")
			} else {
				sys = append(sys, b.Text)
			}
		}
		if got := strings.Join(sys, "|"); got != "You are a concise assistant.|cachePoint|Reference manual (long, cached):\n... 40 pages ...|Answer in English.|cachePoint" {
			t.Fatalf("system = %q", got)
		}
		ic := cr.InferenceConfig
		if ic == nil || *ic.MaxTokens != 1024 || *ic.Temperature != 0.3 || *ic.TopP != 0.9 || !slices.Equal(ic.StopSequences, []string{"END"}) {
			t.Fatalf("inferenceConfig = %+v", ic)
		}
		if roles(cr) != "user" || cr.ToolConfig != nil || cr.AdditionalModelRequestFields != nil {
			t.Errorf("roles %s toolConfig %v extra %s", roles(cr), cr.ToolConfig, cr.AdditionalModelRequestFields)
		}
	})
	t.Run("tool results merged into one user turn before the text; tools with a cache point", func(t *testing.T) {
		cr := load(t, "tools")
		if got := roles(cr); got != "user assistant user" {
			t.Fatalf("roles = %s", got)
		}
		if got := kinds(cr.Messages[1].Content); got != "text toolUse toolUse" {
			t.Errorf("assistant turn = %s", got)
		}
		if got := string(cr.Messages[1].Content[2].ToolUse.Input); got != "{}" {
			t.Errorf("empty arguments gave input %s", got)
		}
		if got := string(cr.Messages[1].Content[1].ToolUse.Input); got != `{"location":"Paris","unit":"celsius"}` {
			t.Errorf("arguments gave input %s", got)
		}
		last := cr.Messages[2].Content
		if got := kinds(last); got != "toolResult toolResult text" {
			t.Fatalf("last turn = %s", got)
		}
		if r := last[0].ToolResult; r.ToolUseID != "tooluse_Paris0001AbCdEfGhIjKl" || r.Content[0].Text != `{"temp": 18, "sky": "cloudy"}` {
			t.Errorf("first result = %+v", r)
		}
		if got := toolNames(cr.ToolConfig); got != "get_weather get_time cachePoint" {
			t.Errorf("tools = %s", got)
		}
		if string(cr.ToolConfig.Tools[1].ToolSpec.InputSchema.JSON) != string(emptySchema) {
			t.Errorf("tool without parameters has schema %s", cr.ToolConfig.Tools[1].ToolSpec.InputSchema.JSON)
		}
		if tc := cr.ToolConfig.ToolChoice; tc == nil || tc.Auto == nil || tc.Any != nil || tc.Tool != nil {
			t.Errorf("tool_choice auto gave %+v", tc)
		}
		if *cr.InferenceConfig.MaxTokens != 2000 {
			t.Errorf("max_completion_tokens gave %d", *cr.InferenceConfig.MaxTokens)
		}
	})
	t.Run("tool results go first in a merged user turn, with their cache point", func(t *testing.T) {
		cr := load(t, "merge_order")
		if got := roles(cr); got != "user assistant user" {
			t.Fatalf("roles = %s", got)
		}
		if got := kinds(cr.Messages[2].Content); got != "toolResult cachePoint text" {
			t.Errorf("user turn = %s", got)
		}
		if got := kinds(cr.Messages[1].Content); got != "toolUse" {
			t.Errorf("assistant turn without content = %s", got)
		}
	})
	t.Run("required is any, named is tool", func(t *testing.T) {
		if tc := load(t, "tool_choice_required").ToolConfig.ToolChoice; tc == nil || tc.Any == nil || tc.Auto != nil {
			t.Errorf("required gave %+v", tc)
		}
		if tc := load(t, "tool_choice_named").ToolConfig.ToolChoice; tc == nil || tc.Tool == nil || tc.Tool.Name != "get_weather" {
			t.Errorf("named gave %+v", tc)
		}
	})
	t.Run("none drops the tools but keeps the ones the history calls", func(t *testing.T) {
		cr := load(t, "tool_choice_none")
		if cr.ToolConfig == nil || cr.ToolConfig.ToolChoice != nil {
			t.Fatalf("toolConfig = %+v", cr.ToolConfig)
		}
		if got := toolNames(cr.ToolConfig); got != "get_weather" {
			t.Errorf("tools = %s", got)
		}
		if cr.ToolConfig.Tools[0].ToolSpec.Description != "Current weather for a city." {
			t.Errorf("history tool lost its definition: %+v", cr.ToolConfig.Tools[0].ToolSpec)
		}
	})
	t.Run("history with tool blocks and no tools gets stand-in specs", func(t *testing.T) {
		cr := load(t, "history_without_tools")
		if cr.ToolConfig == nil || cr.ToolConfig.ToolChoice != nil {
			t.Fatalf("toolConfig = %+v", cr.ToolConfig)
		}
		if got := toolNames(cr.ToolConfig); got != "get_weather get_time" {
			t.Errorf("tools = %s", got)
		}
		if got := kinds(cr.Messages[1].Content); got != "toolUse toolUse toolUse" {
			t.Errorf("assistant turn with empty content = %s", got)
		}
		if r := cr.Messages[2].Content[1].ToolResult; r.Content[0].Text != emptyToolResult {
			t.Errorf("empty tool result = %+v", r.Content)
		}
	})
	t.Run("no tool blocks, no tools: no toolConfig", func(t *testing.T) {
		if cr := load(t, "images"); cr.ToolConfig != nil {
			t.Errorf("toolConfig = %+v", cr.ToolConfig)
		}
	})
	t.Run("images and documents as bytes, blank text dropped", func(t *testing.T) {
		cr := load(t, "images")
		c := cr.Messages[0].Content
		if got := kinds(c); got != "text image image cachePoint document" {
			t.Fatalf("user turn = %s", got)
		}
		if c[1].Image.Format != "png" || !strings.HasPrefix(c[1].Image.Source.Bytes, "iVBORw0KGgo") {
			t.Errorf("png = %+v", c[1].Image)
		}
		if c[2].Image.Format != "jpeg" || c[2].Image.Source.Bytes != "/9j/4AAQSkZJRgABAQ==" {
			t.Errorf("unpadded jpeg = %+v", c[2].Image)
		}
		if d := c[4].Document; d.Format != "pdf" || d.Name != "Contract v2 (final)" || d.Source.Bytes != "JVBERi0xLjQKJcfsj6IK" {
			t.Errorf("document = %+v", d)
		}
	})
	t.Run("reasoning echoed first, effort budget, maxTokens raised, sampling dropped", func(t *testing.T) {
		cr := load(t, "thinking_tool_turn")
		if got := kinds(cr.Messages[1].Content); got != "reasoning redacted text toolUse" {
			t.Fatalf("assistant turn = %s", got)
		}
		if rt := cr.Messages[1].Content[0].ReasoningContent.ReasoningText; rt.Signature != "EqQBCkgIBRABGAIiQLFxy6vJ3pW0" {
			t.Errorf("reasoning = %+v", rt)
		}
		if got := string(cr.AdditionalModelRequestFields); got != `{"thinking":{"type":"enabled","budget_tokens":4096}}` {
			t.Errorf("additionalModelRequestFields = %s", got)
		}
		if ic := cr.InferenceConfig; *ic.MaxTokens != 4096+2000 || ic.Temperature != nil {
			t.Errorf("inferenceConfig = %+v", ic)
		}
	})
	t.Run("thinking off when the tool turn lost its reasoning", func(t *testing.T) {
		cr := load(t, "thinking_not_echoed")
		if cr.AdditionalModelRequestFields != nil {
			t.Errorf("additionalModelRequestFields = %s", cr.AdditionalModelRequestFields)
		}
		if ic := cr.InferenceConfig; ic.Temperature == nil || *ic.Temperature != 0.2 || *ic.MaxTokens != testMaxTokens {
			t.Errorf("inferenceConfig = %+v", ic)
		}
	})
	t.Run("reasoning_effort without max_tokens uses the deployment's limit", func(t *testing.T) {
		cr := load(t, "reasoning_effort")
		if got := string(cr.AdditionalModelRequestFields); got != `{"thinking":{"type":"enabled","budget_tokens":1024}}` {
			t.Errorf("additionalModelRequestFields = %s", got)
		}
		if ic := cr.InferenceConfig; *ic.MaxTokens != testMaxTokens || ic.TopP != nil {
			t.Errorf("inferenceConfig = %+v", ic)
		}
	})
	t.Run("a placeholder user turn opens a conversation the assistant started", func(t *testing.T) {
		cr := load(t, "starts_with_assistant")
		if got := roles(cr); got != "user assistant user" {
			t.Fatalf("roles = %s", got)
		}
		if cr.Messages[0].Content[0].Text != placeholderUser || len(cr.Messages[0].Content) != 1 {
			t.Errorf("first turn = %+v", cr.Messages[0].Content)
		}
		if got := kinds(cr.Messages[2].Content); got != "text cachePoint text" {
			t.Errorf("merged user turn = %s", got)
		}
		if len(cr.System) != 1 || cr.System[0].Text != "Be brief." {
			t.Errorf("developer message = %+v", cr.System)
		}
		if got := cr.InferenceConfig.StopSequences; !slices.Equal(got, []string{"\n\n", "Human:"}) {
			t.Errorf("stop = %q", got)
		}
	})
	t.Run("models that are not Claude: no auto choice, no thinking, no top_k", func(t *testing.T) {
		cr := load(t, "llama_tools")
		if cr.ToolConfig == nil || cr.ToolConfig.ToolChoice != nil {
			t.Errorf("toolConfig = %+v", cr.ToolConfig)
		}
		if cr.AdditionalModelRequestFields != nil {
			t.Errorf("additionalModelRequestFields = %s", cr.AdditionalModelRequestFields)
		}
		if *cr.InferenceConfig.MaxTokens != 300 {
			t.Errorf("maxTokens = %d", *cr.InferenceConfig.MaxTokens)
		}
	})
	t.Run("no limit anywhere sends no maxTokens", func(t *testing.T) {
		cr, err := FromChat([]byte(`{"messages":[{"role":"user","content":"hi"}]}`), claudeModel, 0)
		if err != nil {
			t.Fatal(err)
		}
		if cr.InferenceConfig != nil {
			t.Errorf("inferenceConfig = %+v", cr.InferenceConfig)
		}
	})
	t.Run("top_k goes to additionalModelRequestFields for Claude", func(t *testing.T) {
		cr, err := FromChat([]byte(`{"messages":[{"role":"user","content":"hi"}],"top_k":5}`), "anthropic.claude-3-haiku-20240307-v1:0", 0)
		if err != nil {
			t.Fatal(err)
		}
		if got := string(cr.AdditionalModelRequestFields); got != `{"top_k":5}` {
			t.Errorf("additionalModelRequestFields = %s", got)
		}
	})
	t.Run("a native thinking object passes through", func(t *testing.T) {
		cr, err := FromChat([]byte(`{"messages":[{"role":"user","content":"hi"}],"thinking":{"type":"enabled","budget_tokens":3000},"max_tokens":1000}`), claudeModel, 0)
		if err != nil {
			t.Fatal(err)
		}
		if got := string(cr.AdditionalModelRequestFields); got != `{"thinking":{"type":"enabled","budget_tokens":3000}}` {
			t.Errorf("additionalModelRequestFields = %s", got)
		}
		if *cr.InferenceConfig.MaxTokens != 4000 {
			t.Errorf("maxTokens = %d, want budget + asked", *cr.InferenceConfig.MaxTokens)
		}
	})
}

// TestFromChatDoesNotMutate holds FromChat to reading its input only: the router may retry the
// same body on another deployment.
func TestFromChatDoesNotMutate(t *testing.T) {
	for _, name := range names(t, filepath.Join("testdata", "requests"), ".openai.json") {
		in := readFile(t, filepath.Join("testdata", "requests", name+".openai.json"))
		before := string(in)
		if _, err := FromChat(in, modelFor(name), testMaxTokens); err != nil {
			t.Fatal(err)
		}
		if string(in) != before {
			t.Errorf("%s: FromChat changed its input", name)
		}
	}
}

func TestFromChatErrors(t *testing.T) {
	tests := []struct {
		name, body, param, want string
	}{
		{"not JSON", `{"messages":`, "", "invalid chat completion request"},
		{"no messages", `{"messages":[]}`, "messages", "must not be empty"},
		{"only system", `{"messages":[{"role":"system","content":"x"}]}`, "messages", "besides system"},
		{"n>1", `{"n":2,"messages":[{"role":"user","content":"x"}]}`, "n", "n=2"},
		{"http image", `{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://example.com/cat.png"}}]}]}`, "messages[0].content[0]", "send the image inline as a data: URL"},
		{"svg image", `{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/svg+xml;base64,PHN2Zz4="}}]}]}`, "messages[0].content[0]", "png, jpeg, gif or webp"},
		{"bad base64", `{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,@@@"}}]}]}`, "messages[0].content[0]", "invalid base64"},
		{"image in a system message", `{"messages":[{"role":"system","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBO"}}]},{"role":"user","content":"x"}]}`, "messages[0].content[0]", "system message cannot hold image_url"},
		{"file id", `{"messages":[{"role":"user","content":[{"type":"file","file":{"file_id":"file-1"}}]}]}`, "messages[0].content[0]", "file ids are not supported"},
		{"unknown part", `{"messages":[{"role":"user","content":[{"type":"input_audio"}]}]}`, "messages[0].content[0]", "input_audio"},
		{"bad arguments", `{"messages":[{"role":"user","content":"x"},{"role":"assistant","tool_calls":[{"id":"t","type":"function","function":{"name":"f","arguments":"{oops"}}]}]}`, "messages[1]", "not valid JSON"},
		{"array arguments", `{"messages":[{"role":"user","content":"x"},{"role":"assistant","tool_calls":[{"id":"t","type":"function","function":{"name":"f","arguments":"[1]"}}]}]}`, "messages[1]", "JSON object"},
		{"tool call without id", `{"messages":[{"role":"user","content":"x"},{"role":"assistant","tool_calls":[{"type":"function","function":{"name":"f"}}]}]}`, "messages[1]", "needs an id"},
		{"tool result without id", `{"messages":[{"role":"user","content":"x"},{"role":"tool","content":"r"}]}`, "messages[1]", "tool_call_id"},
		{"function role", `{"messages":[{"role":"function","content":"x"}]}`, "messages[0]", "role \"function\""},
		{"unknown role", `{"messages":[{"role":"robot","content":"x"}]}`, "messages[0]", "unknown role"},
		{"user without content", `{"messages":[{"role":"user"}]}`, "messages[0]", "needs content"},
		{"thinking part from the user", `{"messages":[{"role":"user","content":[{"type":"thinking","thinking":"x","signature":"s"}]}]}`, "messages[0].content[0]", "belong in assistant messages"},
		{"server tool", `{"messages":[{"role":"user","content":"x"}],"tools":[{"type":"web_search"}]}`, "tools", "only functions"},
		{"nameless tool", `{"messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{}}]}`, "tools", "function.name"},
		{"bad tool_choice", `{"messages":[{"role":"user","content":"x"}],"tool_choice":"sometimes"}`, "tool_choice", "not one of"},
		{"bad stop", `{"messages":[{"role":"user","content":"x"}],"stop":5}`, "stop", "string or an array"},
		{"zero max_tokens", `{"messages":[{"role":"user","content":"x"}],"max_tokens":0}`, "max_tokens", "at least 1"},
		{"unknown effort", `{"messages":[{"role":"user","content":"x"}],"reasoning_effort":"extreme"}`, "reasoning_effort", "unknown reasoning_effort"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := FromChat([]byte(tt.body), claudeModel, 0)
			var pe *provider.Error
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want *provider.Error", err)
			}
			if pe.Status != http.StatusBadRequest || pe.Type != "invalid_request_error" || pe.Param != tt.param || !strings.Contains(pe.Message, tt.want) {
				t.Errorf("got %d %s param %q: %s; want param %q and %q", pe.Status, pe.Type, pe.Param, pe.Message, tt.param, tt.want)
			}
		})
	}
}

func TestIsClaude(t *testing.T) {
	for model, want := range map[string]bool{
		"anthropic.claude-3-5-sonnet-20240620-v1:0":                                                 true,
		"us.anthropic.claude-sonnet-4-5-20250929-v1:0":                                              true,
		"global.anthropic.claude-sonnet-4-5-20250929-v1:0":                                          true,
		"arn:aws:bedrock:us-east-1:123456789012:inference-profile/eu.anthropic.claude-3-haiku-v1:0": true,
		"amazon.nova-pro-v1:0":                                                                      false,
		"meta.llama3-3-70b-instruct-v1:0":                                                           false,
		"arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3d4e5f6":         false,
	} {
		if got := isClaude(model); got != want {
			t.Errorf("isClaude(%q) = %v", model, got)
		}
	}
	// The wire form of a request body must not depend on JSON map order or HTML escaping.
	cr := load(t, "basic")
	b, _ := json.Marshal(cr.Messages[0])
	if m, _ := marshal(cr.Messages[0]); string(m) == string(b) {
		t.Errorf("marshal escapes HTML like json.Marshal: %s", m)
	}
}
