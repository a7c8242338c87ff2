package ledger

import (
	"bufio"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestHangUpStillBilled: streams whose client hangs up after the first chunk, long before the
// upstream's usage, cost the key what the upstream reported; its budget then refuses the next call.
// (Before: every such stream was a $0 row, and a key could use any multiple of its budget.)
func TestHangUpStillBilled(t *testing.T) {
	e := newEnv(t, withUpstreamDelay(20*time.Millisecond))
	const calls = 3
	key, token := e.generate(fmt.Sprintf(`{"max_budget": %v}`, calls*callCost)) // exactly the calls' cost
	body := strings.Replace(exactChat, `"max_tokens"`, `"stream":true,"max_tokens"`, 1)
	for i := range calls {
		req, _ := http.NewRequest("POST", e.srv.URL+"/v1/chat/completions", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("call %d: %v %v", i, resp, err)
		}
		if line, err := bufio.NewReader(resp.Body).ReadString('\n'); err != nil || !strings.HasPrefix(line, "data: {") {
			t.Fatalf("call %d: first chunk %q %v", i, line, err)
		}
		resp.Body.Close() // hang up after the first chunk
	}
	// Each call is settled once the upstream has been read to its end.
	deadline := time.Now().Add(10 * time.Second)
	for e.info(key)["spend"].(float64) < calls*callCost*0.99 {
		if time.Now().After(deadline) {
			t.Fatalf("spend %v after %d hung-up streams, want %v", e.info(key)["spend"], calls, calls*callCost)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := e.info(key)["spend"].(float64); !near(got, calls*callCost) {
		t.Errorf("spend %v, want %v", got, calls*callCost)
	}
	e.chat(key, exactChat).errOf(t, http.StatusTooManyRequests)
	e.flush()
	if k, err := e.l.Store().GetKey(t.Context(), token); err != nil || !near(k.Spend, calls*callCost) {
		t.Errorf("stored spend %v (%v)", k.Spend, err)
	}
}
