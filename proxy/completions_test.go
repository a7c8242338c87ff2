package proxy

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestCompletions: legacy text completions pass through to an OpenAI-compatible route with the
// model spliced in, streamed and not, metered like chat; a route that cannot serve them says so.
func TestCompletions(t *testing.T) {
	g, up := embedGateway(t, Options{})

	resp := g.do("POST", "/v1/completions", `{"model":"oa-emb","prompt":"Say this is a test","max_tokens":7}`)
	b := readAll(t, resp.Body)
	var tc struct {
		Object  string `json:"object"`
		Choices []struct {
			Text string `json:"text"`
		} `json:"choices"`
	}
	if resp.StatusCode != 200 || json.Unmarshal(b, &tc) != nil || tc.Object != "text_completion" || tc.Choices[0].Text != "\n\nThis is indeed a test" {
		t.Fatalf("status %d body %s", resp.StatusCode, b)
	}
	if path, sent := up.last(); path != "/v1/completions" || !strings.Contains(sent, `"model":"text-embedding-3-small"`) || !strings.Contains(sent, `"prompt":"Say this is a test"`) {
		t.Errorf("upstream got %s %s", path, sent)
	}
	recs := g.sink.all()
	if u := recs[len(recs)-1]; u.CallType != "atext_completion" || u.PromptTokens != 5 || u.CompletionTokens != 7 || u.ResponseID != "cmpl-uqkvlQyYK7bGYrRHQ0eXlWi7" {
		t.Errorf("record %+v", u)
	}

	resp = g.do("POST", "/completions", `{"model":"oa-emb","prompt":"x","stream":true}`)
	events := sseEvents(t, resp.Body)
	if len(events) == 0 || events[len(events)-1] != "[DONE]" || !strings.Contains(strings.Join(events, ""), " is a test") {
		t.Fatalf("stream %q", events)
	}
	if strings.Contains(strings.Join(events, ""), `"usage":{`) {
		t.Errorf("usage chunk relayed to a client that did not ask for it: %q", events)
	}
	if _, sent := up.last(); !strings.Contains(sent, `"include_usage":true`) {
		t.Errorf("usage not asked of the upstream: %s", sent)
	}
	recs = g.sink.all()
	if u := recs[len(recs)-1]; !u.Stream || u.PromptTokens != 5 || u.CompletionTokens != 4 || u.CallType != "atext_completion" {
		t.Errorf("stream record %+v", u)
	}

	before := up.calls()
	for body, want := range map[string]string{
		`{"model":"claude","prompt":"x"}`:   "does not serve legacy text completions",
		`{"model":"oa-emb"}`:                "prompt is required",
		`{"model":"gem-emb","prompt":"x"}`:  "does not serve legacy text completions",
		`{"model":"nope","prompt":"x"}`:     "Invalid model name",
		`{"model":"oa-emb","messages":[1]}`: "prompt is required",
	} {
		resp := g.do("POST", "/v1/completions", body)
		if e := errorOf(t, resp); resp.StatusCode != 400 || !strings.Contains(e.Message, want) {
			t.Errorf("%s: status %d %q, want 400 with %q", body, resp.StatusCode, e.Message, want)
		}
	}
	if up.calls() != before {
		t.Errorf("refused completions reached the upstream")
	}

	// mock_response on text completions: the same $0 mock as on chat.
	resp = g.do("POST", "/v1/completions", `{"model":"oa-emb","prompt":"x","mock_response":"mocked"}`)
	b = readAll(t, resp.Body)
	if !strings.Contains(string(b), `"text":"mocked"`) || up.calls() != before {
		t.Errorf("mock: %s, upstream calls %d", b, up.calls()-before)
	}
	recs = g.sink.all()
	if u := recs[len(recs)-1]; !u.Mock || u.Cost != 0 {
		t.Errorf("mock record %+v", u)
	}
}
