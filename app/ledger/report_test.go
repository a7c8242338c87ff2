package ledger

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/clawgate/clawgate/app/store"
)

// TestSpendReport: /global/spend/report in LiteLLM's shape, per day, with the spend per key and
// model, by team (one unnamed team) or by key.
func TestSpendReport(t *testing.T) {
	e := newEnv(t)
	a, ta := e.generate(`{"key_alias": "a"}`)
	b, tb := e.generate(`{"key_alias": "b"}`)
	for _, k := range []string{a, a, b} {
		e.chat(k, exactChat)
	}
	e.chat(b, strings.Replace(exactChat, `"exact"`, `"gpt-4o-mini"`, 1))
	e.flush()
	today := time.Now().UTC().Format(time.DateOnly)

	var teams []reportDay
	e.master("GET", "/global/spend/report?start_date="+today+"&end_date="+today, "").json(t, &teams)
	if len(teams) != 1 || !strings.HasPrefix(teams[0].GroupByDay, today+"T00:00:00") || len(teams[0].Teams) != 1 {
		t.Fatalf("%+v", teams)
	}
	tm := teams[0].Teams[0]
	if tm.TeamName != nil || len(tm.Metadata) != 3 || !near(tm.TotalSpend, 3*callCost+8.4e-6) {
		t.Errorf("team %+v", tm)
	}
	lines := map[string]reportLine{}
	for _, l := range tm.Metadata {
		lines[l.APIKey+"/"+l.Model] = l
	}
	if l := lines[ta+"/exact"]; !near(l.Spend, 2*callCost) || l.TotalTokens == 0 {
		t.Errorf("key a on exact: %+v (lines %+v)", l, lines)
	}
	if l := lines[tb+"/gpt-4o-mini"]; !near(l.Spend, 8.4e-6) {
		t.Errorf("key b on gpt-4o-mini: %+v", l)
	}

	var keys []reportDay
	e.master("GET", "/global/spend/report?group_by=api_key&start_date="+today+"&end_date="+today+"&api_key="+b, "").json(t, &keys)
	if len(keys) != 1 || len(keys[0].APIKeys) != 1 || keys[0].APIKeys[0].APIKey != tb || len(keys[0].APIKeys[0].ModelDetails) != 2 ||
		!near(keys[0].APIKeys[0].TotalCost, callCost+8.4e-6) {
		t.Errorf("by key %+v", keys)
	}
	e.master("GET", "/global/spend/report?group_by=customer&start_date="+today+"&end_date="+today, "").errOf(t, 400)
	e.master("GET", "/global/spend/report", "").errOf(t, 400)
	e.do("GET", "/global/spend/report?start_date="+today+"&end_date="+today, a, "").errOf(t, 403)
}

// TestMockRow: a mock_response request is logged at $0, marked as a mock, and leaves the key's
// spend where it was.
func TestMockRow(t *testing.T) {
	e := newEnv(t)
	key, token := e.generate(`{"max_budget": 1}`)
	if r := e.chat(key, strings.Replace(exactChat, `"max_tokens":4`, `"max_tokens":4,"mock_response":"hi there"`, 1)); r.status != 200 {
		t.Fatalf("status %d", r.status)
	}
	e.flush()
	rows, total, err := e.l.Store().QuerySpendLogs(context.Background(), store.SpendQuery{APIKey: token})
	if err != nil || total != 1 {
		t.Fatalf("%d rows, %v", total, err)
	}
	if rows[0].Spend != 0 || rows[0].Metadata["mock_response"] != true || rows[0].Unpriced {
		t.Errorf("row %+v: want a $0 priced row marked mock_response", rows[0])
	}
	if got := e.info(key)["spend"]; got != 0.0 {
		t.Errorf("key spend %v after a mock", got)
	}
}
