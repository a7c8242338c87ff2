package gemini

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

const testModel = "gemini-2.5-flash"

// modelOf reads the "model" of an OpenAI request: the golden requests name the model whose rules
// they exercise.
func modelOf(t *testing.T, body []byte) string {
	t.Helper()
	var m struct {
		Model string `json:"model"`
	}
	if err := json.Unmarshal(body, &m); err != nil || m.Model == "" {
		t.Fatalf("request names no model: %v", err)
	}
	return m.Model
}

// TestFromChatGolden translates testdata/requests/X.openai.json into X.gemini.json.
func TestFromChatGolden(t *testing.T) {
	dir := filepath.Join("testdata", "requests")
	for _, name := range names(t, dir, ".openai.json") {
		t.Run(name, func(t *testing.T) {
			in := readFile(t, filepath.Join(dir, name+".openai.json"))
			gr, err := FromChat(in, modelOf(t, in))
			if err != nil {
				t.Fatal(err)
			}
			body, err := marshal(gr)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join(dir, name+".gemini.json"), indent(t, body))
		})
	}
}

func load(t *testing.T, name string) *GenerateContentRequest {
	t.Helper()
	in := readFile(t, filepath.Join("testdata", "requests", name+".openai.json"))
	gr, err := FromChat(in, modelOf(t, in))
	if err != nil {
		t.Fatal(err)
	}
	return gr
}

func roles(gr *GenerateContentRequest) string {
	var r []string
	for _, c := range gr.Contents {
		r = append(r, c.Role)
	}
	return strings.Join(r, " ")
}

// kinds names each part of a turn: text, thought, inline:<mime>, file:<mime>, call:<name>,
// response:<name>.
func kinds(parts []Part) string {
	var r []string
	for _, p := range parts {
		switch {
		case p.FunctionCall != nil:
			r = append(r, "call:"+p.FunctionCall.Name)
		case p.FunctionResponse != nil:
			r = append(r, "response:"+p.FunctionResponse.Name)
		case p.InlineData != nil:
			r = append(r, "inline:"+p.InlineData.MimeType)
		case p.FileData != nil:
			r = append(r, "file:"+p.FileData.MimeType)
		case p.Thought:
			r = append(r, "thought")
		default:
			r = append(r, "text")
		}
	}
	return strings.Join(r, " ")
}

