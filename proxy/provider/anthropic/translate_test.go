package anthropic

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
	testModel     = "claude-sonnet-4-5-20250929"
	testMaxTokens = 8192
)

// TestFromChatGolden translates testdata/requests/X.openai.json into X.anthropic.json.
func TestFromChatGolden(t *testing.T) {
	dir := filepath.Join("testdata", "requests")
	for _, name := range names(t, dir, ".openai.json") {
		t.Run(name, func(t *testing.T) {
			in := readFile(t, filepath.Join(dir, name+".openai.json"))
			mr, err := FromChat(in, testModel, testMaxTokens)
			if err != nil {
				t.Fatal(err)
			}
			body, err := marshal(mr)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join(dir, name+".anthropic.json"), indent(t, body))
		})
	}
}

// TestFromChatRules checks the rules the goldens show, one by one, so that a careless -update
// cannot bless a regression.
func TestFromChatRules(t *testing.T) {
	load := func(t *testing.T, name string) *MessagesRequest {
		t.Helper()
		mr, err := FromChat(readFile(t, filepath.Join("testdata", "requests", name+".openai.json")), testModel, testMaxTokens)
		if err != nil {
			t.Fatal(err)
		}
		return mr
	}
	t.Run("system lifted with cache_control", func(t *testing.T) {
		mr := load(t, "basic")
		if len(mr.System) != 2 || mr.System[1].CacheControl == nil || mr.System[0].CacheControl != nil {
			t.Fatalf("system = %+v", mr.System)
		}
		if mr.MaxTokens != 1024 || !slices.Equal(mr.StopSequences, []string{"END"}) || mr.Metadata.UserID != "user-123" {
			t.Errorf("max_tokens %d stop %v metadata %+v", mr.MaxTokens, mr.StopSequences, mr.Metadata)
		}
		if mr.Model != testModel {
			t.Errorf("model = %q", mr.Model)
		}
	})
	t.Run("tool results merged into one user turn, before the text", func(t *testing.T) {
		mr := load(t, "tools")
		if got := roles(mr); got != "user assistant user" {
			t.Fatalf("roles = %s", got)
		}
		last := mr.Messages[2].Content
		if got := blockTypes(last); got != "tool_result tool_result text" {
			t.Fatalf("last turn = %s", got)
		}
		if string(mr.Messages[1].Content[1].Input) != "{}" {
			t.Errorf("empty arguments gave input %s", mr.Messages[1].Content[1].Input)
		}
		if mr.ToolChoice == nil || mr.ToolChoice.Type != "auto" || !mr.ToolChoice.DisableParallelToolUse {
			t.Errorf("tool_choice = %+v", mr.ToolChoice)
		}
		if string(mr.Tools[1].InputSchema) != string(emptySchema) || mr.Tools[1].CacheControl == nil {
			t.Errorf("tool without parameters = %+v", mr.Tools[1])
		}
	})
	t.Run("thinking echoed first, effort budget, max_tokens raised, temperature dropped", func(t *testing.T) {
		mr := load(t, "thinking_tool_turn")
		if got := blockTypes(mr.Messages[1].Content); got != "thinking redacted_thinking text tool_use" {
			t.Fatalf("assistant turn = %s", got)
		}
		if string(mr.Thinking) != `{"type":"enabled","budget_tokens":4096}` {
			t.Errorf("thinking = %s", mr.Thinking)
		}
		if mr.MaxTokens != 4096+2000 {
			t.Errorf("max_tokens = %d, want budget + asked", mr.MaxTokens)
		}
		if mr.Temperature != nil || mr.TopK != nil {
			t.Errorf("temperature %v top_k %v survive thinking", mr.Temperature, mr.TopK)
		}
	})
	t.Run("thinking off when the tool turn lost its thinking", func(t *testing.T) {
		mr := load(t, "thinking_not_echoed")
		if mr.Thinking != nil {
			t.Errorf("thinking = %s", mr.Thinking)
		}
		if mr.Temperature == nil || *mr.Temperature != 0.2 {
			t.Errorf("temperature = %v, want kept", mr.Temperature)
		}
	})
	t.Run("reasoning_details become thinking blocks", func(t *testing.T) {
		mr := load(t, "reasoning_details")
		if got := blockTypes(mr.Messages[1].Content); got != "thinking redacted_thinking tool_use" {
			t.Fatalf("assistant turn = %s", got)
		}
		if mr.Thinking == nil {
			t.Error("thinking dropped although the turn carries it")
		}
	})
	t.Run("merging and ordering", func(t *testing.T) {
		mr := load(t, "merge")
		if got := roles(mr); got != "user assistant user" {
			t.Fatalf("roles = %s", got)
		}
		if got := blockTypes(mr.Messages[2].Content); got != "tool_result text" {
			t.Errorf("user turn after tool = %s", got)
		}
		if len(mr.System) != 2 || !slices.Contains(mr.Betas, betaExtendedCacheTTL) {
			t.Errorf("system %d blocks, betas %v", len(mr.System), mr.Betas)
		}
		if !slices.Equal(mr.StopSequences, []string{"\n\nHuman:", "###"}) {
			t.Errorf("stop = %q", mr.StopSequences)
		}
		if mr.ToolChoice.Type != "any" || mr.MaxTokens != testMaxTokens {
			t.Errorf("tool_choice %+v max_tokens %d", mr.ToolChoice, mr.MaxTokens)
		}
	})
	t.Run("native thinking wins and raises max_tokens", func(t *testing.T) {
		mr := load(t, "native_thinking")
		if string(mr.Thinking) != `{"type": "enabled", "budget_tokens": 10000}` {
			t.Errorf("thinking = %s", mr.Thinking)
		}
		if mr.MaxTokens <= 10000 {
			t.Errorf("max_tokens %d not above the budget", mr.MaxTokens)
		}
		if len(mr.Tools) != 1 || len(mr.Tools[0].Raw) == 0 || mr.ToolChoice.Type != "none" {
			t.Errorf("server tool not passed through: %+v %+v", mr.Tools, mr.ToolChoice)
		}
	})
}

