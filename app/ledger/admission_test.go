package ledger

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clawgate/clawgate/app/store"
	"github.com/clawgate/clawgate/proxy"
)

// agentUpstream is an OpenAI-compatible upstream whose answers are as long as an agent's: most
// a few hundred tokens, about 1 in 20 near 30,000. The n-th request gets the n-th length of a
// seeded sequence, so a run's lengths do not depend on timing. It streams as OpenAI does with
// include_usage (a content chunk, the finish chunk, the usage chunk, [DONE]), reports the
// prompt at 4 bytes a token, and takes longer for longer answers.
type agentUpstream struct {
	seq atomic.Uint64
}

// outputTokens is the n-th answer's length.
func outputTokens(n uint64) int {
	r := rand.New(rand.NewPCG(20261207, n))
	if r.IntN(20) == 0 {
		return 28_000 + r.IntN(4_000)
	}
	return 100 + r.IntN(500)
}

func (u *agentUpstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	n := u.seq.Add(1)
	out := outputTokens(n)
	time.Sleep(200*time.Microsecond + time.Duration(out)*50*time.Nanosecond)
	id := fmt.Sprintf("chatcmpl-agent%d", n)
	w.Header().Set("Content-Type", "text/event-stream")
	chunk := func(s string) { fmt.Fprintf(w, "data: %s\n\n", s) }
	head := `{"id":"` + id + `","object":"chat.completion.chunk","created":1796600000,"model":"agent-model",`
	chunk(head + `"choices":[{"index":0,"delta":{"role":"assistant","content":"done"},"finish_reason":null}]}`)
	chunk(head + `"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}`)
	prompt := len(body) / 4
	chunk(head + `"choices":[],"usage":{"prompt_tokens":` + strconv.Itoa(prompt) + `,"completion_tokens":` + strconv.Itoa(out) +
		`,"total_tokens":` + strconv.Itoa(prompt+out) + `}}`)
	chunk("[DONE]")
}

// agentBody is a turn of an agent: a long system prompt, streamed, no max_tokens.
var agentBody = func() string {
	system := strings.Repeat("You are a careful coding agent. Read files before editing them. ", 120)
	b, _ := json.Marshal(map[string]any{"model": "tail", "stream": true, "stream_options": map[string]any{"include_usage": true},
		"messages": []map[string]any{{"role": "system", "content": system}, {"role": "user", "content": "Fix the failing test."}}})
	return string(b)
}()

// run is one load against a budget: workers send agent turns until each is refused once.
type run struct {
	served         int
	refused        int
	refusedEarly   int // refusals while settled spend was below the limit
	spend, limit   float64
	overshootShare float64
}

// maxTurns bounds a load: a $10 budget takes about 550 of these turns.
const maxTurns = 5500

func loadBudget(t *testing.T, workers int, limit float64) run {
	t.Helper()
	e := newEnv(t, withUpstream(&agentUpstream{}))
	key, token := e.generate(fmt.Sprintf(`{"key_alias": "agent", "max_budget": %v}`, limit))
	var (
		mu  sync.Mutex
		res = run{limit: limit}
		wg  sync.WaitGroup
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				req, _ := http.NewRequest("POST", e.srv.URL+"/v1/chat/completions", strings.NewReader(agentBody))
				req.Header.Set("Authorization", "Bearer "+key)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				b, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				switch resp.StatusCode {
				case 200:
					if !strings.Contains(string(b), "data: [DONE]") {
						t.Errorf("stream not finished: %s", b)
					}
					res.served++
					// About 550 turns spend the budget: ten times that means spend is not counted.
					if res.served > maxTurns {
						if res.served == maxTurns+1 {
							t.Errorf("%d turns served and the $%v budget never refused one: spend is not being counted", res.served, limit)
						}
						mu.Unlock()
						return
					}
					mu.Unlock()
					continue
				case 429:
					var env struct{ Error apiErr }
					if json.Unmarshal(b, &env) != nil || env.Error.Type != "budget_exceeded" {
						t.Errorf("429 not for the budget: %s", b)
					} else if s := env.Error.Details["spend"].(float64); s < limit {
						res.refusedEarly++
						if s+env.Error.Details["reserved"].(float64) < limit {
							t.Errorf("refused with spend %v + reserved %v below the limit %v", s, env.Error.Details["reserved"], limit)
						}
					}
					res.refused++
				default:
					t.Errorf("status %d: %s", resp.StatusCode, b)
				}
				mu.Unlock()
				return // a refused agent stops, as x-should-retry: false tells it to
			}
		}()
	}
	wg.Wait()
	spend, reserved, _ := e.l.bl.Spend(token)
	if reserved != 0 {
		t.Errorf("%v still reserved after every request ended", reserved)
	}
	res.spend = spend
	res.overshootShare = (spend - limit) / limit
	return res
}

