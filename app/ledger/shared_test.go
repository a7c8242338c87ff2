package ledger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clawgate/clawgate/app/budget"
	"github.com/clawgate/clawgate/app/store"
	"github.com/clawgate/clawgate/proxy"
)

// The shared-mode tests run several ledgers on one database, standing in for gateways on
// several machines. Each test body takes a replicaOpener, so the same body runs on every engine
// the store supports: SQLite here (one file, as gateways sharing a data folder), PostgreSQL where
// a database URL is given.

// replicaOpener opens one more gateway's ledger on the test's database.
type replicaOpener func(t *testing.T, o Options) *Ledger

// sqliteReplicas opens ledgers on one SQLite file in a temporary folder.
func sqliteReplicas(t *testing.T) replicaOpener {
	dir := t.TempDir()
	return func(t *testing.T, o Options) *Ledger {
		o.DataDir = dir
		return openReplica(t, o)
	}
}

// openReplica opens a shared-mode ledger, closed when the test ends.
func openReplica(t *testing.T, o Options) *Ledger {
	t.Helper()
	o.Shared = true
	if o.FlushInterval == 0 {
		o.FlushInterval = 20 * time.Millisecond
	}
	l, err := Open(context.Background(), o)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := l.Close(context.Background()); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return l
}

// replicas is n gateways on one database sharing a clock, their events in one list.
type replicas struct {
	t      *testing.T
	ls     []*Ledger
	clock  *clock
	events *events
	key    store.Key
	p      *proxy.Principal
	calls  atomic.Int64
}

// newReplicas makes a key with q on the first gateway, then opens the others (which load it).
func newReplicas(t *testing.T, open replicaOpener, n int, q KeyRequest, s Settings) *replicas {
	t.Helper()
	r := &replicas{t: t, clock: newClock(time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)), events: &events{}}
	o := Options{Now: r.clock.Now, OnEvent: r.events.add, Settings: s}
	r.ls = append(r.ls, open(t, o))
	_, k, err := r.ls[0].GenerateKey(context.Background(), q)
	if err != nil {
		t.Fatalf("GenerateKey: %v", err)
	}
	r.key, r.p = k, &proxy.Principal{KeyHash: k.Token, KeyAlias: k.KeyAlias}
	for len(r.ls) < n {
		r.ls = append(r.ls, open(t, o))
	}
	return r
}

// admit asks gateway i to admit a request expected to cost expected.
func (r *replicas) admit(i int, expected float64) (proxy.Admission, error) {
	return r.ls[i].Admit(context.Background(), r.p, "exact", expected, 100)
}

// usage is a priced request's usage that cost cost.
func (r *replicas) usage(cost float64) *proxy.Usage {
	now := r.clock.Now()
	return &proxy.Usage{CallID: fmt.Sprintf("call-%d", r.calls.Add(1)), CallType: "acompletion", Principal: r.p,
		Model: "gpt-4o-mini", ModelGroup: "exact", PromptTokens: 19, CompletionTokens: 10, UsageKnown: true,
		Cost: cost, Priced: true, Start: now, End: now, Status: 200}
}

func (r *replicas) flush() {
	r.t.Helper()
	for _, l := range r.ls {
		if err := l.Flush(context.Background()); err != nil {
			r.t.Fatal(err)
		}
	}
}

// burst sends n requests at once, request i to gateway i%3, each expected to cost unit and
// costing cost(i), and returns how many were admitted, what they spent, and the refusals.
func (r *replicas) burst(n int, cost func(i int) float64) (admitted int64, spent float64, refusals []error) {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		start = make(chan struct{})
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			a, err := r.admit(i%len(r.ls), unit)
			if err != nil {
				mu.Lock()
				refusals = append(refusals, err)
				mu.Unlock()
				return
			}
			runtime.Gosched() // let others in while this one is in flight
			c := cost(i)
			mu.Lock()
			admitted, spent = admitted+1, spent+c
			mu.Unlock()
			a.Done(r.usage(c))
		}()
	}
	close(start)
	wg.Wait()
	return admitted, spent, refusals
}

func each(unit float64) func(int) float64 { return func(int) float64 { return unit } }

// budget reads a shared budget's row as the database holds it.
func (r *replicas) budget(id string) store.BudgetState {
	r.t.Helper()
	b, err := r.ls[0].Store().GetBudget(context.Background(), id, r.clock.Now())
	if err != nil {
		r.t.Fatalf("budget %s: %v", id, err)
	}
	return b
}

