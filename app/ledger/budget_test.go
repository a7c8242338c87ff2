package ledger

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clawgate/clawgate/app/budget"
	"github.com/clawgate/clawgate/app/store"
)

// A key calls until its budget is spent, then gets LiteLLM's 429.
func TestKeySpendsItsBudgetThen429(t *testing.T) { keySpendsItsBudgetThen429(t) }

func keySpendsItsBudgetThen429(t *testing.T, opts ...envOption) {
	e := newEnv(t, opts...)
	key, token := e.generate(fmt.Sprintf(`{"key_alias": "openclaw", "max_budget": %v, "budget_duration": "monthly"}`, 3*callCost))
	for i := range 3 {
		if r := e.chat(key, exactChat); r.status != 200 {
			t.Fatalf("call %d: %d %s", i, r.status, r.body)
		}
	}
	r := e.chat(key, exactChat)
	er := r.errOf(t, 429)
	if er.Type != "budget_exceeded" || !strings.HasPrefix(er.Message, "openclaw reached its usage limit: the monthly budget of $0.03 is spent; it resets on ") {
		t.Errorf("refusal: %+v", er)
	}
	d := er.Details
	if d["budget"] != "key" || d["key_alias"] != "openclaw" || d["limit"] != 3*callCost || d["spend"] != 3*callCost || d["resets_at"] == nil ||
		d["budget_duration"] != "1mo" {
		t.Errorf("details: %v", d)
	}
	if strings.Contains(string(r.body), token) || strings.Contains(string(r.body), key) {
		t.Errorf("the refusal shows the key or its hash: %s", r.body)
	}
	// A spent budget ends the client's retries: x-should-retry false, retry-after at the reset.
	reset, _ := time.Parse(time.RFC3339, d["resets_at"].(string))
	ra, err := strconv.Atoi(r.header.Get("Retry-After"))
	if err != nil || r.header.Get("X-Should-Retry") != "false" || math.Abs(float64(ra)-time.Until(reset).Seconds()) > 5 {
		t.Errorf("retry headers: Retry-After %q (reset %v), X-Should-Retry %q", r.header.Get("Retry-After"), reset, r.header.Get("X-Should-Retry"))
	}
	if e.up.Requests() != 3 {
		t.Errorf("upstream saw %d requests, want 3", e.up.Requests())
	}
	// The spend is on disk once the writer has flushed, and survives a restart.
	e.flush()
	k, err := e.l.Store().GetKey(context.Background(), token)
	if err != nil || !near(k.Spend, 3*callCost) {
		t.Errorf("stored key spend %v, %v", k.Spend, err)
	}
	e.restart()
	if got := e.info(key)["spend"]; got != 3*callCost {
		t.Errorf("spend after restart %v", got)
	}
	e.chat(key, exactChat).errOf(t, 429)
}

// Resets happen exactly at budget_reset_at, lazily, with no job.
func TestResetExactlyAtBudgetResetAt(t *testing.T) {
	clk := newClock(time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC))
	e := newEnv(t, withClock(clk))
	key, token := e.generate(fmt.Sprintf(`{"max_budget": %v, "budget_duration": "1d"}`, 2*callCost))
	reset := time.Date(2026, 3, 15, 0, 0, 0, 0, time.UTC)
	if got := e.info(key)["budget_reset_at"]; got != reset.Format(time.RFC3339) {
		t.Fatalf("budget_reset_at %v, want %v", got, reset)
	}
	for range 2 {
		if r := e.chat(key, exactChat); r.status != 200 {
			t.Fatalf("%d %s", r.status, r.body)
		}
	}
	e.chat(key, exactChat).errOf(t, 429)
	clk.Set(reset.Add(-time.Nanosecond))
	if er := e.chat(key, exactChat).errOf(t, 429); er.Details["resets_at"] != reset.Format(time.RFC3339) {
		t.Errorf("resets_at %v", er.Details["resets_at"])
	}
	clk.Set(reset)
	if r := e.chat(key, exactChat); r.status != 200 {
		t.Fatalf("at budget_reset_at: %d %s", r.status, r.body)
	}
	info := e.info(key)
	if info["spend"] != callCost || info["budget_reset_at"] != reset.AddDate(0, 0, 1).Format(time.RFC3339) {
		t.Errorf("after the reset: spend %v, budget_reset_at %v", info["spend"], info["budget_reset_at"])
	}
	k, err := e.l.Store().GetKey(context.Background(), token)
	if err != nil || k.SpendSince == nil || !k.SpendSince.Equal(reset) || k.BudgetResetAt == nil || !k.BudgetResetAt.Equal(reset.AddDate(0, 0, 1)) {
		t.Errorf("stored window: since %v, reset %v, %v", k.SpendSince, k.BudgetResetAt, err)
	}
	if ev := e.events.of(EventReset, token); len(ev) != 1 || ev[0].Spend != 2*callCost || !ev[0].ResetAt.Equal(reset.AddDate(0, 0, 1)) {
		t.Errorf("reset events: %+v", ev)
	}
}