// TestFromChatRules checks the rules the goldens show, one by one, so that a careless -update
// cannot bless a regression.
func TestFromChatRules(t *testing.T) {
	t.Run("system lifted, roles mapped, same roles merged, generation config", func(t *testing.T) {
		gr := load(t, "basic")
		if gr.SystemInstruction == nil || kinds(gr.SystemInstruction.Parts) != "text text" || gr.SystemInstruction.Role != "" {
			t.Fatalf("systemInstruction = %+v", gr.SystemInstruction)
		}
		if got := roles(gr); got != "user model user" {
			t.Fatalf("roles = %s", got)
		}
		if got := kinds(gr.Contents[2].Parts); got != "text text" {
			t.Errorf("merged user turn = %s (empty text must be dropped)", got)
		}
		g := gr.GenerationConfig
		if g == nil || *g.MaxOutputTokens != 800 || *g.Temperature != 0.7 || *g.TopP != 0.95 || *g.Seed != 42 ||
			!slices.Equal(g.StopSequences, []string{"Title", "\n\n\n"}) || g.CandidateCount != nil || g.ThinkingConfig != nil {
			t.Errorf("generationConfig = %+v", g)
		}
	})
	t.Run("tool calls, results by name, JSON results kept as objects", func(t *testing.T) {
		gr := load(t, "tools")
		if got := roles(gr); got != "user model user model user" {
			t.Fatalf("roles = %s", got)
		}
		if got := kinds(gr.Contents[1].Parts); got != "call:get_current_weather call:get_current_weather" {
			t.Errorf("model turn = %s", got)
		}
		if got := string(gr.Contents[1].Parts[0].FunctionCall.Args); got != `{"location":"Boston, MA","unit":"fahrenheit"}` {
			t.Errorf("args = %s", got)
		}
		if got := kinds(gr.Contents[2].Parts); got != "response:get_current_weather response:get_current_weather text" {
			t.Errorf("user turn after the tools = %s", got)
		}
		if got := string(gr.Contents[2].Parts[0].FunctionResponse.Response); got != `{"temperature":72,"description":"sunny"}` {
			t.Errorf("JSON result = %s", got)
		}
		if got := string(gr.Contents[2].Parts[1].FunctionResponse.Response); got != `{"content":"18 degrees, light rain"}` {
			t.Errorf("text result = %s", got)
		}
		if got := kinds(gr.Contents[3].Parts); got != "text call:book_table" || string(gr.Contents[3].Parts[1].FunctionCall.Args) != "{}" {
			t.Errorf("second model turn = %s %s", got, gr.Contents[3].Parts[1].FunctionCall.Args)
		}
		for _, c := range gr.Contents {
			for _, p := range c.Parts {
				if p.ThoughtSignature != "" {
					t.Errorf("a Gemini 2.5 request got a signature nobody sent: %+v", p)
				}
			}
		}
		if len(gr.Tools) != 2 || len(gr.Tools[0].FunctionDeclarations) != 3 || string(gr.Tools[1].Raw) != `{"googleSearch": {}}` {
			t.Fatalf("tools = %+v", gr.Tools)
		}
		if d := gr.Tools[0].FunctionDeclarations[2]; d.Name != "get_time" || d.Parameters != nil {
			t.Errorf("function without parameters = %+v", d)
		}
		weather := string(gr.Tools[0].FunctionDeclarations[0].Parameters)
		for _, gone := range []string{"$schema", "additionalProperties", "strict", "default"} {
			if strings.Contains(weather, gone) {
				t.Errorf("%s survives in %s", gone, weather)
			}
		}
		book := string(gr.Tools[0].FunctionDeclarations[1].Parameters)
		for _, want := range []string{`"guests":{"type":"array","items":{"type":"object","description":"Guest"`, `"vip":{"type":"boolean","nullable":true}`,
			`"required":["name"]`, `"format":"date-time"`, `"seating":{"type":"string","enum":["indoor","outdoor"],"description":"Where to sit","nullable":true}`,
			`"tags":{"type":"array","items":{"type":"string"}}`, `"extras":{"type":"object"}`} {
			if !strings.Contains(book, want) {
				t.Errorf("book_table parameters lack %s:\n%s", want, book)
			}
		}
		if strings.Contains(book, "$ref") || strings.Contains(book, "$defs") || strings.Contains(book, `"email"`) && strings.Contains(book, `"format":"email"`) {
			t.Errorf("book_table parameters keep JSON Schema only keys:\n%s", book)
		}
		tc := gr.ToolConfig
		if tc == nil || tc.FunctionCallingConfig.Mode != "ANY" || !slices.Equal(tc.FunctionCallingConfig.AllowedFunctionNames, []string{"book_table"}) {
			t.Errorf("toolConfig = %+v", tc)
		}
	})
	t.Run("images, files and audio", func(t *testing.T) {
		gr := load(t, "images")
		want := "text inline:image/png file:image/jpeg file: file:image/jpeg inline:application/pdf file:video/mp4 inline:audio/wav"
		if got := kinds(gr.Contents[0].Parts); got != want {
			t.Errorf("parts = %s\nwant   %s", got, want)
		}
		if got := gr.Contents[0].Parts[2].FileData.FileURI; got != "https://storage.example.com/photos/cat.JPG?size=large" {
			t.Errorf("fileUri = %s", got)
		}
	})
	t.Run("Gemini 3: signatures restored from id or provider_specific_fields, skip for foreign calls", func(t *testing.T) {
		gr := load(t, "thinking_gemini3")
		if got := roles(gr); got != "user model user model user model user" {
			t.Fatalf("roles = %s", got)
		}
		sigs := []struct {
			turn, part int
			want       string
		}{
			{1, 0, "CiQB0e2Kb3JqSmF1xYXRF1cGzV3aWdlZ2hlcg=="},
			{3, 0, "CiUB0e2Kb5TaxiSignatureFromPSF0123456789Ab"},
			{3, 1, ""}, // the second call of a parallel batch is never signed
			{5, 0, skipSignature},
		}
		for _, s := range sigs {
			if got := gr.Contents[s.turn].Parts[s.part].ThoughtSignature; got != s.want {
				t.Errorf("contents[%d].parts[%d].thoughtSignature = %q, want %q", s.turn, s.part, got, s.want)
			}
		}
		if got := kinds(gr.Contents[2].Parts); got != "response:check_flight" {
			t.Errorf("result found by the id with its signature: %s", got)
		}
		if got := kinds(gr.Contents[6].Parts); got != "response:notify" {
			t.Errorf("last turn = %s", got)
		}
		if got := string(gr.Contents[5].Parts[0].FunctionCall.Args); got != `{"message":"Taxi booked"}` {
			t.Errorf("object arguments = %s", got)
		}
		th := gr.GenerationConfig.ThinkingConfig
		if th == nil || th.ThinkingLevel != "high" || !th.IncludeThoughts || th.ThinkingBudget != nil {
			t.Errorf("thinkingConfig = %+v", th)
		}
		if tc := gr.ToolConfig; tc == nil || tc.FunctionCallingConfig.Mode != "AUTO" {
			t.Errorf("toolConfig = %+v", tc)
		}
	})
	t.Run("Gemini 2.5 budget", func(t *testing.T) {
		gr := load(t, "thinking_budget")
		th := gr.GenerationConfig.ThinkingConfig
		if th == nil || *th.ThinkingBudget != 1024 || !th.IncludeThoughts || *gr.GenerationConfig.MaxOutputTokens != 4096 {
			t.Errorf("generationConfig = %+v thinking %+v", gr.GenerationConfig, th)
		}
	})
	t.Run("json_schema response format", func(t *testing.T) {
		gr := load(t, "response_format")
		g := gr.GenerationConfig
		want := `{"type":"object","properties":{"recipes":{"type":"array","items":{"type":"object","properties":{"recipeName":{"type":"string"},"ingredients":{"type":"array","items":{"type":"string"}},"rating":{"type":"integer","description":"Allowed values: 1, 2, 3, 4, 5."}},"required":["recipeName","ingredients"],"propertyOrdering":["recipeName","ingredients","rating"]}}},"required":["recipes"]}`
		if g.ResponseMimeType != "application/json" || string(g.ResponseSchema) != want {
			t.Errorf("mime %q schema\n got %s\nwant %s", g.ResponseMimeType, g.ResponseSchema, want)
		}
	})
}