func refusedWith(err error, kind string) bool {
	var be *budgetExceeded
	var rl *rateLimited
	switch kind {
	case "budget":
		return errors.As(err, &be)
	case "rate":
		return errors.As(err, &rl)
	}
	return false
}

const unit = 0.01 // a request's expected cost in these tests

func TestSharedOvershoot(t *testing.T) { testSharedOvershoot(t, sqliteReplicas) }

// 200 requests at once on three gateways against a budget with room for 10 (a key's, then the
// proxy-wide one): spend stays within 15% of the limit, every admitted request is logged once and
// counted once (in the budget, the key's spend and the logs alike). replicasOn gives each case a
// database of its own.
func testSharedOvershoot(t *testing.T, replicasOn func(*testing.T) replicaOpener) {
	limit := 10 * unit
	for _, tc := range []struct {
		name   string
		key    KeyRequest
		proxy  Settings
		budget string // "": the key's
	}{
		{"key", KeyRequest{MaxBudget: &limit}, Settings{}, ""},
		{"proxy", KeyRequest{}, Settings{MaxBudget: &limit}, GlobalBudget},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newReplicas(t, replicasOn(t), 3, tc.key, tc.proxy)
			if tc.budget == "" {
				tc.budget = r.key.Token
			}
			overshoot(t, r, limit, tc.budget)
		})
	}
}

func overshoot(t *testing.T, r *replicas, limit float64, id string) {
	// Real costs scatter around the estimate, from 10% under it to 4% over it. One process's gate
	// would then stop within 14% of the limit, whatever the timing: the 11th request is admitted
	// once a settled one cost less than it held, and holds 1 more; a 12th needs 11 settled at 0.909
	// on average, after which 12 cost at most 11 × 0.909 + 1.04; a 13th would need more than 11 × 0.1
	// saved.
	n, total, refusals := r.burst(200, func(i int) float64 { return unit * (0.9 + 0.14*rand.New(rand.NewPCG(uint64(i), 7)).Float64()) })
	for _, err := range refusals {
		if !refusedWith(err, "budget") {
			t.Errorf("refusal %v, want the budget's", err)
		}
	}
	r.flush()
	over := (total - limit) / limit
	t.Logf("admitted %d of 200, spend %.4f against %.4f: %.1f%% over", n, total, limit, 100*over)
	if n < 10 {
		t.Errorf("admitted %d, want at least the 10 the budget has room for", n)
	}
	if over > 0.15 {
		t.Errorf("spend %.4f is %.1f%% over the limit %.4f, want at most 15%%", total, 100*over, limit)
	}
	b := r.budget(id)
	logs, count, err := r.ls[0].Store().QuerySpendLogs(context.Background(), store.SpendQuery{APIKey: r.key.Token})
	if err != nil {
		t.Fatal(err)
	}
	var logged float64
	for _, l := range logs {
		logged += l.Spend
	}
	k, err := r.ls[0].Store().GetKey(context.Background(), r.key.Token)
	if err != nil {
		t.Fatal(err)
	}
	if int64(count) != n {
		t.Errorf("%d rows logged, want one per admitted request (%d)", count, n)
	}
	for what, got := range map[string]float64{"budget row": b.Spend, "logs": logged, "key spend": k.Spend} {
		if d := got - total; d > 1e-9 || d < -1e-9 {
			t.Errorf("%s holds %.6f, want the settled spend %.6f", what, got, total)
		}
	}
	if b.Held != 0 {
		t.Errorf("%.4f still held after every request ended", b.Held)
	}
}

func TestSharedHoldsExpire(t *testing.T) { testSharedHoldsExpire(t, sqliteReplicas(t)) }

