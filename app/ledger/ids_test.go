package ledger

import (
	"context"
	"strings"
	"testing"

	"github.com/clawgate/clawgate/app/store"
)

// TestRepeatedUpstreamIDs: an upstream that gives every answer the same id (model "same-id")
// costs as many rows as calls, and the key's spend, in memory, on its row and after a restart,
// is the sum of those rows.
func TestRepeatedUpstreamIDs(t *testing.T) {
	e := newEnv(t)
	key, token := e.generate(`{"max_budget": 100}`)
	const calls = 40
	callIDs := map[string]bool{}
	for i := range calls {
		body := strings.Replace(exactChat, `"exact"`, `"same-id"`, 1)
		if i%2 == 1 {
			body = strings.Replace(body, `"max_tokens"`, `"stream":true,"max_tokens"`, 1)
		}
		r := e.chat(key, body)
		if r.status != 200 || !strings.Contains(string(r.body), `"chatcmpl-same"`) {
			t.Fatalf("call %d: %d %s", i, r.status, r.body)
		}
		callIDs[r.header.Get("x-litellm-call-id")] = true
	}
	check := func(when string) {
		t.Helper()
		e.flush()
		ctx := context.Background()
		rows, n, err := e.l.Store().QuerySpendLogs(ctx, store.SpendQuery{APIKey: token})
		if err != nil || n != calls {
			t.Fatalf("%s: %d rows for %d calls (%v)", when, n, calls, err)
		}
		sum := 0.0
		for _, r := range rows {
			if !callIDs[r.RequestID] || r.ResponseID != "chatcmpl-same" {
				t.Errorf("%s: row %s (response %s) is not one of the calls", when, r.RequestID, r.ResponseID)
			}
			sum += r.Spend
		}
		k, err := e.l.Store().GetKey(ctx, token)
		if err != nil || !near(sum, calls*callCost) || !near(k.Spend, sum) {
			t.Errorf("%s: rows sum to %v, the key row says %v, want %v (%v)", when, sum, k.Spend, calls*callCost, err)
		}
		if got := e.info(key)["spend"]; !near(got.(float64), sum) {
			t.Errorf("%s: the key's budget holds %v, its rows %v", when, got, sum)
		}
	}
	check("before a restart")
	e.restart()
	check("after a restart")
}
