package app

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clawgate/clawgate/internal/fakeupstream"
)

// openclawPrompt builds the first turn's fixed part as OpenClaw sends it on openai-completions:
// a system prompt of about 14k tokens (56 KB) and 12 function tools (about 17 KB together).
func openclawPrompt() (system string, tools []any) {
	var b strings.Builder
	for i := 0; b.Len() < 56000; i++ {
		fmt.Fprintf(&b, "Rule %d: when the user asks about files in the workspace, read them with the read tool before answering, and say which file you read. ", i)
	}
	for i := range 12 {
		tools = append(tools, map[string]any{"type": "function", "function": map[string]any{
			"name":        fmt.Sprintf("tool_%02d", i),
			"description": strings.Repeat(fmt.Sprintf("Tool %d does one workspace operation and returns its output as text. ", i), 16),
			"parameters": map[string]any{"type": "object", "required": []string{"path"}, "properties": map[string]any{
				"path": map[string]any{"type": "string", "description": "A path inside the workspace."}}},
		}})
	}
	return b.String(), tools
}

// sessionTurn is what one streamed answer gave back.
type sessionTurn struct {
	assistant map[string]any // the message to append to the history
	toolCall  string         // the tool call's id, "" for a text answer
	usage     map[string]any
}

// streamTurn posts one OpenClaw-shaped streamed request and rebuilds the assistant message.
func streamTurn(t *testing.T, url, key, model, system string, tools, history []any) sessionTurn {
	t.Helper()
	msgs := append([]any{map[string]any{"role": "system", "content": system}}, history...)
	body, _ := json.Marshal(map[string]any{"model": model, "messages": msgs, "stream": true,
		"stream_options": map[string]any{"include_usage": true}, "tools": tools, "tool_choice": "auto", "max_completion_tokens": 8192})
	req, _ := http.NewRequest("POST", url+"/v1/chat/completions", strings.NewReader(string(body)))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		var e map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&e)
		t.Fatalf("%s: status %d: %v", model, resp.StatusCode, e)
	}
	var out sessionTurn
	var text, id, name, args strings.Builder
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok || data == "[DONE]" {
			continue
		}
		var c struct {
			Choices []struct {
				Delta struct {
					Content   string `json:"content"`
					ToolCalls []struct {
						ID       string `json:"id"`
						Function struct{ Name, Arguments string }
					} `json:"tool_calls"`
				} `json:"delta"`
			} `json:"choices"`
			Usage map[string]any `json:"usage"`
		}
		if err := json.Unmarshal([]byte(data), &c); err != nil {
			t.Fatalf("bad chunk %s: %v", data, err)
		}
		if c.Usage != nil {
			out.usage = c.Usage
		}
		for _, ch := range c.Choices {
			text.WriteString(ch.Delta.Content)
			for _, tc := range ch.Delta.ToolCalls {
				id.WriteString(tc.ID)
				name.WriteString(tc.Function.Name)
				args.WriteString(tc.Function.Arguments)
			}
		}
	}
	out.assistant = map[string]any{"role": "assistant", "content": text.String()}
	if id.Len() > 0 {
		out.toolCall = id.String()
		out.assistant = map[string]any{"role": "assistant", "content": nil, "tool_calls": []any{map[string]any{
			"id": out.toolCall, "type": "function", "function": map[string]any{"name": name.String(), "arguments": args.String()}}}}
	}
	return out
}

// spendRow is the part of a /spend/logs row this test reads.
type spendRow struct {
	Model            string  `json:"model"`
	ModelGroup       string  `json:"model_group"`
	Spend            float64 `json:"spend"`
	PromptTokens     int     `json:"prompt_tokens"`
	CompletionTokens int     `json:"completion_tokens"`
	Metadata         struct {
		Usage struct {
			CacheRead  int `json:"cache_read_input_tokens"`
			CacheWrite int `json:"cache_creation_input_tokens"`
		} `json:"usage_object"`
	} `json:"metadata"`
}