func roles(mr *MessagesRequest) string {
	var r []string
	for _, m := range mr.Messages {
		r = append(r, m.Role)
	}
	return strings.Join(r, " ")
}

func blockTypes(bs []Block) string {
	var r []string
	for _, b := range bs {
		r = append(r, b.Type)
	}
	return strings.Join(r, " ")
}

func TestFromChatMaxTokens(t *testing.T) {
	tests := []struct {
		name string
		body string
		def  int
		want int
	}{
		{"default from the model", ``, 64000, 64000},
		{"fallback 4096", ``, 0, 4096},
		{"max_tokens", `,"max_tokens":100`, 64000, 100},
		{"max_completion_tokens wins", `,"max_tokens":100,"max_completion_tokens":200`, 64000, 200},
		{"effort fits under the default", `,"reasoning_effort":"high"`, 64000, 64000},
		{"effort above asked tokens", `,"reasoning_effort":"low","max_tokens":500`, 64000, 1524},
		{"raise capped by the model limit", `,"reasoning_effort":"high","max_tokens":4000`, 6000, 6000},
		{"effort none", `,"reasoning_effort":"none","max_tokens":500`, 64000, 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := `{"messages":[{"role":"user","content":"hi"}]` + tt.body + `}`
			mr, err := FromChat([]byte(body), testModel, tt.def)
			if err != nil {
				t.Fatal(err)
			}
			if mr.MaxTokens != tt.want {
				t.Errorf("max_tokens = %d, want %d", mr.MaxTokens, tt.want)
			}
			var th Thinking
			if mr.Thinking != nil {
				_ = json.Unmarshal(mr.Thinking, &th)
				if th.BudgetTokens >= mr.MaxTokens {
					t.Errorf("budget %d not below max_tokens %d", th.BudgetTokens, mr.MaxTokens)
				}
			}
		})
	}
}

func TestFromChatToolChoice(t *testing.T) {
	tests := []struct {
		choice   string
		parallel string
		want     string
	}{
		{`"auto"`, ``, `{"type":"auto"}`},
		{`"required"`, ``, `{"type":"any"}`},
		{`"none"`, ``, `{"type":"none"}`},
		{`"none"`, `false`, `{"type":"none"}`},
		{`{"type":"function","function":{"name":"f"}}`, ``, `{"type":"tool","name":"f"}`},
		{`{"type":"function","function":{"name":"f"}}`, `false`, `{"type":"tool","name":"f","disable_parallel_tool_use":true}`},
		{``, `false`, `{"type":"auto","disable_parallel_tool_use":true}`},
		{``, `true`, `null`},
		{`null`, ``, `null`},
	}
	for _, tt := range tests {
		t.Run(tt.choice+" "+tt.parallel, func(t *testing.T) {
			body := `{"messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"f"}}]`
			if tt.choice != "" {
				body += `,"tool_choice":` + tt.choice
			}
			if tt.parallel != "" {
				body += `,"parallel_tool_calls":` + tt.parallel
			}
			mr, err := FromChat([]byte(body+"}"), testModel, 0)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := json.Marshal(mr.ToolChoice)
			if string(got) != tt.want {
				t.Errorf("tool_choice = %s, want %s", got, tt.want)
			}
		})
	}
	t.Run("no tools, no tool_choice", func(t *testing.T) {
		mr, err := FromChat([]byte(`{"messages":[{"role":"user","content":"hi"}],"tool_choice":"auto","parallel_tool_calls":false}`), testModel, 0)
		if err != nil {
			t.Fatal(err)
		}
		if mr.ToolChoice != nil {
			t.Errorf("tool_choice = %+v", mr.ToolChoice)
		}
	})
}

