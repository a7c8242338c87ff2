package proxy

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// compatModel is an OpenAI-compatible route that is not OpenAI's: Responses requests to it are
// translated to chat (OpenAI and Azure routes get them passed through, responsesnative_test.go).
const compatModel = `
model_list:
  - model_name: gpt-4o-mini
    litellm_params: {model: hosted_vllm/gpt-4o-mini, api_base: "{{A}}", api_key: sk-upstream}
    model_info: {id: dep-a, input_cost_per_token: 1.5e-7, output_cost_per_token: 6e-7}
general_settings: {master_key: ` + masterKey + `}
`

// respObject is the part of a response object the tests read.
type respObject struct {
	ID     string `json:"id"`
	Object string `json:"object"`
	Status string `json:"status"`
	Output []struct {
		Type    string `json:"type"`
		ID      string `json:"id"`
		CallID  string `json:"call_id"`
		Name    string `json:"name"`
		Args    string `json:"arguments"`
		Content []struct {
			Type string `json:"type"`
			Text string `json:"text"`
		} `json:"content"`
	} `json:"output"`
	Usage *struct {
		InputTokens        int `json:"input_tokens"`
		OutputTokens       int `json:"output_tokens"`
		InputTokensDetails struct {
			CachedTokens int `json:"cached_tokens"`
		} `json:"input_tokens_details"`
	} `json:"usage"`
}

func decodeResp(t *testing.T, resp *http.Response) respObject {
	t.Helper()
	b := readAll(t, resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	var o respObject
	if err := json.Unmarshal(b, &o); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	return o
}

// upstreamMessages is what the upstream was sent as messages in call i.
func upstreamMessages(t *testing.T, up *upstream, i int) []map[string]any {
	t.Helper()
	var b struct {
		Messages []map[string]any `json:"messages"`
	}
	if err := json.Unmarshal(up.body(i), &b); err != nil {
		t.Fatal(err)
	}
	return b.Messages
}

// TestResponsesConversation: a non-streamed response is served through chat (one usage record,
// call type aresponses), stored, read back by GET, continued by previous_response_id (the stored
// turns go upstream, the old instructions do not), listed by input_items, and deleted.
func TestResponsesConversation(t *testing.T) {
	up := newUpstream(t).always(reply{file: "chat_completion.json"})
	g := newGateway(t, compatModel, up)
	first := decodeResp(t, g.do("POST", "/v1/responses", `{"model":"gpt-4o-mini","instructions":"Be brief.","input":"hi"}`))
	if !strings.HasPrefix(first.ID, "resp_") || first.Object != "response" || first.Status != "completed" {
		t.Fatalf("first: %+v", first)
	}
	if len(first.Output) != 1 || first.Output[0].Type != "message" || first.Output[0].Content[0].Text != "Hello! How can I assist you today?" {
		t.Errorf("output: %+v", first.Output)
	}
	if u := first.Usage; u == nil || u.InputTokens != 19 || u.OutputTokens != 10 {
		t.Errorf("usage: %+v", u)
	}
	msgs := upstreamMessages(t, up, 0)
	if len(msgs) != 2 || msgs[0]["role"] != "system" || msgs[0]["content"] != "Be brief." || msgs[1]["content"] != "hi" {
		t.Errorf("upstream messages: %v", msgs)
	}
	recs := g.sink.all()
	if len(recs) != 1 || recs[0].CallType != "aresponses" || recs[0].PromptTokens != 19 || recs[0].CompletionTokens != 10 || recs[0].ModelGroup != "gpt-4o-mini" {
		t.Errorf("usage records: %+v", recs)
	}

	got := decodeResp(t, g.do("GET", "/v1/responses/"+first.ID, ""))
	if got.ID != first.ID || got.Output[0].Content[0].Text != first.Output[0].Content[0].Text {
		t.Errorf("GET: %+v", got)
	}

	second := decodeResp(t, g.do("POST", "/responses", `{"model":"gpt-4o-mini","previous_response_id":"`+first.ID+`","input":[{"role":"user","content":[{"type":"input_text","text":"and again"}]}]}`))
	msgs = upstreamMessages(t, up, 1)
	roles := []string{}
	for _, m := range msgs {
		roles = append(roles, m["role"].(string))
	}
	if strings.Join(roles, ",") != "user,assistant,user" || msgs[1]["content"] != "Hello! How can I assist you today?" || msgs[2]["content"] != "and again" {
		t.Errorf("continued conversation sent upstream: %v", msgs)
	}

	resp := g.do("GET", "/v1/responses/"+second.ID+"/input_items", "")
	var items struct {
		Object string `json:"object"`
		Data   []struct {
			Type string `json:"type"`
			Role string `json:"role"`
		} `json:"data"`
	}
	if err := json.Unmarshal(readAll(t, resp.Body), &items); err != nil || items.Object != "list" || len(items.Data) != 1 || items.Data[0].Role != "user" {
		t.Errorf("input_items: %+v %v", items, err)
	}

	if resp := g.do("DELETE", "/v1/responses/"+first.ID, ""); resp.StatusCode != 200 {
		t.Errorf("DELETE: %d", resp.StatusCode)
	}
	if resp := g.do("GET", "/v1/responses/"+first.ID, ""); resp.StatusCode != 404 {
		t.Errorf("GET after DELETE: %d", resp.StatusCode)
	}
	resp = g.do("POST", "/v1/responses", `{"model":"gpt-4o-mini","previous_response_id":"`+first.ID+`","input":"more"}`)
	if e := errorOf(t, resp); resp.StatusCode != 400 || e.Param == nil || *e.Param != "previous_response_id" {
		t.Errorf("continuing a deleted response: %d %+v", resp.StatusCode, e)
	}

	// store: false keeps nothing.
	third := decodeResp(t, g.do("POST", "/v1/responses", `{"model":"gpt-4o-mini","store":false,"input":"hi"}`))
	if resp := g.do("GET", "/v1/responses/"+third.ID, ""); resp.StatusCode != 404 {
		t.Errorf("a store:false response was kept: %d", resp.StatusCode)
	}
}

// sseTypes reads a Responses event stream: each event's type and data.
func sseTypes(t *testing.T, resp *http.Response) (types []string, data []map[string]any) {
	t.Helper()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if d, ok := strings.CutPrefix(line, "data: "); ok {
			var m map[string]any
			if err := json.Unmarshal([]byte(d), &m); err != nil {
				t.Fatalf("event data %q: %v", d, err)
			}
			types = append(types, m["type"].(string))
			data = append(data, m)
		}
	}
	return types, data
}

