package proxy

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"
)

type overBudget struct{}

func (overBudget) Error() string { return "Budget has been exceeded! Current cost: 5, Max budget: 5" }
func (overBudget) HTTPStatus() (int, string, time.Duration, map[string]any) {
	return http.StatusTooManyRequests, "budget_exceeded", 0, map[string]any{"budget": "key"}
}

// fakeGate admits while budget remains, recording what it was asked and told.
type fakeGate struct {
	mu       sync.Mutex
	refuse   bool
	expected []float64
	repriced []float64
	settled  []Usage
}

type fakeAdmission struct{ g *fakeGate }

func (a fakeAdmission) Reprice(c float64) {
	a.g.mu.Lock()
	a.g.repriced = append(a.g.repriced, c)
	a.g.mu.Unlock()
}

func (a fakeAdmission) Done(u *Usage) {
	a.g.mu.Lock()
	a.g.settled = append(a.g.settled, *u)
	a.g.mu.Unlock()
}

func (g *fakeGate) Admit(_ context.Context, p *Principal, model string, expected float64, est int64) (Admission, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.expected = append(g.expected, expected)
	if g.refuse {
		return nil, overBudget{}
	}
	return fakeAdmission{g}, nil
}

func TestGateReservesAndSettles(t *testing.T) {
	up := newUpstream(t, reply{file: "chat_completion.json"}, reply{file: "stream_usage.sse"})
	gate := &fakeGate{}
	g := newGatewayWith(t, oneModel, Options{Gate: gate}, up)

	if resp := g.chat(`{"model":"gpt-4o-mini","max_tokens":1000,"messages":[{"role":"user","content":"hi"}]}`); resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	resp := g.chat(`{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}]}`)
	sseEvents(t, resp.Body)
	gate.mu.Lock()
	// The expected output starts at 1,024 tokens, capped by max_tokens: 1000 at $0.60/M is 6e-4.
	if len(gate.expected) != 2 || gate.expected[0] < 6e-4 || gate.expected[0] > 1e-3 {
		t.Errorf("expected costs = %v", gate.expected)
	}
	if len(gate.settled) != 2 || gate.settled[0].Cost != 8.85e-06 || !gate.settled[0].Priced || gate.settled[1].PromptTokens != 9 || gate.settled[1].Cost == 0 {
		t.Errorf("settled = %+v", gate.settled)
	}
	gate.refuse = true
	gate.mu.Unlock()

	resp = g.chat(simpleChat)
	e := errorOf(t, resp)
	if resp.StatusCode != 429 || e.Type != "budget_exceeded" || e.Details["budget"] != "key" {
		t.Errorf("refusal: %d %+v", resp.StatusCode, e)
	}
	if up.calls() != 2 {
		t.Errorf("a refused request reached the upstream")
	}
}