func TestFromChatResponsesFirst(t *testing.T) {
	// A client that says something before it sends the tool's result: Gemini wants the
	// functionResponse right after the call, so it goes ahead of the text in the merged turn.
	body := `{"messages":[{"role":"user","content":"weather?"},
		{"role":"assistant","tool_calls":[{"id":"c1","type":"function","function":{"name":"w","arguments":"{}"}}]},
		{"role":"user","content":"hurry up"},
		{"role":"tool","tool_call_id":"c1","content":"sunny"}]}`
	gr, err := FromChat([]byte(body), testModel)
	if err != nil {
		t.Fatal(err)
	}
	if got := roles(gr); got != "user model user" {
		t.Fatalf("roles = %s", got)
	}
	if got := kinds(gr.Contents[2].Parts); got != "response:w text" {
		t.Errorf("user turn = %s", got)
	}
}

func TestThinkingConfig(t *testing.T) {
	tests := []struct {
		model, effort string
		want          string // the thinkingConfig JSON, "" for none
	}{
		{"gemini-2.5-flash", "low", `{"includeThoughts":true,"thinkingBudget":1024}`},
		{"gemini-2.5-flash", "medium", `{"includeThoughts":true,"thinkingBudget":2048}`},
		{"gemini-2.5-flash", "high", `{"includeThoughts":true,"thinkingBudget":4096}`},
		{"gemini-2.5-flash", "none", `{"thinkingBudget":0}`},
		{"gemini-2.5-flash", "minimal", `{"thinkingBudget":0}`},
		{"gemini-2.5-flash-lite", "none", `{"thinkingBudget":0}`},
		{"gemini-2.5-pro", "none", `{"thinkingBudget":128}`},
		{"gemini-2.5-pro", "minimal", `{"includeThoughts":true,"thinkingBudget":128}`},
		{"models/gemini-2.5-pro", "high", `{"includeThoughts":true,"thinkingBudget":4096}`},
		{"gemini-flash-latest", "low", `{"includeThoughts":true,"thinkingBudget":1024}`},
		{"gemini-3-pro-preview", "low", `{"includeThoughts":true,"thinkingLevel":"low"}`},
		{"gemini-3-pro-preview", "medium", `{"includeThoughts":true,"thinkingLevel":"high"}`},
		{"gemini-3-pro-preview", "none", `{"thinkingLevel":"low"}`},
		{"gemini-3-flash-preview", "minimal", `{"includeThoughts":true,"thinkingLevel":"minimal"}`},
		{"gemini-3-flash-preview", "medium", `{"includeThoughts":true,"thinkingLevel":"medium"}`},
		{"gemini-3-flash-preview", "none", `{"thinkingLevel":"minimal"}`},
		{"gemini-3.1-pro-preview", "xhigh", `{"includeThoughts":true,"thinkingLevel":"high"}`},
		{"gemini-2.0-flash", "high", ``},
		{"gemini-1.5-pro", "low", ``},
		{"gemma-3-27b-it", "low", ``},
		{"gemini-2.5-flash", "", ``},
	}
	for _, tt := range tests {
		t.Run(tt.model+" "+tt.effort, func(t *testing.T) {
			body := `{"messages":[{"role":"user","content":"hi"}]`
			if tt.effort != "" {
				body += `,"reasoning_effort":"` + tt.effort + `"`
			}
			gr, err := FromChat([]byte(body+`}`), tt.model)
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			if gr.GenerationConfig != nil && gr.GenerationConfig.ThinkingConfig != nil {
				b, _ := json.Marshal(gr.GenerationConfig.ThinkingConfig)
				got = string(b)
			}
			if got != tt.want {
				t.Errorf("thinkingConfig = %s, want %s", got, tt.want)
			}
		})
	}
	t.Run("native thinking parameter", func(t *testing.T) {
		for body, want := range map[string]string{
			`{"type":"enabled","budget_tokens":5000}`: `{"includeThoughts":true,"thinkingBudget":5000}`,
			`{"type":"disabled"}`:                     `{"thinkingBudget":0}`,
		} {
			gr, err := FromChat([]byte(`{"messages":[{"role":"user","content":"hi"}],"reasoning_effort":"high","thinking":`+body+`}`), testModel)
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := json.Marshal(gr.GenerationConfig.ThinkingConfig); string(got) != want {
				t.Errorf("thinking %s gave %s, want %s", body, got, want)
			}
		}
	})
}

