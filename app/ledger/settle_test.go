package ledger

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/clawgate/clawgate/app/store"
	"github.com/clawgate/clawgate/proxy"
)

// What a request holds while in flight is only a reservation: when it ends, its budgets are
// charged what its usage cost, whatever was reserved, and nothing stays reserved. These tests
// say nothing about how much is reserved, which is the gate's policy and free to change.

// Done charges the usage's cost, above or below the reservation, and releases the rest; a request
// without usable usage is charged nothing.
func TestDoneChargesRealCostNotReservation(t *testing.T) {
	limit := 100.0
	e := newEnv(t, withSettings(Settings{MaxBudget: &limit}))
	priced := func(cost float64) *proxy.Usage {
		return &proxy.Usage{UsageKnown: true, Priced: true, Cost: cost, PromptTokens: 7, CompletionTokens: 3}
	}
	for _, c := range []struct {
		name    string
		reserve float64
		usage   *proxy.Usage
		want    float64
	}{
		{"cost below the reservation", 0.5, priced(0.125), 0.125},
		{"cost above the reservation", 0.0625, priced(0.375), 0.375},
		{"nothing reserved", 0, priced(0.25), 0.25},
		{"no usage: a failed call", 0.5, nil, 0},
		{"usage unknown", 0.5, &proxy.Usage{Cost: 0.25}, 0},
		{"free model", 0.5, priced(0), 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, token := e.generate(`{"max_budget": 10}`)
			globalBefore, _, _ := e.l.bl.Spend(GlobalBudget)
			adm, err := e.l.Admit(t.Context(), &proxy.Principal{KeyHash: token}, "exact", c.reserve, 10)
			if err != nil {
				t.Fatal(err)
			}
			if _, held, _ := e.l.bl.Spend(token); (held > 0) != (c.reserve > 0) {
				t.Fatalf("in flight: %v reserved for a request that asked %v", held, c.reserve)
			}
			if c.usage != nil {
				c.usage.CallID = "call-" + strings.ReplaceAll(c.name, " ", "-")
				c.usage.Principal = &proxy.Principal{KeyHash: token}
			}
			adm.Done(c.usage)
			adm.Done(c.usage) // a second Done changes nothing
			spend, held, _ := e.l.bl.Spend(token)
			if spend != c.want || held != 0 {
				t.Errorf("key: spend %v, reserved %v; want spend %v, nothing reserved", spend, held, c.want)
			}
			global, gheld, _ := e.l.bl.Spend(GlobalBudget)
			if global-globalBefore != c.want || gheld != 0 {
				t.Errorf("global: spend went up %v, reserved %v; want %v, nothing reserved", global-globalBefore, gheld, c.want)
			}
		})
	}
}

// Through the gateway, with requests that reserve far more than they cost (max_tokens 4000) and
// far less (max_tokens 4, see exactChat), streamed and not: the key's budget, the proxy-wide one,
// the key row and the logs all hold the sum of the real costs, and nothing stays reserved.
func TestSpendIsTheRealCostOfTheCalls(t *testing.T) {
	limit := 100.0
	e := newEnv(t, withSettings(Settings{MaxBudget: &limit}))
	key, token := e.generate(`{"max_budget": 50}`)
	bodies := []string{
		roomyChat,
		exactChat,
		strings.Replace(roomyChat, `"messages"`, `"stream":true,"stream_options":{"include_usage":true},"messages"`, 1),
		strings.Replace(exactChat, `"messages"`, `"stream":true,"messages"`, 1),
	}
	for i, body := range bodies {
		if r := e.chat(key, body); r.status != 200 {
			t.Fatalf("call %d: %d %s", i, r.status, r.body)
		}
		want := float64(i+1) * callCost // exact in binary, see helpers_test.go
		spend, held, _ := e.l.bl.Spend(token)
		if spend != want || held != 0 {
			t.Errorf("after call %d: key spend %v, reserved %v; want %v, nothing reserved", i, spend, held, want)
		}
		if g, gheld, _ := e.l.bl.Spend(GlobalBudget); g != want || gheld != 0 {
			t.Errorf("after call %d: global spend %v, reserved %v; want %v", i, g, gheld, want)
		}
	}
	want := 4 * callCost
	if got := e.info(key)["spend"]; got != want {
		t.Errorf("/key/info spend %v, want %v", got, want)
	}
	e.flush()
	rows, total, err := e.l.Store().QuerySpendLogs(context.Background(), store.SpendQuery{APIKey: token})
	if err != nil || total != 4 {
		t.Fatalf("%d rows, %v", total, err)
	}
	for _, r := range rows {
		if r.Spend != callCost || r.PromptTokens != 19 || r.CompletionTokens != 10 {
			t.Errorf("row %s: spend %v for %d+%d tokens", r.RequestID, r.Spend, r.PromptTokens, r.CompletionTokens)
		}
	}
	if k, err := e.l.Store().GetKey(context.Background(), token); err != nil || k.Spend != want {
		t.Errorf("key row spend %v, %v", k.Spend, err)
	}
	e.restart() // and the budget starts again from what was really spent
	if got := e.info(key)["spend"]; got != want {
		t.Errorf("spend after restart %v, want %v", got, want)
	}
	if m := e.master("GET", "/global/spend", "").obj(t); m["spend"] != want {
		t.Errorf("/global/spend after restart: %v", m)
	}
}

// The writer waits the ledger's FlushInterval, not its own default: how long it waits is tested
// in app/store with a fake timer; this is the hand-over.
func TestWriterGetsTheFlushInterval(t *testing.T) {
	e := newEnv(t)
	for _, d := range []time.Duration{20 * time.Millisecond, 3 * time.Minute} {
		if got := e.l.writerOptions(Options{FlushInterval: d}).FlushInterval; got != d {
			t.Errorf("FlushInterval %v reaches the writer as %v", d, got)
		}
	}
}
