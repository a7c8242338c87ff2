package messages

import (
	"encoding/json"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clawgate/clawgate/proxy/provider"
)

// TestToChatGolden translates testdata/requests/X.anthropic.json into X.openai.json (with
// LiteLLM's extensions) and X.plain.json (for strict OpenAI-compatible upstreams).
func TestToChatGolden(t *testing.T) {
	dir := filepath.Join("testdata", "requests")
	for _, name := range names(t, dir, ".anthropic.json") {
		in := readFile(t, filepath.Join(dir, name+".anthropic.json"))
		for suffix, opts := range map[string]Options{".openai.json": {}, ".plain.json": {Plain: true}} {
			t.Run(name+suffix, func(t *testing.T) {
				chat, _, err := ToChat(in, opts)
				if err != nil {
					t.Fatal(err)
				}
				golden(t, filepath.Join(dir, name+suffix), indent(t, chat))
			})
		}
	}
}

// chatBody is the shape of ToChat's output, for checking rules one by one so that a careless
// -update cannot bless a regression.
type chatBody struct {
	Model    string `json:"model"`
	Messages []struct {
		Role       string          `json:"role"`
		Content    json.RawMessage `json:"content"`
		ToolCallID string          `json:"tool_call_id"`
		ToolCalls  []struct {
			ID       string `json:"id"`
			Function struct {
				Name      string `json:"name"`
				Arguments string `json:"arguments"`
			} `json:"function"`
		} `json:"tool_calls"`
		ThinkingBlocks []json.RawMessage `json:"thinking_blocks"`
		CacheControl   json.RawMessage   `json:"cache_control"`
	} `json:"messages"`
	MaxTokens     *int            `json:"max_tokens"`
	Stop          []string        `json:"stop"`
	Stream        bool            `json:"stream"`
	StreamOptions json.RawMessage `json:"stream_options"`
	Tools         []struct {
		Function struct {
			Name       string          `json:"name"`
			Parameters json.RawMessage `json:"parameters"`
		} `json:"function"`
		CacheControl json.RawMessage `json:"cache_control"`
	} `json:"tools"`
	ToolChoice        json.RawMessage `json:"tool_choice"`
	ParallelToolCalls *bool           `json:"parallel_tool_calls"`
	User              string          `json:"user"`
	ReasoningEffort   string          `json:"reasoning_effort"`
	Thinking          json.RawMessage `json:"thinking"`
	TopK              json.RawMessage `json:"top_k"`
}

func toChat(t *testing.T, name string, opts Options) (chatBody, Info, []byte) {
	t.Helper()
	chat, info, err := ToChat(readFile(t, filepath.Join("testdata", "requests", name+".anthropic.json")), opts)
	if err != nil {
		t.Fatal(err)
	}
	var c chatBody
	if err := json.Unmarshal(chat, &c); err != nil {
		t.Fatal(err)
	}
	return c, info, chat
}

func roles(c chatBody) string {
	var r []string
	for _, m := range c.Messages {
		r = append(r, m.Role)
	}
	return strings.Join(r, " ")
}