func TestFromChatErrors(t *testing.T) {
	user := `{"role":"user","content":"hi"}`
	tests := []struct {
		name string
		body string
		want string // in the message
	}{
		{"not JSON", `{"messages":`, "invalid chat completion request"},
		{"no messages", `{"messages":[]}`, "must not be empty"},
		{"only system", `{"messages":[{"role":"system","content":"x"}]}`, "besides system"},
		{"unknown role", `{"messages":[{"role":"robot","content":"x"}]}`, `unknown role "robot"`},
		{"function role", `{"messages":[{"role":"function","content":"x"}]}`, "not supported"},
		{"user without content", `{"messages":[{"role":"user","content":null}]}`, "needs content"},
		{"content is a number", `{"messages":[{"role":"user","content":5}]}`, "string or an array"},
		{"part without type", `{"messages":[{"role":"user","content":[{"text":"x"}]}]}`, "no type"},
		{"audio part", `{"messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{}}]}]}`, `"input_audio" is not supported`},
		{"image in system", `{"messages":[{"role":"system","content":[{"type":"image_url","image_url":{"url":"https://x/y.png"}}]},` + user + `]}`, "only text"},
		{"data URL not base64", `{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png,abc"}}]}]}`, "base64"},
		{"data URL bad base64", `{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,@@@"}}]}]}`, "invalid base64"},
		{"data URL not an image", `{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:text/plain;base64,aGk="}}]}]}`, "not an image"},
		{"ftp image", `{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"ftp://x/y.png"}}]}]}`, "http(s)"},
		{"file id", `{"messages":[{"role":"user","content":[{"type":"file","file":{"file_id":"file-1"}}]}]}`, "file_data"},
		{"bad arguments", `{"messages":[` + user + `,{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{\"a\":"}}]}]}`, "messages[1].tool_calls[0].function.arguments: not valid JSON"},
		{"array arguments", `{"messages":[` + user + `,{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"[1]"}}]}]}`, "must be a JSON object"},
		{"tool call without id", `{"messages":[` + user + `,{"role":"assistant","tool_calls":[{"type":"function","function":{"name":"f","arguments":"{}"}}]}]}`, "needs an id"},
		{"tool without tool_call_id", `{"messages":[` + user + `,{"role":"tool","content":"x"}]}`, "tool_call_id"},
		{"thinking part in user turn", `{"messages":[{"role":"user","content":[{"type":"thinking","thinking":"x","signature":"s"}]}]}`, "belong in assistant"},
		{"tool without name", `{"messages":[` + user + `],"tools":[{"type":"function","function":{}}]}`, "function.name"},
		{"bad tool_choice", `{"messages":[` + user + `],"tool_choice":"sometimes"}`, "tool_choice"},
		{"bad stop", `{"messages":[` + user + `],"stop":5}`, "stop must be"},
		{"bad effort", `{"messages":[` + user + `],"reasoning_effort":"extreme"}`, "reasoning_effort"},
		{"zero max_tokens", `{"messages":[` + user + `],"max_tokens":0}`, "at least 1"},
		{"n=2", `{"messages":[` + user + `],"n":2}`, "n=2"},
		{"bad cache_control", `{"messages":[{"role":"user","content":[{"type":"text","text":"x","cache_control":"yes"}]}]}`, "cache_control"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := FromChat([]byte(tt.body), testModel, 0)
			var pe *provider.Error
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want *provider.Error", err)
			}
			if pe.Status != http.StatusBadRequest || pe.Type != "invalid_request_error" || pe.Retryable() {
				t.Errorf("status %d type %q retryable %v", pe.Status, pe.Type, pe.Retryable())
			}
			if !strings.Contains(pe.Message, tt.want) {
				t.Errorf("message %q does not contain %q", pe.Message, tt.want)
			}
		})
	}
}

func TestFromChatArgumentsObject(t *testing.T) {
	// Some clients send arguments as an object instead of a JSON string; both mean the same.
	for _, args := range []string{`"{\"a\": 1}"`, `{"a": 1}`} {
		body := `{"messages":[{"role":"user","content":"hi"},{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":` + args + `}}]}]}`
		mr, err := FromChat([]byte(body), testModel, 0)
		if err != nil {
			t.Fatal(err)
		}
		if got := string(mr.Messages[1].Content[0].Input); got != `{"a":1}` {
			t.Errorf("arguments %s gave input %s", args, got)
		}
	}
}