// A window that ended while Clawgate was stopped rolls over at the next start.
func TestResetWhileStopped(t *testing.T) {
	clk := newClock(time.Date(2026, 1, 31, 23, 0, 0, 0, time.UTC))
	e := newEnv(t, withClock(clk))
	key, _ := e.generate(fmt.Sprintf(`{"max_budget": %v, "budget_duration": "monthly"}`, callCost))
	if r := e.chat(key, exactChat); r.status != 200 {
		t.Fatal(r.status)
	}
	e.chat(key, exactChat).errOf(t, 429)
	e.stop()
	clk.Set(time.Date(2026, 2, 1, 0, 0, 1, 0, time.UTC))
	e.start()
	info := e.info(key)
	if info["spend"] != 0.0 || info["budget_reset_at"] != "2026-03-01T00:00:00Z" {
		t.Errorf("after a restart past the reset: %v %v", info["spend"], info["budget_reset_at"])
	}
	if r := e.chat(key, exactChat); r.status != 200 {
		t.Errorf("%d %s", r.status, r.body)
	}
}

// Changing budget_duration starts a new window: the old spend is not carried into it, not even
// after a restart recomputes spend from the logs.
func TestDurationChangeDropsStaleSpend(t *testing.T) {
	// The ledger's clock, not the wall clock, decides the new window: reading both made this test
	// fail when midnight before a Monday (UTC) fell between them. It follows real time (the
	// gateway stamps the logs with it) but stands still between the change and the check.
	clk := newClock(time.Now().UTC())
	e := newEnv(t, withClock(clk))
	key, token := e.generate(fmt.Sprintf(`{"max_budget": %v, "budget_duration": "30d"}`, 2*callCost))
	for range 2 {
		e.chat(key, exactChat)
	}
	e.chat(key, exactChat).errOf(t, 429)
	e.flush()
	clk.Set(time.Now().UTC()) // after the logged calls: the new window starts here
	r := e.master("POST", "/key/update", `{"key": "`+key+`", "budget_duration": "weekly"}`)
	if r.status != 200 {
		t.Fatalf("update: %d %s", r.status, r.body)
	}
	if m := r.obj(t); m["spend"] != 0.0 || m["budget_duration"] != "weekly" {
		t.Errorf("update answer: spend %v, budget_duration %v", m["spend"], m["budget_duration"])
	}
	now := clk.Now()
	until := (8 - int(now.Weekday())) % 7
	if until == 0 {
		until = 7
	}
	monday := time.Date(now.Year(), now.Month(), now.Day()+until, 0, 0, 0, 0, time.UTC)
	if got := e.info(key)["budget_reset_at"]; got != monday.Format(time.RFC3339) {
		t.Errorf("budget_reset_at %v, want next Monday %v", got, monday)
	}
	if r := e.chat(key, exactChat); r.status != 200 {
		t.Fatalf("after the change: %d %s", r.status, r.body)
	}
	e.restart()
	if got := e.info(key)["spend"]; got != callCost {
		t.Errorf("spend after restart %v, want only the new window's %v", got, callCost)
	}
	// Re-sending the same duration is not a change.
	e.master("POST", "/key/update", `{"key": "`+token+`", "budget_duration": "1w", "max_budget": 1}`)
	if got := e.info(key)["spend"]; got != callCost {
		t.Errorf("spend after re-sending the duration %v", got)
	}
}