// The numbers issue 9 sets for admission by expected cost, against answers with an agent's
// heavy tail: a single agent is never refused before its budget is spent; eight in parallel
// overshoot it by at most 10%; at 64 the overshoot is measured and printed (the README quotes it).
func TestAdmissionOvershoot(t *testing.T) {
	const limit = 10.0
	// The dearest single answer: 32,000 tokens of output and the prompt.
	maxCall := 32_000*0.00001 + float64(len(agentBody))/4*0.0000025
	t.Run("concurrency 1", func(t *testing.T) {
		r := loadBudget(t, 1, limit)
		t.Logf("served %d, refused %d, spend $%.4f of $%.2f: overshoot %.2f%%", r.served, r.refused, r.spend, limit, 100*r.overshootShare)
		if r.refusedEarly != 0 || r.refused != 1 || r.spend < limit {
			t.Errorf("refused before the limit: %+v", r)
		}
		if r.spend-limit > maxCall {
			t.Errorf("overshoot $%v is more than the last call can cost ($%v)", r.spend-limit, maxCall)
		}
	})
	t.Run("concurrency 8", func(t *testing.T) {
		r := loadBudget(t, 8, limit)
		t.Logf("served %d, refused %d (%d before spend reached the limit), spend $%.4f of $%.2f: overshoot %.2f%%",
			r.served, r.refused, r.refusedEarly, r.spend, limit, 100*r.overshootShare)
		if r.overshootShare > 0.10 {
			t.Errorf("overshoot %.1f%% > 10%% of the limit", 100*r.overshootShare)
		}
		if r.spend < limit-8*maxCall {
			t.Errorf("spend $%v: refused far below the limit", r.spend)
		}
	})
	t.Run("concurrency 64", func(t *testing.T) {
		r := loadBudget(t, 64, limit)
		// Printed for the README; the bound asserted is the invariant's: what 64 requests in
		// flight can cost beyond their reservations, at most 64 of the dearest answers.
		fmt.Printf("admission overshoot at concurrency 64: %.1f%% of a $%.0f budget (served %d, spend $%.2f, %d refused before spend reached the limit)\n",
			100*r.overshootShare, limit, r.served, r.spend, r.refusedEarly)
		if r.spend-limit > 64*maxCall {
			t.Errorf("overshoot $%v beyond 64 in-flight calls", r.spend-limit)
		}

	})
}

// Requests in flight hold their expected cost: a request is refused once what is spent and held
// reaches the limit, even with nothing spent yet, never for its own size; the first refusal
// raises the 100% alert and "exhausted" once, and the refusals are one counted failure row.
func TestInFlightHoldsAndExhausted(t *testing.T) {
	clk := newClock(time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC))
	e := newEnv(t, withClock(clk))
	key, token := e.generate(`{"key_alias": "openclaw", "max_budget": 1, "budget_duration": "daily"}`)
	p := &proxy.Principal{KeyHash: token}
	a1, err := e.l.Admit(t.Context(), p, "exact", 0.6, 1)
	if err != nil {
		t.Fatal(err)
	}
	a2, err := e.l.Admit(t.Context(), p, "exact", 5, 1) // larger than what is left: admitted
	if err != nil {
		t.Fatalf("refused for its own size with 0.4 left: %v", err)
	}
	for range 3 {
		r := e.chat(key, exactChat)
		er := r.errOf(t, 429)
		want := "openclaw reached its usage limit: the daily budget of $1.00 is used up ($0 spent, $5.60 held by requests in flight); it resets at 00:00 UTC"
		if er.Message != want {
			t.Errorf("message %q\nwant    %q", er.Message, want)
		}
		if r.header.Get("X-Should-Retry") != "false" || r.header.Get("Retry-After") != "43200" {
			t.Errorf("headers: %v", r.header)
		}
	}
	// Anthropic's API answers the same refusal with the same headers (Claude Code obeys them).
	r := e.do("POST", "/v1/messages", key, `{"model":"exact","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}`)
	if r.status != 429 || r.header.Get("X-Should-Retry") != "false" || !strings.Contains(string(r.body), "usage limit") {
		t.Errorf("/v1/messages refusal: %d %v %s", r.status, r.header, r.body)
	}
	th, ex := e.events.of(EventThreshold, token), e.events.of(EventExhausted, token)
	if len(th) != 1 || th[0].Level != 1 || th[0].Spend != 0 || len(ex) != 1 || !strings.Contains(ex[0].Message, "usage limit") {
		t.Errorf("threshold events %+v, exhausted events %+v: want one of each at the first refusal", th, ex)
	}
	a1.Done(nil)
	a2.Done(nil)
	if r := e.chat(key, exactChat); r.status != 200 {
		t.Fatalf("after the holds ended: %d %s", r.status, r.body)
	}
	e.flush()
	rows, _, err := e.l.Store().QuerySpendLogs(t.Context(), store.SpendQuery{APIKey: token})
	if err != nil {
		t.Fatal(err)
	}
	var failures []string
	for _, r := range rows {
		if r.Status == "failure" {
			failures = append(failures, fmt.Sprintf("%s %s %v %v %d", r.ModelGroup, r.KeyAlias, r.Metadata["refusal"], r.Metadata["status_code"], metaCount(r)))
		}
	}
	if fmt.Sprint(failures) != "[exact openclaw budget_exceeded 429 4]" {
		t.Errorf("refusal rows %q, want one row counting 4", failures)
	}
	// Spend reaching 100% later in the same window does not alert again; a new window does.
	if n := len(e.events.of(EventThreshold, token)); n != 1 {
		t.Errorf("%d threshold events", n)
	}
	clk.Set(time.Date(2026, 6, 2, 0, 0, 0, 0, time.UTC))
	a3, _ := e.l.Admit(t.Context(), p, "exact", 2, 1)
	e.chat(key, exactChat).errOf(t, 429)
	a3.Done(nil)
	if n := len(e.events.of(EventExhausted, token)); n != 2 {
		t.Errorf("%d exhausted events after a new window's first refusal, want 2", n)
	}
}

