package proxy

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/clawgate/clawgate/proxy/pricing"
	"github.com/clawgate/clawgate/proxy/route"
)

func TestInputTokens(t *testing.T) {
	url := `"https://example.com/cat.png"`
	b64 := `"data:image/png;base64,` + strings.Repeat("iVBORw0KGgo", 40000) + `"`
	text := strings.Repeat("word ", 400) // 2,000 bytes: 500 tokens
	for _, tt := range []struct {
		name     string
		body     string
		min, max int
	}{
		{"text at 4 bytes a token", `{"messages":[{"role":"user","content":"` + text + `"}]}`, 500, 520},
		{"an image URL counts as an image, not its bytes", `{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":` + url + `}}]}]}`,
			imageTokens, imageTokens + 30},
		{"a base64 image too", `{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":` + b64 + `}}]}]}`,
			imageTokens, imageTokens + 30},
		{"low detail", `{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":` + url + `,"detail":"low"}}]}]}`,
			lowDetailImageTokens, lowDetailImageTokens + 30},
		{"three images", `{"messages":[{"role":"user","content":[` + strings.Repeat(`{"type":"image_url","image_url":{"url":`+url+`}},`, 2) +
			`{"type":"image_url","image_url":` + url + `}]}]}`, 3 * imageTokens, 3*imageTokens + 60},
		{"tools add the provider's tool prompt", `{"messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"read"}}]}`,
			toolsTokens, toolsTokens + 40},
		{"CJK text at a token a character", `{"messages":[{"role":"user","content":"` + strings.Repeat("日本語", 100) + `"}]}`, 300, 320},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if n := inputTokens([]byte(tt.body)); n < tt.min || n > tt.max {
				t.Errorf("inputTokens = %d, want %d..%d", n, tt.min, tt.max)
			}
		})
	}
}

// The output estimate starts at 1,024, becomes the p90 of the last 50 answers, and never goes
// above max_tokens or the model's max output.
func TestOutputEstimate(t *testing.T) {
	var s outputStats
	d := &route.Deployment{ID: "d"}
	max4k := 4096
	p := pricing.Price{MaxOutputTokens: &max4k}
	if got := s.estimate(d, "m", p, 0); got != firstOutputEstimate {
		t.Fatalf("first estimate %d", got)
	}
	if got := s.estimate(d, "m", p, 300); got != 300 {
		t.Fatalf("capped by max_tokens: %d", got)
	}
	// 50 answers: 45 of 100..148 tokens and 5 of 30,000 (the seed 1,024 has aged out).
	for i := range 50 {
		n := 100 + i
		if i%10 == 9 {
			n = 30_000
		}
		s.observe(d, "m", n)
	}
	if got := s.estimate(d, "m", pricing.Price{}, 0); got != 148 {
		t.Errorf("p90 of the last 50 = %d, want 148", got)
	}
	if got := s.estimate(d, "other", pricing.Price{}, 0); got != firstOutputEstimate {
		t.Errorf("another model of the deployment has its own estimate: %d", got)
	}
	for range 50 {
		s.observe(d, "m", 20_000)
	}
	if got := s.estimate(d, "m", p, 0); got != max4k {
		t.Errorf("capped by the model's max output: %d", got)
	}
	if got := s.estimate(d, "m", p, 64_000); got != max4k {
		t.Errorf("max_tokens above the model's max: %d", got)
	}
	// Model names sent through a wildcard cannot grow the estimates without bound.
	for i := range 3 * maxOutputRings {
		s.observe(d, fmt.Sprint("model-", i), 10)
	}
	n := 0
	s.m.Range(func(any, any) bool { n++; return true })
	if n > maxOutputRings {
		t.Errorf("%d estimates kept, want at most %d", n, maxOutputRings)
	}
}

const fallbackPricing = `
model_list:
  - model_name: cheap
    litellm_params: {model: openai/gpt-4o-mini, api_base: "{{A}}"}
    model_info: {id: dep-cheap}
  - model_name: dear
    litellm_params: {model: openai/o1, api_base: "{{B}}"}
    model_info: {id: dep-dear}
router_settings: {num_retries: 0, fallbacks: [{"cheap": ["dear"]}]}
`

// A request admitted at its group's prices is repriced at the deployment actually called: a
// fallback into o1 holds o1's expected cost (issue 10, finding 4). n multiplies the output.
func TestRepriceOnFallback(t *testing.T) {
	bad := newUpstream(t).always(reply{status: 500, file: "error_500.json"})
	good := newUpstream(t).always(reply{file: "chat_completion.json"})
	gate := &fakeGate{}
	g := newGatewayWith(t, fallbackPricing, Options{Gate: gate}, bad, good)
	body := `{"model":"cheap","n":2,"messages":[{"role":"user","content":"hi"}]}`
	if resp := g.chat(body); resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	in := float64(inputTokens([]byte(body)))
	mini := in*0.15e-6 + 2*1024*0.6e-6
	o1 := in*15e-6 + 2*1024*60e-6
	gate.mu.Lock()
	defer gate.mu.Unlock()
	if len(gate.expected) != 1 || !closeTo(gate.expected[0], mini) {
		t.Errorf("admitted at %v, want gpt-4o-mini's expected cost %v", gate.expected, mini)
	}
	if len(gate.repriced) != 2 || !closeTo(gate.repriced[0], mini) || !closeTo(gate.repriced[1], o1) {
		t.Errorf("repriced %v, want [%v %v]", gate.repriced, mini, o1)
	}
	gate.mu.Unlock()
	// o1's answers (10 completion tokens for 2 choices: 5 each) teach its estimate; once they
	// are 90% of its window, o1 is expected to return 5 tokens a choice.
	for range 10 {
		if resp := g.chat(body); resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
	}
	gate.mu.Lock()
	if got, want := gate.repriced[len(gate.repriced)-1], in*15e-6+2*5*60e-6; !closeTo(got, want) {
		t.Errorf("repriced at %v after o1 answered 5 tokens a choice, want %v", got, want)
	}
}

func closeTo(a, b float64) bool { return math.Abs(a-b) <= 1e-12*math.Max(1, math.Abs(b)) }