func TestFromChatToolChoice(t *testing.T) {
	tests := []struct {
		choice string
		want   string
	}{
		{`"auto"`, `{"functionCallingConfig":{"mode":"AUTO"}}`},
		{`"required"`, `{"functionCallingConfig":{"mode":"ANY"}}`},
		{`"none"`, `{"functionCallingConfig":{"mode":"NONE"}}`},
		{`{"type":"function","function":{"name":"f"}}`, `{"functionCallingConfig":{"mode":"ANY","allowedFunctionNames":["f"]}}`},
		{`null`, `null`},
		{``, `null`},
	}
	for _, tt := range tests {
		t.Run(tt.choice, func(t *testing.T) {
			body := `{"messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object","properties":{"a":{"type":"string"}}}}}]`
			if tt.choice != "" {
				body += `,"tool_choice":` + tt.choice
			}
			gr, err := FromChat([]byte(body+"}"), testModel)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := json.Marshal(gr.ToolConfig)
			if string(got) != tt.want {
				t.Errorf("toolConfig = %s, want %s", got, tt.want)
			}
		})
	}
	t.Run("no tools, no toolConfig", func(t *testing.T) {
		gr, err := FromChat([]byte(`{"messages":[{"role":"user","content":"hi"}],"tool_choice":"required"}`), testModel)
		if err != nil {
			t.Fatal(err)
		}
		if gr.ToolConfig != nil || gr.Tools != nil {
			t.Errorf("toolConfig = %+v tools %+v", gr.ToolConfig, gr.Tools)
		}
	})
}