// TestResponsesStreamedToolCall: a streamed tool call comes out as Responses events, numbered in
// order, ending in response.completed with the usage; the usage record is the chat path's.
func TestResponsesStreamedToolCall(t *testing.T) {
	up := newUpstream(t).always(reply{file: "stream_tool_call.sse"})
	g := newGateway(t, compatModel, up)
	resp := g.do("POST", "/v1/responses", `{"model":"gpt-4o-mini","stream":true,"input":"weather in Paris?",
		"tools":[{"type":"function","name":"get_weather","parameters":{"type":"object","properties":{"location":{"type":"string"}}}}]}`)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("status %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	types, data := sseTypes(t, resp)
	want := "response.created,response.in_progress,response.output_item.added,response.function_call_arguments.delta," +
		"response.function_call_arguments.delta,response.function_call_arguments.done,response.output_item.done,response.completed"
	if strings.Join(types, ",") != want {
		t.Fatalf("events:\n%s\nwant\n%s", strings.Join(types, ","), want)
	}
	for i, d := range data {
		if int(d["sequence_number"].(float64)) != i {
			t.Errorf("event %d has sequence_number %v", i, d["sequence_number"])
		}
	}
	done := data[len(data)-1]["response"].(map[string]any)
	item := done["output"].([]any)[0].(map[string]any)
	if item["type"] != "function_call" || item["call_id"] != "call_abc123" || item["arguments"] != `{"location": "Paris"}` {
		t.Errorf("completed output: %v", item)
	}
	usage := done["usage"].(map[string]any)
	if usage["input_tokens"] != 82.0 || usage["output_tokens"] != 17.0 || usage["input_tokens_details"].(map[string]any)["cached_tokens"] != 64.0 {
		t.Errorf("usage: %v", usage)
	}
	var tools struct {
		Tools []struct {
			Type     string `json:"type"`
			Function struct {
				Name string `json:"name"`
			} `json:"function"`
		} `json:"tools"`
		StreamOptions struct {
			IncludeUsage bool `json:"include_usage"`
		} `json:"stream_options"`
	}
	_ = json.Unmarshal(up.body(0), &tools)
	if len(tools.Tools) != 1 || tools.Tools[0].Function.Name != "get_weather" || !tools.StreamOptions.IncludeUsage {
		t.Errorf("upstream body: %s", up.body(0))
	}
	if recs := g.sink.all(); len(recs) != 1 || recs[0].PromptTokens != 82 || recs[0].CompletionTokens != 17 || !recs[0].Stream {
		t.Errorf("usage records: %+v", recs)
	}
}

// TestResponsesRefusals: a spent budget, a key's model list and a built-in tool are refused as
// on chat, in OpenAI's envelope, without reaching the upstream; a key cannot read or continue
// another key's stored response.
func TestResponsesRefusals(t *testing.T) {
	const scoped = "sk-scoped-0123456789"
	up := newUpstream(t).always(reply{file: "chat_completion.json"})
	gate := &fakeGate{}
	g := newGatewayWith(t, compatModel, Options{Gate: gate, Keys: modelListKeys{key: scoped, models: []string{"other"}}}, up)

	resp := g.do("POST", "/v1/responses", `{"model":"gpt-4o-mini","input":"hi"}`, "Authorization", "Bearer "+scoped)
	if e := errorOf(t, resp); resp.StatusCode != 403 || e.Type != typeModelDenied {
		t.Errorf("key model limit: %d %+v", resp.StatusCode, e)
	}
	resp = g.do("POST", "/v1/responses", `{"model":"gpt-4o-mini","input":"hi","tools":[{"type":"web_search_preview"}]}`)
	if e := errorOf(t, resp); resp.StatusCode != 400 || !strings.Contains(e.Message, "web_search_preview") || e.Param == nil || *e.Param != "tools[0].type" {
		t.Errorf("built-in tool: %d %+v", resp.StatusCode, e)
	}
	gate.mu.Lock()
	gate.refuse = true
	gate.mu.Unlock()
	for _, stream := range []string{"false", "true"} {
		resp = g.do("POST", "/v1/responses", `{"model":"gpt-4o-mini","stream":`+stream+`,"input":"hi"}`)
		if e := errorOf(t, resp); resp.StatusCode != 429 || e.Type != "budget_exceeded" {
			t.Errorf("budget (stream %s): %d %+v", stream, resp.StatusCode, e)
		}
	}
	if up.calls() != 0 {
		t.Errorf("refused requests reached the upstream %d times", up.calls())
	}
	gate.mu.Lock()
	gate.refuse = false
	gate.mu.Unlock()
	mine := decodeResp(t, g.do("POST", "/v1/responses", `{"model":"gpt-4o-mini","input":"hi"}`))
	if resp := g.do("GET", "/v1/responses/"+mine.ID, "", "Authorization", "Bearer "+scoped); resp.StatusCode != 404 {
		t.Errorf("another key read the master key's response: %d", resp.StatusCode)
	}
}

// TestResponsesStreamHangUp: a client that hangs up mid-stream is metered for the whole call, as
// on chat: the upstream is read on for its usage.
func TestResponsesStreamHangUp(t *testing.T) {
	transcript := readTestdata(t, "stream_usage.sse")
	for _, k := range []int{0, 1, 3, 5} { // events read before hanging up: created, in_progress, added, ...
		t.Run(fmt.Sprintf("after %d events", k), func(t *testing.T) {
			rec := hangUpResponses(t, strings.ReplaceAll(compatModel, "{{A}}", "{{UP}}/v1"), "gpt-4o-mini", transcript, k, false)
			if rec.PromptTokens != 9 || rec.CompletionTokens != 2 || !(rec.Cost > 0) || rec.CallType != "aresponses" {
				t.Errorf("hung up after %d events: metered %d+%d tokens, $%g, %s (%s)", k, rec.PromptTokens, rec.CompletionTokens, rec.Cost, rec.CallType, rec.Error)
			}
		})
	}
}

// hangUpResponses makes one streamed /v1/responses call to model through an upstream replaying
// transcript one event at a time (yaml's {{UP}} is its URL), reads k events, releasing upstream
// events only while it waits (one may make several events, or none), hangs up, lets the upstream
// run to its end, and returns the call's usage record.
//
// oneToOne, for a transcript whose every event makes one client event, releases exactly one
// upstream event per event read instead, so the upstream is never ahead of the client.
func hangUpResponses(t *testing.T, yaml, model string, transcript []byte, k int, oneToOne bool) Usage {
	t.Helper()
	up, gate, done := gatedSSE(t, transcript)
	g := newGateway(t, strings.ReplaceAll(yaml, "{{UP}}", up.URL))
	noticed := make(chan struct{}) // closed once the gateway knows its client left
	g.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		context.AfterFunc(r.Context(), func() { close(noticed) })
		g.gw.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(g.srv.Close)
	resp := g.do("POST", "/v1/responses", `{"model":"`+model+`","stream":true,"input":"hi"}`)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	got := make(chan error, 1)
	go func() {
		br := bufio.NewReader(resp.Body)
		for i := 0; i < k; {
			line, err := br.ReadString('\n')
			if err != nil {
				got <- err
				return
			}
			if strings.HasPrefix(line, "data: ") {
				i++
				if oneToOne && i < k {
					gate <- struct{}{} // the upstream sends its next event
				}
			}
		}
		got <- nil
	}()
	for waiting := true; waiting; {
		if oneToOne {
			if err := <-got; err != nil {
				t.Fatalf("reading %d events: %v", k, err)
			}
			break
		}
		select {
		case err := <-got:
			if err != nil {
				t.Fatalf("reading %d events: %v", k, err)
			}
			waiting = false
		case gate <- struct{}{}:
		}
	}
	resp.Body.Close()
	<-noticed
	for {
		select {
		case gate <- struct{}{}:
			continue
		case <-done:
		}
		break
	}
	return waitRecord(t, g)
}