// TestPromptCachingSession replays a 10-turn OpenClaw session (a question, a tool call, its
// result, an answer; five times) through the real gateway to fake Anthropic and Bedrock
// upstreams that bill input as the prompt cache does, on a route with the default caching and
// on one with prompt_caching: false, and compares what the input cost.
func TestPromptCachingSession(t *testing.T) {
	t.Setenv("LITELLM_MASTER_KEY", "sk-master")
	caches := map[string]*fakeupstream.PromptCache{}
	upstream := func(group string) string {
		n := fakeupstream.NewNative(nil)
		n.Key, n.Cache = "sk-ant", fakeupstream.NewPromptCache()
		caches[group] = n.Cache
		s := httptest.NewServer(n)
		t.Cleanup(s.Close)
		return s.URL
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	yaml := `model_list:
  - model_name: claude
    litellm_params: {model: anthropic/claude-sonnet-4-5, api_base: "` + upstream("claude") + `", api_key: sk-ant}
  - model_name: claude-uncached
    litellm_params: {model: anthropic/claude-sonnet-4-5, api_base: "` + upstream("claude-uncached") + `", api_key: sk-ant, prompt_caching: false}
  - model_name: claude-bedrock
    litellm_params: {model: bedrock/anthropic.claude-sonnet-4-5-20250929-v1:0, api_base: "` + upstream("claude-bedrock") + `", api_key: br-key, aws_region_name: us-east-1}
`
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	a := startApp(t, Options{ConfigPath: cfg, DataDir: dir})
	system, tools := openclawPrompt()

	const turns = 10
	for _, group := range []string{"claude", "claude-uncached", "claude-bedrock"} {
		var history []any
		question := 0
		for i := range turns {
			if i%2 == 0 {
				question++
				history = append(history, map[string]any{"role": "user", "content": []any{
					map[string]any{"type": "text", "text": fmt.Sprintf("Question %d: what is in notes-%d.txt?", question, question)}}})
			}
			got := streamTurn(t, a.Status().BaseURL(), "sk-master", group, system, tools, history)
			history = append(history, got.assistant)
			if got.toolCall != "" {
				history = append(history, map[string]any{"role": "tool", "tool_call_id": got.toolCall, "content": fmt.Sprintf("notes %d: buy milk", question)})
			}
			// The client gets the cache reads in OpenAI's usage, as LiteLLM reports them.
			details, _ := got.usage["prompt_tokens_details"].(map[string]any)
			if cached, _ := details["cached_tokens"].(float64); group != "claude-uncached" && i > 0 && cached == 0 {
				t.Errorf("%s turn %d: no prompt_tokens_details.cached_tokens in the client's usage: %v", group, i+1, got.usage)
			}
		}
	}

	// The upstreams saw the breakpoints: 3 on the first turn (system, last turn, last tool), 4
	// after (and the end of the previous call), none where caching is off.
	for group, want := range map[string][]int{
		"claude":          {3, 4, 4, 4, 4, 4, 4, 4, 4, 4},
		"claude-bedrock":  {3, 4, 4, 4, 4, 4, 4, 4, 4, 4},
		"claude-uncached": make([]int, turns),
	} {
		if got := caches[group].Breakpoints(); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: breakpoints per request %v, want %v", group, got, want)
		}
	}

	if _, err := a.Activity(context.Background(), 1); err != nil { // flushes the spend writer
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", a.Status().BaseURL()+"/spend/logs", nil)
	req.Header.Set("Authorization", "Bearer sk-master")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var rows []spendRow
	if err := json.NewDecoder(resp.Body).Decode(&rows); err != nil {
		t.Fatal(err)
	}
	// Claude Sonnet 4.5 per token: input, cache read, cache write (5 minutes), output.
	const in, read, write, out = 3e-6, 3e-7, 3.75e-6, 1.5e-5
	type total struct {
		input    float64
		reads    int
		rows     int
		rowsRead int
	}
	totals := map[string]*total{}
	for _, r := range rows {
		tt := totals[r.ModelGroup]
		if tt == nil {
			tt = &total{}
			totals[r.ModelGroup] = tt
		}
		u := r.Metadata.Usage
		uncached := r.PromptTokens - u.CacheRead - u.CacheWrite
		if uncached < 0 {
			t.Fatalf("%s: cache counts outside prompt_tokens: %+v", r.ModelGroup, r)
		}
		inputCost := float64(uncached)*in + float64(u.CacheRead)*read + float64(u.CacheWrite)*write
		if want := inputCost + float64(r.CompletionTokens)*out; math.Abs(r.Spend-want) > 1e-9 {
			t.Errorf("%s: spend %v, want %v for %+v", r.ModelGroup, r.Spend, want, r)
		}
		tt.input += inputCost
		tt.reads += u.CacheRead
		tt.rows++
		if u.CacheRead > 0 {
			tt.rowsRead++
		}
	}
	cached, plain, bedrock := totals["claude"], totals["claude-uncached"], totals["claude-bedrock"]
	if cached == nil || plain == nil || bedrock == nil {
		t.Fatalf("spend rows per group: %+v", totals)
	}
	for name, tt := range map[string]*total{"claude": cached, "claude-bedrock": bedrock} {
		if tt.rows != turns || tt.rowsRead != turns-1 {
			t.Errorf("%s: %d rows, %d with cache reads; want %d and %d", name, tt.rows, tt.rowsRead, turns, turns-1)
		}
	}
	if plain.rows != turns || plain.reads != 0 {
		t.Errorf("uncached route: %d rows, %d cache reads", plain.rows, plain.reads)
	}
	// Caching must pay: the session's input at least three times cheaper.
	if cached.input*3 > plain.input {
		t.Errorf("input cost with caching $%.4f, without $%.4f: less than 3x saved", cached.input, plain.input)
	}
	t.Logf("10-turn OpenClaw session on claude-sonnet-4-5, input cost: $%.4f without caching, $%.4f with (Anthropic), $%.4f with (Bedrock): %.1fx less",
		plain.input, cached.input, bedrock.input, plain.input/cached.input)
}