func TestFromChatEmptyRequest(t *testing.T) {
	// The smallest request gives the smallest body: no generationConfig, no tools.
	gr, err := FromChat([]byte(`{"model":"x","messages":[{"role":"user","content":"hi"}]}`), testModel)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := marshal(gr)
	if want := `{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}`; string(body) != want {
		t.Errorf("body = %s, want %s", body, want)
	}
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
		{"unknown part", `{"messages":[{"role":"user","content":[{"type":"video_url","video_url":{}}]}]}`, `"video_url" is not supported`},
		{"image in system", `{"messages":[{"role":"system","content":[{"type":"image_url","image_url":{"url":"https://x/y.png"}}]},` + user + `]}`, "only text"},
		{"data URL not base64", `{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png,abc"}}]}]}`, "base64"},
		{"data URL bad base64", `{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,@@@"}}]}]}`, "invalid base64"},
		{"ftp image", `{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"ftp://x/y.png"}}]}]}`, "data: URL, an http(s) URL"},
		{"OpenAI file id", `{"messages":[{"role":"user","content":[{"type":"file","file":{"file_id":"file-abc"}}]}]}`, "not a URI Gemini can read"},
		{"empty file", `{"messages":[{"role":"user","content":[{"type":"file","file":{}}]}]}`, "file_data or file.file_id"},
		{"audio bad base64", `{"messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{"data":"@@","format":"wav"}}]}]}`, "not valid base64"},
		{"thinking part in user turn", `{"messages":[{"role":"user","content":[{"type":"thinking","thinking":"x","signature":"s"}]}]}`, "belong in assistant"},
		{"bad arguments", `{"messages":[` + user + `,{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{\"a\":"}}]}]}`, "messages[1].tool_calls[0].function.arguments: not valid JSON"},
		{"array arguments", `{"messages":[` + user + `,{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"[1]"}}]}]}`, "must be a JSON object"},
		{"tool call without id", `{"messages":[` + user + `,{"role":"assistant","tool_calls":[{"type":"function","function":{"name":"f","arguments":"{}"}}]}]}`, "needs an id"},
		{"tool without tool_call_id", `{"messages":[` + user + `,{"role":"tool","content":"x"}]}`, "tool_call_id"},
		{"tool result for an unknown call", `{"messages":[` + user + `,{"role":"tool","tool_call_id":"call_x","content":"x"}]}`, `"call_x" matches no earlier`},
		{"tool without name", `{"messages":[` + user + `],"tools":[{"type":"function","function":{}}]}`, "function.name"},
		{"server tool of another vendor", `{"messages":[` + user + `],"tools":[{"type":"web_search_preview"}]}`, `"web_search_preview" is not supported`},
		{"bad schema", `{"messages":[` + user + `],"tools":[{"type":"function","function":{"name":"f","parameters":{"$ref":"#/nope"}}}]}`, "tools[0].function.parameters: $ref"},
		{"bad tool_choice", `{"messages":[` + user + `],"tool_choice":"sometimes"}`, "tool_choice"},
		{"tool_choice names a missing function", `{"messages":[` + user + `],"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":{"type":"function","function":{"name":"g"}}}`, `"g", which is not among`},
		{"bad stop", `{"messages":[` + user + `],"stop":5}`, "stop must be"},
		{"bad effort", `{"messages":[` + user + `],"reasoning_effort":"extreme"}`, "reasoning_effort"},
		{"bad thinking", `{"messages":[` + user + `],"thinking":{"type":"sometimes"}}`, "thinking.type"},
		{"zero max_tokens", `{"messages":[` + user + `],"max_tokens":0}`, "at least 1"},
		{"n=2", `{"messages":[` + user + `],"n":2}`, "n=2"},
		{"bad response_format", `{"messages":[` + user + `],"response_format":{"type":"yaml"}}`, `"yaml" is not supported`},
		{"bad response schema", `{"messages":[` + user + `],"response_format":{"type":"json_schema","json_schema":{"name":"x","schema":{"type":7}}}}`, "json_schema.schema"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := FromChat([]byte(tt.body), testModel)
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

func TestFromChatArguments(t *testing.T) {
	// Arguments as a JSON string, as the object itself, empty, or null: all give an args object.
	for args, want := range map[string]string{
		`"{\"a\": 1}"`: `{"a":1}`,
		`{"a": 1}`:     `{"a":1}`,
		`""`:           `{}`,
		`null`:         `{}`,
	} {
		body := `{"messages":[{"role":"user","content":"hi"},{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":` + args + `}}]}]}`
		gr, err := FromChat([]byte(body), testModel)
		if err != nil {
			t.Fatal(err)
		}
		if got := string(gr.Contents[1].Parts[0].FunctionCall.Args); got != want {
			t.Errorf("arguments %s gave args %s, want %s", args, got, want)
		}
	}
}

func TestFromChatPassThrough(t *testing.T) {
	body := `{"messages":[{"role":"user","content":"hi"}],"safety_settings":[{"category":"HARM_CATEGORY_HARASSMENT","threshold":"BLOCK_NONE"}],"cached_content":"cachedContents/abc123","response_format":{"type":"json_object"}}`
	gr, err := FromChat([]byte(body), testModel)
	if err != nil {
		t.Fatal(err)
	}
	if string(gr.SafetySettings) != `[{"category":"HARM_CATEGORY_HARASSMENT","threshold":"BLOCK_NONE"}]` || gr.CachedContent != "cachedContents/abc123" {
		t.Errorf("safetySettings %s cachedContent %q", gr.SafetySettings, gr.CachedContent)
	}
	if gr.GenerationConfig.ResponseMimeType != "application/json" || gr.GenerationConfig.ResponseSchema != nil {
		t.Errorf("json_object gave %+v", gr.GenerationConfig)
	}
}