// Thresholds fire once per level per window, to OnEvent and to the webhook in LiteLLM's shape.
func TestThresholdEventsAndWebhook(t *testing.T) {
	var mu sync.Mutex
	var hooks []map[string]any
	got := make(chan struct{}, 100)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m map[string]any
		if r.Header.Get("Content-Type") != "application/json" || json.NewDecoder(r.Body).Decode(&m) != nil {
			w.WriteHeader(400)
			return
		}
		mu.Lock()
		hooks = append(hooks, m)
		mu.Unlock()
		got <- struct{}{}
	}))
	defer recv.Close()
	clk := newClock(time.Date(2026, 5, 10, 12, 0, 0, 0, time.UTC))
	soft := 3 * callCost
	e := newEnv(t, withClock(clk), withSettings(Settings{WebhookURL: recv.URL}))
	key, token := e.generate(fmt.Sprintf(`{"key_alias": "claw", "user_id": "ana", "max_budget": %v, "soft_budget": %v, "budget_duration": "1d"}`, 10*callCost, soft))
	for i := range 12 {
		r := e.chat(key, exactChat)
		if (i < 10) != (r.status == 200) {
			t.Fatalf("call %d: %d", i, r.status)
		}
	}
	th := e.events.of(EventThreshold, token)
	var levels []float64
	for _, ev := range th {
		levels = append(levels, ev.Level)
	}
	if fmt.Sprint(levels) != "[0.5 0.8 1]" {
		t.Errorf("threshold levels %v, want each of 0.5 0.8 1 once", levels)
	}
	if len(th) == 3 && (th[1].Spend != 8*callCost || th[1].Limit != 10*callCost || th[1].Alias != "claw" || !strings.Contains(th[1].Message, "80%")) {
		t.Errorf("80%% event: %+v", th[1])
	}
	if sb := e.events.of(EventSoftBudget, token); len(sb) != 1 || sb[0].Spend != soft {
		t.Errorf("soft budget events: %+v", sb)
	}
	if n := len(e.events.of(EventSpend, token)); n != 10 {
		t.Errorf("%d spend events, want 10", n)
	}
	// 4 webhook posts: soft budget, 50%, 80%, 100%.
	for range 4 {
		select {
		case <-got:
		case <-time.After(10 * time.Second):
			t.Fatal("webhook alerts did not arrive")
		}
	}
	mu.Lock()
	byEvent := map[string][]map[string]any{}
	for _, h := range hooks {
		byEvent[h["event"].(string)] = append(byEvent[h["event"].(string)], h)
	}
	mu.Unlock()
	if len(byEvent["threshold_crossed"]) != 2 || len(byEvent["budget_crossed"]) != 1 || len(byEvent["soft_budget_crossed"]) != 1 {
		t.Fatalf("webhook events: %v", byEvent)
	}
	b := byEvent["budget_crossed"][0]
	for f, v := range map[string]any{"spend": 10 * callCost, "max_budget": 10 * callCost, "soft_budget": soft, "token": token,
		"key_alias": "claw", "user_id": "ana", "event_group": "key", "team_id": nil, "customer_id": nil, "user_email": nil,
		"projected_exceeded_date": nil, "projected_spend": nil} {
		if b[f] != v {
			t.Errorf("webhook %s = %#v, want %#v", f, b[f], v)
		}
	}
	if m, _ := b["event_message"].(string); !strings.Contains(m, "claw") {
		t.Errorf("event_message %q", b["event_message"])
	}

	// A new window fires them again; a restart in the same window does not.
	e.restart()
	clk.Set(time.Date(2026, 5, 11, 0, 0, 0, 0, time.UTC))
	for range 6 {
		e.chat(key, exactChat)
	}
	th = e.events.of(EventThreshold, token)
	if len(th) != 4 || th[3].Level != 0.5 {
		t.Errorf("after the reset: %+v", th)
	}
}

