package ledger

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/clawgate/clawgate/app/budget"
	"github.com/clawgate/clawgate/app/store"
	"github.com/clawgate/clawgate/proxy"
)

// Every request leaves one row, failed and unpriced ones too, with every field the issue lists.
func TestSpendLogRows(t *testing.T) {
	e := newEnv(t)
	key, token := e.generate(`{"key_alias": "rows", "user_id": "ana"}`)
	ok := e.chat(key, strings.Replace(exactChat, `"messages"`, `"user":"end-user-7","messages"`, 1))
	if ok.status != 200 {
		t.Fatal(ok.status)
	}
	stream := e.chat(key, `{"model":"exact","stream":true,"max_tokens":10,"messages":[{"role":"user","content":"hi"}]}`)
	if r := e.chat(key, `{"model":"broken","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}`); r.status != 400 {
		t.Fatalf("broken model: %d", r.status)
	}
	if r := e.chat(key, `{"model":"unpriced","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}`); r.status != 200 {
		t.Fatal(r.status)
	}
	if stream.status != 200 {
		t.Fatal(stream.status)
	}
	e.flush()
	var rows []logRow
	e.master("GET", "/spend/logs?api_key="+key, "").json(t, &rows)
	if len(rows) != 4 {
		t.Fatalf("%d rows", len(rows))
	}
	by := map[string]logRow{}
	for _, r := range rows {
		by[r.ModelGroup+fmt.Sprint(r.CompletionStartTime != nil && r.CompletionStartTime.Before(r.EndTime))] = r
		if r.APIKey != token || r.CallType != "acompletion" || r.User != "ana" || r.Metadata["user_api_key_alias"] != "rows" {
			t.Errorf("row %s: key %s, call_type %s, user %s", r.RequestID, r.APIKey, r.CallType, r.User)
		}
	}
	plain, streamed := by["exactfalse"], by["exacttrue"]
	if plain.EndUser != "end-user-7" || plain.Spend != callCost || plain.Status != "success" || plain.CompletionStartTime == nil ||
		plain.Model != "gpt-4o-mini" || plain.CustomLLMProvider != "openai" || plain.ModelID == "" || plain.APIBase != e.upSrv.URL {
		t.Errorf("plain row: %+v", plain)
	}
	if streamed.Spend != callCost || streamed.Metadata["stream"] != true {
		t.Errorf("streamed row: %+v", streamed)
	}
	failed := by["brokenfalse"]
	info, _ := failed.Metadata["error_information"].(map[string]any)
	if failed.Status != "failure" || failed.Spend != 0 || !strings.Contains(failed.Metadata["status"].(string), "failure") ||
		info == nil || !strings.Contains(info["error_message"].(string), "maximum context length") || info["error_code"] != "400" {
		t.Errorf("failed row: %+v", failed)
	}
	unpriced := by["unpricedfalse"]
	if unpriced.Spend != 0 || unpriced.Metadata["unpriced"] != true || unpriced.TotalTokens != 29 {
		t.Errorf("unpriced row: %+v", unpriced)
	}
	if plain.Metadata["unpriced"] != false {
		t.Errorf("priced row marked unpriced")
	}
	// The failed call held nothing back: spend is the two priced calls.
	if got := e.info(key)["spend"]; got != 2*callCost {
		t.Errorf("spend %v", got)
	}
	// Filters: request_id, user_id, hash; an unknown request.
	e.master("GET", "/spend/logs?request_id="+plain.RequestID, "").json(t, &rows)
	if len(rows) != 1 || rows[0].RequestID != plain.RequestID {
		t.Errorf("by request_id: %+v", rows)
	}
	e.master("GET", "/spend/logs?user_id=ana&api_key="+token, "").json(t, &rows)
	if len(rows) != 4 {
		t.Errorf("by user and hash: %d", len(rows))
	}
	e.master("GET", "/spend/logs?request_id=nope", "").json(t, &rows)
	if len(rows) != 0 {
		t.Errorf("unknown request: %+v", rows)
	}
}