// A gateway killed with requests in flight holds their room only until the holds' lease ends;
// a live gateway's holds are renewed and keep counting.
func testSharedHoldsExpire(t *testing.T, open replicaOpener) {
	limit := 3 * unit
	r := newReplicas(t, open, 3, KeyRequest{MaxBudget: &limit}, Settings{})
	for range 2 {
		if _, err := r.admit(0, unit); err != nil { // left in flight
			t.Fatal(err)
		}
	}
	if _, err := r.admit(2, unit); err != nil { // in flight on a gateway that lives on
		t.Fatal(err)
	}
	r.ls[0].shared.halt() // killed: it never settles nor renews again
	if _, err := r.admit(1, unit); !refusedWith(err, "budget") {
		t.Fatalf("while the dead gateway's holds are live: %v, want a budget refusal", err)
	}
	r.clock.Set(r.clock.Now().Add(holdLease / 2))
	r.ls[2].shared.renewOnce()
	r.clock.Set(r.clock.Now().Add(holdLease/2 + time.Second))
	for i := range 2 { // the dead gateway's room, two requests' worth
		a, err := r.admit(1, unit)
		if err != nil {
			t.Fatalf("request %d after the dead gateway's lease ended: %v", i, err)
		}
		defer a.Done(nil)
	}
	if _, err := r.admit(1, unit); !refusedWith(err, "budget") {
		t.Fatalf("the live gateway's renewed hold still counts: got %v, want a budget refusal", err)
	}
}

func TestSharedResetOnce(t *testing.T) { testSharedResetOnce(t, sqliteReplicas(t)) }

// A window that ends is rolled once across three gateways, a key's and the proxy-wide one: one
// EventReset each, spend 0 in the new window in the budget (and on the key, and the proxy's
// stored window), the reset time moved by one window.
func testSharedResetOnce(t *testing.T, open replicaOpener) {
	ctx := context.Background()
	limit, dur := 100*unit, "1h"
	hour := mustDuration(t, dur)
	r := newReplicas(t, open, 3, KeyRequest{MaxBudget: &limit, BudgetDuration: &dur}, Settings{MaxBudget: &limit, BudgetDuration: &hour})
	if _, _, refusals := r.burst(3, each(unit)); len(refusals) > 0 {
		t.Fatal(refusals)
	}
	before := r.budget(r.key.Token)
	if before.ResetAt == nil || !near(before.Spend, 3*unit) {
		t.Fatalf("before the reset: %+v", before)
	}
	r.clock.Set(before.ResetAt.Add(time.Second))
	if _, _, refusals := r.burst(30, each(unit)); len(refusals) > 0 {
		t.Fatal(refusals)
	}
	for _, id := range []string{r.key.Token, GlobalBudget} {
		resets := r.events.of(EventReset, id)
		if len(resets) != 1 {
			t.Fatalf("%s: %d reset events across three gateways, want 1: %+v", id, len(resets), resets)
		}
		if !near(resets[0].Spend, 3*unit) {
			t.Errorf("%s: the reset reports %.4f spent in the ended window, want %.4f", id, resets[0].Spend, 3*unit)
		}
		after := r.budget(id)
		if want := before.ResetAt.Add(time.Hour); after.ResetAt == nil || !after.ResetAt.Equal(want) {
			t.Errorf("%s: reset time %v, want %v", id, after.ResetAt, want)
		}
		if !near(after.Spend, 30*unit) {
			t.Errorf("%s: new window spend %.4f, want %.4f", id, after.Spend, 30*unit)
		}
	}
	r.flush()
	k, err := r.ls[0].Store().GetKey(ctx, r.key.Token)
	if err != nil {
		t.Fatal(err)
	}
	if !near(k.Spend, 30*unit) || k.SpendSince == nil || !k.SpendSince.Equal(*before.ResetAt) {
		t.Errorf("key spend %.4f since %v, want %.4f since %v", k.Spend, k.SpendSince, 30*unit, before.ResetAt)
	}
	raw, _, err := r.ls[0].Store().GetSetting(ctx, globalSetting)
	if err != nil {
		t.Fatal(err)
	}
	var gs globalState
	if err := json.Unmarshal([]byte(raw), &gs); err != nil || !gs.Since.Equal(*before.ResetAt) {
		t.Errorf("stored proxy window %s (%v), want it to start at %v", raw, err, before.ResetAt)
	}
}

func TestSharedThresholdOnce(t *testing.T) { testSharedThresholdOnce(t, sqliteReplicas(t)) }