func TestToChatRules(t *testing.T) {
	t.Run("text: sampling, stop, user, stream with usage", func(t *testing.T) {
		c, info, _ := toChat(t, "text", Options{})
		if info.Model != "claude-sonnet-4-5" || !info.Stream || info.MaxTokens != 1024 || info.User != "user-42" {
			t.Errorf("info = %+v", info)
		}
		if roles(c) != "system user assistant user" || string(c.Messages[0].Content) != `"You are a terse assistant."` {
			t.Errorf("roles %q, system %s", roles(c), c.Messages[0].Content)
		}
		if len(c.Stop) != 1 || c.Stop[0] != "\n\nHuman:" || c.User != "user-42" || c.TopK != nil {
			t.Errorf("stop %q user %q top_k %s", c.Stop, c.User, c.TopK)
		}
		if !c.Stream || string(c.StreamOptions) != `{"include_usage":true}` {
			t.Errorf("stream %v options %s", c.Stream, c.StreamOptions)
		}
		if got := string(c.Messages[3].Content); got != `"Can you describe <b>LLMs</b> to me?"` {
			t.Errorf("one text block should become a string, unescaped: %s", got)
		}
	})
	t.Run("cache_control kept on parts and tools; long user_id not sent", func(t *testing.T) {
		c, info, _ := toChat(t, "system_cache", Options{})
		sys := c.Messages[0].Content
		if !strings.Contains(string(sys), `{"type":"text","text":"You are an interactive CLI tool that helps users with software engineering tasks.","cache_control":{"type":"ephemeral"}}`) {
			t.Errorf("system = %s", sys)
		}
		if !strings.Contains(string(c.Messages[1].Content), `"cache_control":{"type":"ephemeral","ttl":"1h"}`) {
			t.Errorf("user = %s", c.Messages[1].Content)
		}
		if c.Tools[0].CacheControl != nil || string(c.Tools[1].CacheControl) != `{"type":"ephemeral"}` {
			t.Errorf("tools = %+v", c.Tools)
		}
		if c.User != "" || !strings.HasPrefix(info.User, "user_2f4ad1c9") {
			t.Errorf("user %q info.User %q", c.User, info.User)
		}
	})
	t.Run("plain: no extensions, strings only", func(t *testing.T) {
		_, _, raw := toChat(t, "system_cache", Options{Plain: true})
		for _, ext := range []string{"cache_control", "thinking"} {
			if strings.Contains(string(raw), ext) {
				t.Errorf("plain body holds %s: %s", ext, raw)
			}
		}
		c, _, _ := toChat(t, "system_cache", Options{Plain: true})
		want := `"You are Claude Code, Anthropic's official CLI for Claude.\n\nYou are an interactive CLI tool that helps users with software engineering tasks."`
		if string(c.Messages[0].Content) != want {
			t.Errorf("system = %s", c.Messages[0].Content)
		}
		c, _, raw = toChat(t, "thinking", Options{Plain: true})
		if strings.Contains(string(raw), "thinking") || c.ReasoningEffort != "high" {
			t.Errorf("plain thinking body: %s", raw)
		}
	})
	t.Run("tools: calls, results, errors, images, shortened names", func(t *testing.T) {
		c, info, _ := toChat(t, "tools", Options{})
		if got := roles(c); got != "user assistant tool tool tool user assistant tool" {
			t.Fatalf("roles = %s", got)
		}
		if len(c.Tools) != 3 {
			t.Fatalf("want 3 tools (web_search left out), got %d", len(c.Tools))
		}
		long := "mcp__corporate-knowledge-base__search_internal_engineering_documents_by_keyword"
		short := c.Tools[1].Function.Name
		if len(short) > 64 || info.original(short) != long {
			t.Errorf("long name sent as %q (%d), maps back to %q", short, len(short), info.original(short))
		}
		if string(c.Tools[2].Function.Parameters) != `{"type":"object","properties":{}}` {
			t.Errorf("tool without schema: %s", c.Tools[2].Function.Parameters)
		}
		a := c.Messages[1]
		if string(a.Content) != `"I'll check both cities and the wiki."` || len(a.ToolCalls) != 3 ||
			a.ToolCalls[0].Function.Arguments != `{"location":"San Francisco, CA","unit":"celsius"}` ||
			a.ToolCalls[2].Function.Name != short || string(a.CacheControl) != `{"type":"ephemeral"}` {
			t.Errorf("assistant = %+v", a)
		}
		if string(c.Messages[3].Content) != `"Error: weather service timed out"` || c.Messages[3].ToolCallID != "toolu_01B19r91rx91mr928946mr0" {
			t.Errorf("error result = %s", c.Messages[3].Content)
		}
		if string(c.Messages[4].CacheControl) != `{"type":"ephemeral"}` {
			t.Errorf("tool_result cache_control = %s", c.Messages[4].CacheControl)
		}
		user := string(c.Messages[5].Content)
		if !strings.HasPrefix(user, `[{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBOR`) || !strings.HasSuffix(user, `{"type":"text","text":"Thanks, and take a screenshot please."}]`) {
			t.Errorf("user after results = %s", user)
		}
		if string(c.Messages[6].Content) != "null" || string(c.Messages[7].Content) != `""` {
			t.Errorf("tool-only assistant %s, empty result %s", c.Messages[6].Content, c.Messages[7].Content)
		}
		if string(c.ToolChoice) != `"auto"` || c.ParallelToolCalls == nil || *c.ParallelToolCalls {
			t.Errorf("tool_choice %s parallel %v", c.ToolChoice, c.ParallelToolCalls)
		}
	})
	t.Run("named tool_choice", func(t *testing.T) {
		c, _, _ := toChat(t, "tool_choice", Options{})
		if string(c.ToolChoice) != `{"type":"function","function":{"name":"record_summary"}}` || c.ParallelToolCalls != nil {
			t.Errorf("tool_choice %s parallel %v", c.ToolChoice, c.ParallelToolCalls)
		}
	})
	t.Run("images and documents", func(t *testing.T) {
		c, _, _ := toChat(t, "image", Options{})
		want := `[{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="}},` +
			`{"type":"image_url","image_url":{"url":"https://upload.wikimedia.org/wikipedia/commons/a/a7/Camponotus_flavomarginatus_ant.jpg"},"cache_control":{"type":"ephemeral"}},` +
			`{"type":"file","file":{"filename":"report.pdf","file_data":"data:application/pdf;base64,JVBERi0xLjQKJcOkw7zDtsOfCg=="}},` +
			`{"type":"text","text":"Facts\n\nThe grass is green. The sky is blue."},{"type":"text","text":"Compare these."}]`
		if got := string(c.Messages[0].Content); got != want {
			t.Errorf("content\n got %s\nwant %s", got, want)
		}
	})
	t.Run("thinking: effort, native field, blocks on the assistant turn", func(t *testing.T) {
		c, _, _ := toChat(t, "thinking", Options{})
		if c.ReasoningEffort != "high" || string(c.Thinking) != `{"type":"enabled","budget_tokens":10000}` {
			t.Errorf("effort %q thinking %s", c.ReasoningEffort, c.Thinking)
		}
		tb := c.Messages[1].ThinkingBlocks
		if len(tb) != 2 || !strings.Contains(string(tb[0]), `"signature":"EqQB`) || !strings.Contains(string(tb[1]), `"type":"redacted_thinking"`) {
			t.Errorf("thinking_blocks = %s", tb)
		}
	})
}