// The cache and reasoning token columns reach the log and its metadata.
func TestCacheAndReasoningTokens(t *testing.T) {
	e := newEnv(t)
	_, token := e.generate(`{}`)
	now := time.Now()
	adm, err := e.l.Admit(t.Context(), &proxy.Principal{KeyHash: token}, "exact", 0.01, 100)
	if err != nil {
		t.Fatal(err)
	}
	u := proxy.Usage{CallID: "c1", ResponseID: "msg_1", CallType: "anthropic_messages", Principal: &proxy.Principal{KeyHash: token},
		Model: "claude", ModelGroup: "claude", Provider: "anthropic", PromptTokens: 1000, CompletionTokens: 300,
		CachedTokens: 600, CacheCreationTokens: 200, ReasoningTokens: 120, UsageKnown: true, Cost: 0.004, Priced: true,
		Start: now, FirstToken: now.Add(100 * time.Millisecond), End: now.Add(time.Second), Status: 200, Fallbacks: 1, Retries: 2}
	adm.Done(&u)
	e.l.Record(u) // the gateway calls both; the row is written once
	e.flush()
	l, err := e.l.Store().GetSpendLog(context.Background(), "c1")
	if err != nil || l.ResponseID != "msg_1" {
		t.Fatalf("row by call id: response id %q, %v", l.ResponseID, err)
	}
	if l.CacheReadTokens != 600 || l.CacheWriteTokens != 200 || l.ReasoningTokens != 120 || l.Fallbacks != 1 || l.Retries != 2 ||
		l.CompletionStartTime == nil || !l.CompletionStartTime.Equal(now.Add(100*time.Millisecond).UTC().Truncate(time.Microsecond)) {
		t.Errorf("%+v", l)
	}
	row := toRow(l)
	uo := row.Metadata["usage_object"].(map[string]any)
	if uo["cache_read_input_tokens"] != int64(600) || uo["cache_creation_input_tokens"] != int64(200) ||
		uo["completion_tokens_details"].(map[string]any)["reasoning_tokens"] != int64(120) || row.RequestDurationMS != 1000 ||
		row.Metadata["attempted_fallbacks"] != 1 || row.Metadata["attempted_retries"] != 2 {
		t.Errorf("%+v", row)
	}
	if _, total, _ := e.l.Store().QuerySpendLogs(context.Background(), store.SpendQuery{}); total != 1 {
		t.Errorf("%d rows, want 1", total)
	}
	if s, _, _ := e.l.bl.Spend(token); s != 0.004 {
		t.Errorf("spend %v", s)
	}
}

// Without the gate, Record writes the rows and counts the spend.
func TestUsageSinkWithoutGate(t *testing.T) {
	e := newEnv(t, withoutGate())
	key, token := e.generate(fmt.Sprintf(`{"max_budget": %v}`, callCost))
	for range 3 {
		if r := e.chat(key, exactChat); r.status != 200 {
			t.Fatal(r.status)
		}
	}
	e.flush()
	if _, total, _ := e.l.Store().QuerySpendLogs(context.Background(), store.SpendQuery{APIKey: token}); total != 3 {
		t.Errorf("%d rows", total)
	}
	if got := e.info(key)["spend"]; got != 3*callCost {
		t.Errorf("spend %v", got)
	}
}