// Each alert level, and the first refusal, fires once across three gateways.
func testSharedThresholdOnce(t *testing.T, open replicaOpener) {
	limit := 10 * unit
	r := newReplicas(t, open, 3, KeyRequest{MaxBudget: &limit}, Settings{})
	if _, _, refusals := r.burst(60, each(unit)); len(refusals) < 3 {
		t.Fatalf("%d refusals: the test needs the budget refused on several gateways", len(refusals))
	}
	levels := map[float64]int{}
	for _, ev := range r.events.of(EventThreshold, r.key.Token) {
		levels[ev.Level]++
	}
	for _, lv := range []float64{0.5, 0.8, 1} {
		if levels[lv] != 1 {
			t.Errorf("the %g alert fired %d times across three gateways, want once (all: %v)", lv, levels[lv], levels)
		}
	}
	if n := len(r.events.of(EventExhausted, r.key.Token)); n != 1 {
		t.Errorf("%d exhausted events, want 1", n)
	}
}

func TestSharedRPM(t *testing.T) { testSharedRPM(t, sqliteReplicas(t)) }

// rpm_limit N across three gateways admits N requests a minute window, refusing the rest with
// the rate limit's 429.
func testSharedRPM(t *testing.T, open replicaOpener) {
	rpm := int64(5)
	r := newReplicas(t, open, 3, KeyRequest{RPMLimit: &rpm}, Settings{})
	burst := func() (admitted int64, msg string) {
		n, _, refusals := r.burst(30, each(unit))
		for _, err := range refusals {
			if !refusedWith(err, "rate") {
				t.Errorf("refusal %v, want a rate limit", err)
			}
			msg = err.Error()
		}
		return n, msg
	}
	n, msg := burst()
	if n != rpm {
		t.Errorf("admitted %d in a minute across three gateways, want %d", n, rpm)
	}
	if want := "rpm_limit is 5 requests a minute and 5 were made in the last minute"; !strings.Contains(msg, want) {
		t.Errorf("refusal %q, want it to say %q", msg, want)
	}
	now := r.clock.Now()
	r.clock.Set(now.Truncate(time.Minute).Add(time.Minute))
	if n, _ := burst(); n != rpm {
		t.Errorf("admitted %d in the next minute, want %d", n, rpm)
	}
}

func TestSharedParallel(t *testing.T) { testSharedParallel(t, sqliteReplicas(t)) }

// max_parallel_requests holds across gateways: the third request in flight is refused until one ends.
func testSharedParallel(t *testing.T, open replicaOpener) {
	par := int64(2)
	r := newReplicas(t, open, 3, KeyRequest{MaxParallelRequests: &par}, Settings{})
	a, err := r.admit(0, unit)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.admit(1, unit); err != nil {
		t.Fatal(err)
	}
	_, err = r.admit(2, unit)
	if !refusedWith(err, "rate") || !strings.Contains(err.Error(), "max_parallel_requests is 2 and 2 are in flight") {
		t.Fatalf("third request in flight: %v, want max_parallel_requests refused", err)
	}
	a.Done(r.usage(unit))
	if _, err := r.admit(2, unit); err != nil {
		t.Fatalf("after one ended: %v", err)
	}
}

func TestSharedRestartOnce(t *testing.T) { testSharedRestartOnce(t, sqliteReplicas(t)) }

// A new budget_duration starts a new window once: a key's changed on one gateway, the proxy-wide
// one changed by a config every gateway reloads.
func testSharedRestartOnce(t *testing.T, open replicaOpener) {
	ctx := context.Background()
	limit, hour, day := 100*unit, "1h", "1d"
	r := newReplicas(t, open, 3, KeyRequest{MaxBudget: &limit, BudgetDuration: &hour}, Settings{})
	if _, _, refusals := r.burst(3, each(unit)); len(refusals) > 0 {
		t.Fatal(refusals)
	}
	if _, err := r.ls[0].UpdateKey(ctx, r.key.Token, KeyRequest{BudgetDuration: &day}); err != nil {
		t.Fatal(err)
	}
	d := mustDuration(t, day)
	for _, l := range r.ls {
		l.SetSettings(Settings{BudgetDuration: &d})
	}
	if _, _, refusals := r.burst(30, each(unit)); len(refusals) > 0 {
		t.Fatal(refusals)
	}
	midnight := time.Date(2026, 12, 8, 0, 0, 0, 0, time.UTC)
	for _, id := range []string{r.key.Token, GlobalBudget} {
		if n := len(r.events.of(EventReset, id)); n != 1 {
			t.Errorf("%s: %d reset events, want 1", id, n)
		}
		b := r.budget(id)
		if b.Duration != "1d" || b.ResetAt == nil || !b.ResetAt.Equal(midnight) || !near(b.Spend, 30*unit) {
			t.Errorf("%s after the change: %s window to %v with %.4f spent, want 1d to %v with %.4f", id, b.Duration, b.ResetAt,
				b.Spend, midnight, 30*unit)
		}
	}
}

