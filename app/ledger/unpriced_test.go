package ledger

import (
	"fmt"
	"strings"
	"testing"
)

// A key with a budget is refused on a route without a price, with a 400 that names the route and
// the fix; a key without a budget and the master key are served, the row marked unpriced.
func TestUnpricedRouteRefusal(t *testing.T) {
	e := newEnv(t)
	capped, _ := e.generate(fmt.Sprintf(`{"key_alias": "capped", "max_budget": %v}`, 100*callCost))
	open, _ := e.generate(`{"key_alias": "open"}`)
	const unpriced = `{"model":"unpriced","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}`

	r := e.chat(capped, unpriced)
	if r.status != 400 {
		t.Fatalf("budgeted key on an unpriced route: %d %s", r.status, r.body)
	}
	msg, _ := r.obj(t)["error"].(map[string]any)["message"].(string)
	if !strings.Contains(msg, `"unpriced"`) || !strings.Contains(msg, "openai/my-private-model") ||
		!strings.Contains(msg, "model_info.input_cost_per_token") || !strings.Contains(msg, "declare it free") {
		t.Errorf("message: %s", msg)
	}
	if r := e.chat(capped, exactChat); r.status != 200 {
		t.Errorf("budgeted key on a priced route: %d", r.status)
	}
	if r := e.chat(open, unpriced); r.status != 200 {
		t.Errorf("key without a budget: %d %s", r.status, r.body)
	}
	if r := e.chat(masterKey, unpriced); r.status != 200 {
		t.Errorf("master key: %d %s", r.status, r.body)
	}
	e.flush()
	var rows []logRow
	e.master("GET", "/spend/logs?api_key="+open, "").json(t, &rows)
	if len(rows) != 1 || rows[0].Metadata["unpriced"] != true || rows[0].Spend != 0 {
		t.Errorf("open key's rows: %+v", rows)
	}
}