// The proxy-wide budget (litellm_settings.max_budget) refuses every caller, the master key too,
// and a reloaded setting applies at once.
func TestGlobalBudget(t *testing.T) {
	limit := 2 * callCost
	e := newEnv(t, withSettings(Settings{MaxBudget: &limit}))
	key, _ := e.generate(`{}`)
	e.chat(key, exactChat)
	e.chat(masterKey, exactChat)
	er := e.chat(key, exactChat).errOf(t, 429)
	if er.Type != "budget_exceeded" || er.Details["budget"] != "global" ||
		er.Message != "The proxy reached its usage limit: the proxy-wide budget of $0.02 is spent; raise litellm_settings.max_budget to continue" {
		t.Errorf("global refusal: %+v", er)
	}
	e.chat(masterKey, exactChat).errOf(t, 429)
	if m := e.master("GET", "/global/spend", "").obj(t); m["spend"] != 2*callCost || m["max_budget"] != limit {
		t.Errorf("/global/spend: %v", m)
	}
	more := 3 * callCost
	e.l.SetSettings(Settings{MaxBudget: &more})
	if r := e.chat(key, exactChat); r.status != 200 {
		t.Errorf("after raising the budget: %d %s", r.status, r.body)
	}
	// The global spend is recomputed from the logs at start (master-key calls included).
	e.opts.Settings = Settings{MaxBudget: &more}
	e.restart()
	if m := e.master("GET", "/global/spend", "").obj(t); m["spend"] != 3*callCost {
		t.Errorf("/global/spend after restart: %v", m)
	}
	e.chat(key, exactChat).errOf(t, 429)
}

// The proxy-wide window persists, and a new budget_duration in the config starts a new window.
func TestGlobalWindowChange(t *testing.T) {
	clk := newClock(time.Now().UTC())
	day := budget.Duration{N: 1, Unit: budget.Day}
	limit := 100.0
	e := newEnv(t, withClock(clk), withSettings(Settings{MaxBudget: &limit, BudgetDuration: &day}))
	e.chat(masterKey, exactChat)
	e.flush()
	_, _, reset := e.l.GlobalSpend()
	if reset == nil || !reset.Equal(budget.NextReset(day, clk.Now(), time.UTC)) {
		t.Fatalf("global reset %v", reset)
	}
	e.restart()
	if s, _, _ := e.l.GlobalSpend(); s != callCost {
		t.Errorf("spend after restart %v", s)
	}
	month := budget.Duration{N: 1, Unit: budget.Month}
	e.opts.Settings = Settings{MaxBudget: &limit, BudgetDuration: &month}
	clk.Set(time.Now().Add(time.Second)) // after the logged call
	e.restart()
	if s, _, _ := e.l.GlobalSpend(); s != 0 {
		t.Errorf("a new duration carried spend %v", s)
	}
	e.l.SetSettings(Settings{MaxBudget: &limit, BudgetDuration: &day})
	if ev := e.events.of(EventReset, GlobalBudget); len(ev) == 0 {
		t.Errorf("no reset event for the global budget")
	}
}