func TestSharedRegenerateInFlight(t *testing.T) { testSharedRegenerateInFlight(t, sqliteReplicas(t)) }

// A request in flight while its key is regenerated settles on the key under its new token,
// whether the regenerate went through its own gateway or through another one it has not heard
// from yet (then the database maps the old token to the new one).
func testSharedRegenerateInFlight(t *testing.T, open replicaOpener) {
	for _, tc := range []struct {
		name  string
		admit int // the gateway serving the request; ls[1] regenerates
	}{{"same gateway", 1}, {"another gateway", 0}} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			limit := 100 * unit
			r := newReplicas(t, open, 2, KeyRequest{MaxBudget: &limit}, Settings{})
			a, err := r.admit(tc.admit, unit)
			if err != nil {
				t.Fatal(err)
			}
			_, k, err := r.ls[1].RegenerateKey(ctx, r.key.Token, KeyRequest{})
			if err != nil {
				t.Fatal(err)
			}
			a.Done(r.usage(2 * unit))
			r.flush()
			if b := r.budget(k.Token); !near(b.Spend, 2*unit) || b.Held != 0 {
				t.Errorf("the regenerated key's budget: %.4f spent, %.4f held; want %.4f and nothing", b.Spend, b.Held, 2*unit)
			}
			stored, err := r.ls[0].Store().GetKey(ctx, k.Token)
			if err != nil {
				t.Fatal(err)
			}
			if !near(stored.Spend, 2*unit) {
				t.Errorf("the regenerated key's spend %.4f, want %.4f", stored.Spend, 2*unit)
			}
		})
	}
}