// Issue 9's OpenClaw scenario: a $1 daily budget serves a client that sends max_tokens 64000
// for a Claude model (its worst case alone is $0.96), and a $0.05 key calls gpt-4o with no
// max_tokens (16,384 tokens of output would be $0.16).
func TestOpenClawBudgetScenario(t *testing.T) {
	e := newEnv(t)
	claw, _ := e.generate(`{"key_alias": "openclaw", "max_budget": 1, "budget_duration": "daily"}`)
	// OpenClaw's turns carry ~14,000 tokens of system prompt and tools.
	system := strings.Repeat("Use the tools to read and edit files; report what you changed. ", 880)
	turn := `{"model":"claude-sonnet","max_tokens":64000,"stream":true,"stream_options":{"include_usage":true},` +
		`"messages":[{"role":"system","content":"` + system + `"},{"role":"user","content":"hi"}]}`
	for i := range 5 {
		r := e.chat(claw, turn)
		if r.status != 200 {
			t.Fatalf("turn %d: %d %s", i, r.status, r.body)
		}
	}
	small, _ := e.generate(`{"max_budget": 0.05}`)
	for i := range 3 {
		if r := e.chat(small, `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`); r.status != 200 {
			t.Fatalf("gpt-4o call %d on $0.05: %d %s", i, r.status, r.body)
		}
	}
}

// Every refusal is a failure row naming the key, the model and the reason: a model the key may
// not use, a rate limit, a blocked key (refused before its body is read, so without a model).
func TestRefusalsAreLogged(t *testing.T) {
	clk := newClock(time.Now())
	e := newEnv(t, withClock(clk))
	key, token := e.generate(`{"key_alias": "scoped", "models": ["exact"], "rpm_limit": 1}`)
	e.chat(key, `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}`).errOf(t, 403)
	e.chat(key, exactChat)
	e.chat(key, exactChat).errOf(t, 429)
	if r := e.master("POST", "/key/block", `{"key": "`+key+`"}`); r.status != 200 {
		t.Fatal(r.status)
	}
	e.chat(key, exactChat).errOf(t, 401)
	e.chat(key, exactChat).errOf(t, 401)
	e.flush()
	rows, _, err := e.l.Store().QuerySpendLogs(t.Context(), store.SpendQuery{APIKey: token, Status: "failure"})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range rows {
		kind, _ := r.Metadata["refusal"].(string)
		got[kind] = fmt.Sprintf("%s|%s|%v|%d|%t", r.ModelGroup, r.KeyAlias, r.Metadata["status_code"], metaCount(r), r.Error != "")
	}
	want := map[string]string{
		"key_model_access_denied": "gpt-4o-mini|scoped|403|1|true",
		"rate_limit_error":        "exact|scoped|429|1|true",
		"key_blocked":             "|scoped|401|2|true",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("refusal rows\n got %v\nwant %v", got, want)
	}
	short, shortToken := e.generate(`{"key_alias": "short", "duration": "1h"}`)
	clk.Set(clk.Now().Add(2 * time.Hour))
	e.chat(short, exactChat).errOf(t, 401)
	e.flush()
	rows, _, err = e.l.Store().QuerySpendLogs(t.Context(), store.SpendQuery{APIKey: shortToken, Status: "failure"})
	if err != nil || len(rows) != 1 || rows[0].Metadata["refusal"] != "key_expired" || !strings.Contains(rows[0].Error, "Expired") {
		t.Errorf("expired key's refusal rows %+v, %v", rows, err)
	}
}