// 200 parallel requests against a key with room for exactly 10. The "exact" model's expected
// cost is exactly its real cost (no input price, max_tokens 10 caps the output estimate at the
// 10 tokens the upstream returns), so no call costs more than it reserved: spend + reserved
// never passes the limit, exactly 10 are admitted, every refusal comes with spend + reserved
// at the limit, each admitted request is logged once, and memory, the key and the logs agree.
func TestConcurrentRequestsAgainstABudget(t *testing.T) {
	e := newEnv(t, withUpstreamDelay(time.Millisecond))
	const outCost = 10.0 / 1024 // exact-out: output only, so the reservation equals the cost
	limit := 10 * outCost
	key, token := e.generate(fmt.Sprintf(`{"max_budget": %v}`, limit))
	body := `{"model":"exact-out","max_tokens":10,"stream":true,"messages":[{"role":"user","content":"hi"}]}`
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		admitted = map[string]bool{}
		refused  int
	)
	start := make(chan struct{})
	for range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			req, _ := http.NewRequest("POST", e.srv.URL+"/v1/chat/completions", strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+key)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			switch resp.StatusCode {
			case 200:
				id := between(string(b), `"id":"`, `"`)
				if id == "" || admitted[id] {
					t.Errorf("stream without a fresh id: %q", b)
				}
				admitted[id] = true
			case 429:
				var env struct{ Error apiErr }
				if json.Unmarshal(b, &env) != nil || env.Error.Type != "budget_exceeded" {
					t.Errorf("429 not for the budget: %s", b)
					return
				}
				d := env.Error.Details
				if s, r := d["spend"].(float64), d["reserved"].(float64); s+r < limit {
					t.Errorf("refused with spend %v + reserved %v below the limit %v", s, r, limit)
				}
				refused++
			default:
				t.Errorf("status %d: %s", resp.StatusCode, b)
			}
		}()
	}
	// While requests are in flight, spend plus what they hold never passes the limit.
	stop := make(chan struct{})
	sampled := make(chan int)
	go func() {
		n := 0
		for {
			select {
			case <-stop:
				sampled <- n
				return
			default:
			}
			spend, reserved, _ := e.l.bl.Spend(token)
			if spend+reserved > limit {
				t.Errorf("spend %v + in flight %v > limit %v", spend, reserved, limit)
			}
			n++
			runtime.Gosched()
		}
	}()
	close(start)
	wg.Wait()
	close(stop)
	t.Logf("%d samples of spend in flight", <-sampled)
	if len(admitted) != 10 || refused != 190 {
		t.Fatalf("%d admitted, %d refused; want 10 and 190", len(admitted), refused)
	}
	spend, reserved, _ := e.l.bl.Spend(token)
	if spend != limit || reserved != 0 {
		t.Errorf("spend %v (limit %v), %v still reserved", spend, limit, reserved)
	}
	e.flush()
	rows, _, err := e.l.Store().QuerySpendLogs(context.Background(), store.SpendQuery{APIKey: token})
	if err != nil {
		t.Fatal(err)
	}
	sum, served, refusals := 0.0, 0, 0
	for _, r := range rows {
		if r.Status == store.StatusFailure {
			refusals += metaCount(r)
			continue
		}
		served++
		if !admitted[r.ResponseID] {
			t.Errorf("row %s (response %s) is not an admitted request", r.RequestID, r.ResponseID)
		}
		sum += r.Spend
	}
	if served != len(admitted) || refusals != refused {
		t.Errorf("%d success rows for %d admitted, refusal rows count %d for %d refused", served, len(admitted), refusals, refused)
	}
	if len(rows)-served > 3 {
		t.Errorf("%d refusal rows for one key's identical refusals within a second", len(rows)-served)
	}
	k, _ := e.l.Store().GetKey(context.Background(), token)
	if !near(sum, spend) || !near(k.Spend, spend) {
		t.Errorf("logs %v, key row %v, memory %v", sum, k.Spend, spend)
	}
	if e.up.Requests() != len(admitted) {
		t.Errorf("upstream saw %d, admitted %d", e.up.Requests(), len(admitted))
	}
}

// metaCount is how many refusals a row stands for.
func metaCount(r store.SpendLog) int {
	switch n := r.Metadata["count"].(type) {
	case float64:
		return int(n)
	case int:
		return n
	case int64:
		return int(n)
	}
	return 1
}

func between(s, a, b string) string {
	_, rest, ok := strings.Cut(s, a)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, b)
	return v
}

// Calendar resets follow litellm_settings.timezone, across a DST change.
func TestResetInTimeZone(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	// 00:30 on Sunday 29 March 2026 in Berlin, the night clocks go from CET to CEST.
	clk := newClock(time.Date(2026, 3, 28, 23, 30, 0, 0, time.UTC))
	e := newEnv(t, withClock(clk), withSettings(Settings{Location: berlin}))
	for d, want := range map[string]string{
		"daily":   "2026-03-29T22:00:00Z", // Berlin midnight, now CEST (UTC+2)
		"weekly":  "2026-03-29T22:00:00Z", // Monday 30 March
		"monthly": "2026-03-31T22:00:00Z", // 1 April
		"2h":      "2026-03-29T01:30:00Z", // sub-day windows roll from now
	} {
		key, _ := e.generate(`{"budget_duration": "` + d + `"}`)
		if got := e.info(key)["budget_reset_at"]; got != want {
			t.Errorf("%s: budget_reset_at %v, want %s", d, got, want)
		}
	}
}