func mustDuration(t *testing.T, s string) budget.Duration {
	t.Helper()
	d, err := budget.ParseDuration(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestSharedReprice(t *testing.T) { testSharedReprice(t, sqliteReplicas(t)) }

// A hold moved to a dearer deployment takes only the room left; moved to a cheaper one, it gives
// the difference back at once, to every gateway.
func testSharedReprice(t *testing.T, open replicaOpener) {
	limit := 3 * unit
	r := newReplicas(t, open, 2, KeyRequest{MaxBudget: &limit}, Settings{})
	a, err := r.admit(0, unit)
	if err != nil {
		t.Fatal(err)
	}
	a.Reprice(5 * unit)
	if held := r.budget(r.key.Token).Held; !near(held, limit) {
		t.Errorf("raised to 5 units on a 3-unit budget: %.4f held, want the room left (%.4f)", held, limit)
	}
	if _, err := r.admit(1, unit); !refusedWith(err, "budget") {
		t.Fatalf("with the budget held whole: %v, want a budget refusal", err)
	}
	views, err := r.ls[1].Budgets(context.Background()) // the other gateway's tray
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, v := range views {
		if v.Token != r.key.Token {
			continue
		}
		found = true
		if !near(v.Reserved, limit) || v.State(r.clock.Now()) != BudgetRefusing {
			t.Errorf("the other gateway shows %.4f in flight (%s), want %.4f (refusing)", v.Reserved, v.State(r.clock.Now()), limit)
		}
	}
	if !found {
		t.Errorf("the key is not among the budgets: %+v", views)
	}
	a.Reprice(unit / 2)
	if held := r.budget(r.key.Token).Held; !near(held, unit/2) {
		t.Errorf("cut to half a unit: %.4f held", held)
	}
	b, err := r.admit(1, unit)
	if err != nil {
		t.Fatalf("after the cut: %v", err)
	}
	a.Done(nil)
	b.Done(nil)
	if held := r.budget(r.key.Token).Held; held != 0 {
		t.Errorf("%.4f held after both released", held)
	}
}

func TestSharedRecord(t *testing.T) { testSharedRecord(t, sqliteReplicas(t)) }

// A request that never met the gate (the ledger only as the usage sink) still adds its cost to
// its budgets in the database, once.
func testSharedRecord(t *testing.T, open replicaOpener) {
	limit := 100 * unit
	r := newReplicas(t, open, 2, KeyRequest{MaxBudget: &limit}, Settings{MaxBudget: &limit})
	r.ls[1].Record(*r.usage(3 * unit))
	r.flush()
	for _, id := range []string{r.key.Token, GlobalBudget} {
		if b := r.budget(id); !near(b.Spend, 3*unit) {
			t.Errorf("%s: %.4f spent, want %.4f", id, b.Spend, 3*unit)
		}
	}
	k, err := r.ls[0].Store().GetKey(context.Background(), r.key.Token)
	if err != nil {
		t.Fatal(err)
	}
	if !near(k.Spend, 3*unit) {
		t.Errorf("key spend %.4f, want %.4f", k.Spend, 3*unit)
	}
}

func TestSharedTeamOvershoot(t *testing.T) { testSharedTeamOvershoot(t, sqliteReplicas) }

// A team's budget holds across gateways as a key's does: 200 requests at once on three gateways,
// on a key of a team with room for 10, stay within 15% of the team's limit.
func testSharedTeamOvershoot(t *testing.T, replicasOn func(*testing.T) replicaOpener) {
	limit, team := 10*unit, "eng"
	r := newTeamReplicas(t, replicasOn(t), team, LimitsRequest{MaxBudget: &limit})
	overshoot(t, r, limit, teamBudget(team))
}

// newTeamReplicas makes team with limits and a key of it on the first of three gateways, then
// opens the other two (which load them).
func newTeamReplicas(t *testing.T, open replicaOpener, team string, limits LimitsRequest) *replicas {
	t.Helper()
	ctx := context.Background()
	r := &replicas{t: t, clock: newClock(time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)), events: &events{}}
	o := Options{Now: r.clock.Now, OnEvent: r.events.add}
	r.ls = append(r.ls, open(t, o))
	if _, err := r.ls[0].NewTeam(ctx, TeamRequest{TeamID: &team, LimitsRequest: limits}); err != nil {
		t.Fatalf("NewTeam: %v", err)
	}
	_, k, err := r.ls[0].GenerateKey(ctx, KeyRequest{TeamID: &team})
	if err != nil {
		t.Fatalf("GenerateKey: %v", err)
	}
	r.key, r.p = k, &proxy.Principal{KeyHash: k.Token, KeyAlias: k.KeyAlias}
	for len(r.ls) < 3 {
		r.ls = append(r.ls, open(t, o))
	}
	return r
}

func TestSharedTeamLimits(t *testing.T) { testSharedTeamLimits(t, sqliteReplicas) }

// A team's rpm_limit and max_parallel_requests hold across gateways like a key's, are named in
// the refusal, and free their slots when requests end.
func testSharedTeamLimits(t *testing.T, replicasOn func(*testing.T) replicaOpener) {
	for _, tc := range []struct {
		name   string
		limits LimitsRequest
	}{
		{"rpm", LimitsRequest{RPMLimit: ptr(int64(4))}},
		{"parallel", LimitsRequest{MaxParallelRequests: ptr(int64(2))}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			team := "ops-" + tc.name
			r := newTeamReplicas(t, replicasOn(t), team, tc.limits)
			switch tc.name {
			case "rpm":
				n, _, refusals := r.burst(20, each(unit))
				if n != 4 {
					t.Errorf("admitted %d in a minute across three gateways, want the team's 4", n)
				}
				for _, err := range refusals {
					if !refusedWith(err, "rate") || !strings.Contains(err.Error(), "team "+team) {
						t.Errorf("refusal %v, want the team's rate limit named", err)
					}
				}
			case "parallel":
				var held []proxy.Admission
				for i := range 2 {
					a, err := r.admit(i, unit)
					if err != nil {
						t.Fatalf("request %d: %v", i, err)
					}
					held = append(held, a)
				}
				if _, err := r.admit(2, unit); !refusedWith(err, "rate") || !strings.Contains(err.Error(), "max_parallel_requests is 2") {
					t.Fatalf("third in flight: %v, want the team's parallel limit", err)
				}
				for _, a := range held {
					a.Done(r.usage(unit))
				}
				for i := range 6 { // one at a time: each frees its slot
					a, err := r.admit(i%3, unit)
					if err != nil {
						t.Fatalf("sequential request %d after the others ended: %v", i, err)
					}
					a.Done(r.usage(unit))
				}
			}
		})
	}
}