func TestEffort(t *testing.T) {
	for _, tc := range []struct {
		budget int
		want   string
	}{{0, "low"}, {1024, "low"}, {1025, "medium"}, {2048, "medium"}, {2049, "high"}, {32000, "high"}} {
		t.Run(tc.want, func(t *testing.T) {
			body := `{"model":"m","max_tokens":40000,"thinking":{"type":"enabled","budget_tokens":` + itoa(tc.budget) + `},"messages":[{"role":"user","content":"hi"}]}`
			chat, _, err := ToChat([]byte(body), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(chat), `"reasoning_effort":"`+tc.want+`"`) {
				t.Errorf("budget %d: %s", tc.budget, chat)
			}
		})
	}
	t.Run("disabled", func(t *testing.T) {
		chat, _, err := ToChat([]byte(`{"model":"m","max_tokens":10,"thinking":{"type":"disabled"},"messages":[{"role":"user","content":"hi"}]}`), Options{})
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(chat), "reasoning_effort") || !strings.Contains(string(chat), `"thinking":{"type":"disabled"}`) {
			t.Errorf("%s", chat)
		}
	})
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestToChatErrors(t *testing.T) {
	cases := []struct {
		name, body, want string
	}{
		{"not json", `{"model":`, "invalid JSON body"},
		{"no model", `{"max_tokens":1,"messages":[{"role":"user","content":"hi"}]}`, "model: Field required"},
		{"no messages", `{"model":"m","max_tokens":1,"messages":[]}`, "messages: at least one message"},
		{"bad role", `{"model":"m","messages":[{"role":"developer","content":"hi"}]}`, "messages.0.role"},
		{"mid-conversation system image", `{"model":"m","messages":[{"role":"user","content":"hi"},{"role":"system","content":[{"type":"image"}]}]}`, "messages.1.content.0.type"},
		{"null content", `{"model":"m","messages":[{"role":"user"}]}`, "messages.0.content: Field required"},
		{"zero max_tokens", `{"model":"m","max_tokens":0,"messages":[{"role":"user","content":"hi"}]}`, "max_tokens"},
		{"image without source", `{"model":"m","messages":[{"role":"user","content":[{"type":"image"}]}]}`, "messages.0.content.0.source: Field required"},
		{"image file source", `{"model":"m","messages":[{"role":"user","content":[{"type":"image","source":{"type":"file","file_id":"file_1"}}]}]}`, "Files API"},
		{"pdf by url", `{"model":"m","messages":[{"role":"user","content":[{"type":"document","source":{"type":"url","url":"https://x/a.pdf"}}]}]}`, "documents by URL"},
		{"unknown block", `{"model":"m","messages":[{"role":"user","content":[{"type":"hologram"}]}]}`, `"hologram"`},
		{"tool_use in user turn", `{"model":"m","messages":[{"role":"user","content":[{"type":"tool_use","id":"a","name":"b","input":{}}]}]}`, "belong in assistant turns"},
		{"tool_result without id", `{"model":"m","messages":[{"role":"user","content":[{"type":"tool_result","content":"x"}]}]}`, "tool_use_id: Field required"},
		{"tool_use input not object", `{"model":"m","messages":[{"role":"assistant","content":[{"type":"tool_use","id":"a","name":"b","input":[1]}]}]}`, "input: must be an object"},
		{"system image", `{"model":"m","system":[{"type":"image"}],"messages":[{"role":"user","content":"hi"}]}`, "system.0.type"},
		{"bad tool_choice", `{"model":"m","tools":[{"name":"a","input_schema":{"type":"object"}}],"tool_choice":{"type":"sometimes"},"messages":[{"role":"user","content":"hi"}]}`, "tool_choice.type"},
		{"tool_choice names unknown tool", `{"model":"m","tools":[{"name":"a","input_schema":{"type":"object"}}],"tool_choice":{"type":"tool","name":"b"},"messages":[{"role":"user","content":"hi"}]}`, `"b" is not one of the tools`},
		{"tool_choice any with only server tools", `{"model":"m","tools":[{"type":"web_search_20250305","name":"web_search"}],"tool_choice":{"type":"any"},"messages":[{"role":"user","content":"hi"}]}`, "needs tools"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := ToChat([]byte(tc.body), Options{})
			var pe *provider.Error
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want *provider.Error", err)
			}
			if pe.Status != http.StatusBadRequest || pe.Type != "invalid_request_error" || !strings.Contains(pe.Message, tc.want) {
				t.Errorf("got %d %s %q, want 400 invalid_request_error containing %q", pe.Status, pe.Type, pe.Message, tc.want)
			}
		})
	}
}