func TestSpendSummaries(t *testing.T) {
	e := newEnv(t)
	a, ta := e.generate(`{"key_alias": "a", "user_id": "ana"}`)
	b, tb := e.generate(`{"key_alias": "b"}`)
	for _, k := range []string{a, a, b} {
		e.chat(k, exactChat)
	}
	e.chat(b, strings.Replace(exactChat, `"exact"`, `"gpt-4o-mini"`, 1)) // 8.4e-6 USD, see TestConcurrentRequestsAgainstABudget
	e.flush()
	today := time.Now().UTC().Format(time.DateOnly)
	tomorrow := time.Now().UTC().AddDate(0, 0, 1).Format(time.DateOnly)

	t.Run("summarize per day, LiteLLM's legacy shape", func(t *testing.T) {
		var days []map[string]any
		e.master("GET", "/spend/logs?start_date="+today+"&end_date="+tomorrow, "").json(t, &days)
		if len(days) != 2 || days[0]["startTime"] != today || days[1]["startTime"] != tomorrow || days[1]["spend"] != 0.0 {
			t.Fatalf("%v", days)
		}
		d := days[0]
		if !near(d["spend"].(float64), 3*callCost+8.4e-6) || d[ta] != 2*callCost || !near(d[tb].(float64), callCost+8.4e-6) {
			t.Errorf("%v", d)
		}
		if u := d["users"].(map[string]any); u["ana"] != 2*callCost {
			t.Errorf("users %v", u)
		}
		if m := d["models"].(map[string]any); m["exact"] != 3*callCost || !near(m["gpt-4o-mini"].(float64), 8.4e-6) {
			t.Errorf("models %v", m)
		}
		e.master("GET", "/spend/logs?start_date="+today+"&end_date="+today+"&api_key="+a, "").json(t, &days)
		if len(days) != 1 || days[0]["spend"] != 2*callCost {
			t.Errorf("for one key: %v", days)
		}
	})
	t.Run("summarize=false gives rows in the range", func(t *testing.T) {
		var rows []logRow
		e.master("GET", "/spend/logs?summarize=false&start_date="+today+"&end_date="+today, "").json(t, &rows)
		if len(rows) != 4 || rows[0].StartTime.Before(rows[3].StartTime) {
			t.Errorf("%d rows, newest first?", len(rows))
		}
		e.master("GET", "/spend/logs?summarize=false&start_date=2020-01-01&end_date=2020-01-02", "").json(t, &rows)
		if len(rows) != 0 {
			t.Errorf("%d rows in 2020", len(rows))
		}
	})
	t.Run("/spend/logs/ui pages and filters", func(t *testing.T) {
		var page struct {
			Data       []logRow `json:"data"`
			Total      int      `json:"total"`
			Page       int      `json:"page"`
			PageSize   int      `json:"page_size"`
			TotalPages int      `json:"total_pages"`
		}
		from := time.Now().UTC().Add(-time.Hour).Format(uiTime)
		to := time.Now().UTC().Add(time.Hour).Format(uiTime)
		q := "/spend/logs/ui?start_date=" + strings.ReplaceAll(from, " ", "%20") + "&end_date=" + strings.ReplaceAll(to, " ", "%20")
		e.master("GET", q+"&page=2&page_size=3", "").json(t, &page)
		if page.Total != 4 || page.Page != 2 || page.PageSize != 3 || page.TotalPages != 2 || len(page.Data) != 1 {
			t.Errorf("%+v", page)
		}
		e.master("GET", q+"&api_key="+b+"&model=gpt-4o-mini", "").json(t, &page)
		if page.Total != 2 {
			t.Errorf("by key and model: %+v", page.Total)
		}
		e.master("GET", q+"&key_alias=a&min_spend=0.001&status_filter=success", "").json(t, &page)
		if page.Total != 2 {
			t.Errorf("by alias and spend: %+v", page.Total)
		}
		e.master("GET", q+"&page_size=1000", "").errOf(t, 400)
	})
	t.Run("/user/daily/activity", func(t *testing.T) {
		var out struct {
			Results []struct {
				Date      string       `json:"date"`
				Metrics   spendMetrics `json:"metrics"`
				Breakdown struct {
					Models    map[string]metric    `json:"models"`
					Providers map[string]metric    `json:"providers"`
					APIKeys   map[string]keyMetric `json:"api_keys"`
				} `json:"breakdown"`
			} `json:"results"`
			Metadata dailyMetadata `json:"metadata"`
		}
		e.master("GET", "/user/daily/activity?start_date="+today+"&end_date="+today, "").json(t, &out)
		if len(out.Results) != 1 || out.Results[0].Date != today {
			t.Fatalf("%+v", out)
		}
		r := out.Results[0]
		if r.Metrics.APIRequests != 4 || r.Metrics.SuccessfulRequests != 4 || r.Metrics.PromptTokens != 76 || r.Metrics.TotalTokens != 116 ||
			!near(r.Metrics.Spend, 3*callCost+8.4e-6) {
			t.Errorf("metrics %+v", r.Metrics)
		}
		if m := r.Breakdown.Models["exact"]; m.Metrics.APIRequests != 3 || m.APIKeyBreakdown[ta].Metrics.APIRequests != 2 {
			t.Errorf("models %+v", r.Breakdown.Models)
		}
		if k := r.Breakdown.APIKeys[tb]; k.Metrics.APIRequests != 2 || k.Metadata.KeyAlias == nil || *k.Metadata.KeyAlias != "b" {
			t.Errorf("keys %+v", r.Breakdown.APIKeys)
		}
		if p := r.Breakdown.Providers["openai"]; p.Metrics.APIRequests != 4 {
			t.Errorf("providers %+v", r.Breakdown.Providers)
		}
		if out.Metadata.TotalAPIRequests != 4 || out.Metadata.Page != 1 || out.Metadata.TotalPages != 1 || out.Metadata.HasMore {
			t.Errorf("metadata %+v", out.Metadata)
		}
		e.master("GET", "/user/daily/activity?start_date="+today+"&end_date="+today+"&model=gpt-4o-mini&api_key="+tb, "").json(t, &out)
		if len(out.Results) != 1 || out.Results[0].Metrics.APIRequests != 1 {
			t.Errorf("filtered: %+v", out.Results)
		}
	})
}

// Logs older than maximum_spend_logs_retention_period are pruned at Open.
func TestRetention(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	st, err := store.Open(ctx, store.Path(dir))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for i, age := range []time.Duration{40 * 24 * time.Hour, 29 * 24 * time.Hour, time.Hour} {
		start := now.Add(-age)
		if err := st.InsertSpendLogs(ctx, []store.SpendLog{{RequestID: fmt.Sprint("r", i), StartTime: start, EndTime: start, Spend: 1}}); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()
	month := budget.Duration{N: 30, Unit: budget.Day}
	l, err := Open(ctx, Options{DataDir: dir, Settings: Settings{Retention: &month}})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close(ctx)
	rows, _, _ := l.Store().QuerySpendLogs(ctx, store.SpendQuery{})
	if len(rows) != 2 || rows[1].RequestID != "r1" {
		t.Errorf("kept %+v", rows)
	}
	if s, _, _ := l.GlobalSpend(); s != 2 {
		t.Errorf("global spend %v after pruning", s)
	}
}