// TestToChatNoToolsNoChoice: OpenAI rejects tool_choice and parallel_tool_calls without tools, so
// a request whose only tools are Anthropic's own loses both rather than failing.
func TestToChatNoToolsNoChoice(t *testing.T) {
	body := `{"model":"m","max_tokens":5,"tools":[{"type":"web_search_20250305","name":"web_search"}],"tool_choice":{"type":"auto","disable_parallel_tool_use":true},"messages":[{"role":"user","content":"hi"}]}`
	chat, _, err := ToChat([]byte(body), Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"tools", "tool_choice", "parallel_tool_calls"} {
		if strings.Contains(string(chat), `"`+k+`"`) {
			t.Errorf("%s present: %s", k, chat)
		}
	}
}

// TestToChatMidConversationSystem: Claude Code's mid-conversation system message becomes a system
// message at its place (OpenAI takes them anywhere; the other providers fold them into their
// system instruction), where it was a 400; and a max_tokens above the upstream's limit is lowered.
func TestToChatMidConversationSystem(t *testing.T) {
	body := `{"model":"m","max_tokens":32000,"system":"top","messages":[{"role":"user","content":"hi"},` +
		`{"role":"system","content":[{"type":"text","text":"<system-reminder>be brief</system-reminder>"}]},{"role":"assistant","content":"ok"},` +
		`{"role":"user","content":"more"},{"role":"system","content":"last word"}]}`
	chat, info, err := ToChat([]byte(body), Options{Plain: true, MaxTokens: 16384})
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		MaxTokens int `json:"max_tokens"`
		Messages  []struct {
			Role    string `json:"role"`
			Content string `json:"content"`
		} `json:"messages"`
	}
	if err := json.Unmarshal(chat, &out); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range out.Messages {
		got = append(got, m.Role+":"+m.Content)
	}
	want := []string{"system:top", "user:hi", "system:<system-reminder>be brief</system-reminder>", "assistant:ok", "user:more", "system:last word"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("messages %q, want %q", got, want)
	}
	if out.MaxTokens != 16384 || info.Lowered != 32000 || info.MaxTokens != 16384 {
		t.Errorf("max_tokens %d, info %+v", out.MaxTokens, info)
	}
	if _, info, _ := ToChat([]byte(body), Options{MaxTokens: 64000}); info.Lowered != 0 || info.MaxTokens != 32000 {
		t.Errorf("lowered below the limit: %+v", info)
	}
}
