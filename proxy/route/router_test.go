package route

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clawgate/clawgate/proxy/config"
	"github.com/clawgate/clawgate/proxy/provider"
)

// mkDep builds a deployment the way Build would, without a provider.
func mkDep(id, group, litellmModel string, extra map[string]any) *Deployment {
	prov, model, _ := splitModel(litellmModel)
	return &Deployment{
		ID: id, Group: group, ProviderName: prov, Model: model,
		Config: config.Deployment{ModelName: group, Params: config.Params{Model: litellmModel, Extra: extra}},
	}
}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock { return &fakeClock{t: time.Unix(1_700_000_000, 0)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// script answers attempts from a per-deployment queue of errors (nil = success); the last entry
// repeats. It records the deployments and upstream models it was called with.
type script struct {
	mu    sync.Mutex
	errs  map[string][]error
	calls []string
}

func (s *script) attempt(_ context.Context, d *Deployment, up string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, d.ID+":"+up)
	q := s.errs[d.ID]
	if len(q) == 0 {
		return nil
	}
	if len(q) > 1 {
		s.errs[d.ID] = q[1:]
	}
	return q[0]
}

func (s *script) ids() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, c := range s.calls {
		id, _, _ := strings.Cut(c, ":")
		out = append(out, id)
	}
	return out
}

func status(code int) error { return &provider.Error{Status: code, Message: http.StatusText(code)} }

// testRouter makes picks deterministic (the first eligible member by weight) and records waits
// instead of sleeping.
func testRouter(deps []*Deployment, s Settings) (*Router, *[]time.Duration) {
	r := New(deps, s)
	r.rnd = func() float64 { return 0 }
	var mu sync.Mutex
	waits := &[]time.Duration{}
	r.sleep = func(ctx context.Context, d time.Duration) error {
		mu.Lock()
		*waits = append(*waits, d)
		mu.Unlock()
		return ctx.Err()
	}
	return r, waits
}

func TestDo(t *testing.T) {
	pair := []*Deployment{mkDep("a", "g", "openai/m", nil), mkDep("b", "g", "openai/m", nil)}
	one := []*Deployment{mkDep("a", "g", "openai/m", nil)}
	withFB := func(deps ...*Deployment) []*Deployment {
		return append(slices.Clone(deps), mkDep("f", "fb", "anthropic/claude", nil))
	}
	fb := []config.Fallback{{Group: "g", To: []string{"fb"}}}
	tests := []struct {
		name       string
		deps       []*Deployment
		s          Settings
		errs       map[string][]error
		wantCalls  []string
		wantStatus int // 0 = success
		wantGroup  string
		retries    int
		fallbacks  int
	}{
		{"success first time", one, Settings{NumRetries: 3}, nil, []string{"a"}, 0, "g", 0, 0},
		{"retries until success", one, Settings{NumRetries: 3},
			map[string][]error{"a": {status(500), status(503), nil}}, []string{"a", "a", "a"}, 0, "g", 2, 0},
		{"retries exhausted", one, Settings{NumRetries: 2},
			map[string][]error{"a": {status(500)}}, []string{"a", "a", "a"}, 500, "g", 2, 0},
		{"no retries", one, Settings{},
			map[string][]error{"a": {status(502)}}, []string{"a"}, 502, "g", 0, 0},
		{"transport error retried", one, Settings{NumRetries: 1},
			map[string][]error{"a": {errors.New("connection refused"), nil}}, []string{"a", "a"}, 0, "g", 1, 0},
		{"retry prefers the other deployment", pair, Settings{NumRetries: 3},
			map[string][]error{"a": {status(500)}}, []string{"a", "b"}, 0, "g", 1, 0},
		{"retry comes back once both were tried", pair, Settings{NumRetries: 2},
			map[string][]error{"a": {status(500), nil}, "b": {status(500)}}, []string{"a", "b", "a"}, 0, "g", 2, 0},
		{"400 stops at once", withFB(pair...), Settings{NumRetries: 3, Fallbacks: fb},
			map[string][]error{"a": {status(400)}}, []string{"a"}, 400, "g", 0, 0},
		{"413 stops at once", withFB(pair...), Settings{NumRetries: 3, Fallbacks: fb},
			map[string][]error{"a": {status(413)}}, []string{"a"}, 413, "g", 0, 0},
		{"422 stops at once", withFB(pair...), Settings{NumRetries: 3, Fallbacks: fb},
			map[string][]error{"a": {status(422)}}, []string{"a"}, 422, "g", 0, 0},
		{"wrapped 400 stops too", withFB(one...), Settings{NumRetries: 3, Fallbacks: fb},
			map[string][]error{"a": {fmt.Errorf("send: %w", status(400))}}, []string{"a"}, 400, "g", 0, 0},
		{"401 moves to the other deployment", pair, Settings{NumRetries: 3},
			map[string][]error{"a": {status(401)}}, []string{"a", "b"}, 0, "g", 1, 0},
		{"401 is not retried on the same deployment", withFB(one...), Settings{NumRetries: 3, Fallbacks: fb},
			map[string][]error{"a": {status(401)}}, []string{"a", "f"}, 0, "fb", 1, 1},
		{"403 and 404 everywhere", pair, Settings{NumRetries: 5},
			map[string][]error{"a": {status(403)}, "b": {status(404)}}, []string{"a", "b"}, 404, "g", 1, 0},
		{"other 4xx moves on", pair, Settings{NumRetries: 3},
			map[string][]error{"a": {status(402)}}, []string{"a", "b"}, 0, "g", 1, 0},
		{"retries count toward the group budget", withFB(pair...), Settings{NumRetries: 0, Fallbacks: fb},
			map[string][]error{"a": {status(401)}}, []string{"a", "f"}, 0, "fb", 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := testRouter(tt.deps, tt.s)
			sc := &script{errs: tt.errs}
			res, err := r.Do(t.Context(), "g", sc.attempt)
			if got := sc.ids(); !slices.Equal(got, tt.wantCalls) {
				t.Errorf("calls = %q, want %q", got, tt.wantCalls)
			}
			if tt.wantStatus == 0 && err != nil {
				t.Fatalf("err = %v, want success", err)
			}
			if tt.wantStatus != 0 {
				var pe *provider.Error
				if !errors.As(err, &pe) || pe.Status != tt.wantStatus {
					t.Fatalf("err = %v, want upstream %d", err, tt.wantStatus)
				}
			}
			last := tt.wantCalls[len(tt.wantCalls)-1]
			if res.Deployment == nil || res.Deployment.ID != last {
				t.Errorf("Result.Deployment = %v, want %s", res.Deployment, last)
			}
			if res.Group != tt.wantGroup || res.RequestedGroup != "g" || res.Retries != tt.retries || res.Fallbacks != tt.fallbacks {
				t.Errorf("Result = group %q requested %q retries %d fallbacks %d; want %q, g, %d, %d",
					res.Group, res.RequestedGroup, res.Retries, res.Fallbacks, tt.wantGroup, tt.retries, tt.fallbacks)
			}
		})
	}
}

func TestDoFallbacks(t *testing.T) {
	deps := []*Deployment{
		mkDep("p", "primary", "openai/gpt-4o", nil),
		mkDep("f1", "first", "openai/gpt-4o-mini", nil),
		mkDep("f2", "second", "gemini/gemini-2.0-flash", nil),
		mkDep("an", "anthropic/*", "anthropic/*", nil),
	}
	fail := map[string][]error{"p": {status(500)}, "f1": {status(429)}, "f2": {status(503)}, "an": {status(500)}}
	tests := []struct {
		name      string
		fallbacks []config.Fallback
		model     string
		ok        []string // deployments that succeed
		wantCalls []string
		wantErr   int
		group     string
		retries   int
		fbs       int
	}{
		{"in order", []config.Fallback{{Group: "primary", To: []string{"first", "second"}}}, "primary",
			[]string{"f2"}, []string{"p", "p", "f1", "f1", "f2"}, 0, "second", 4, 2},
		{"stops at the first that works", []config.Fallback{{Group: "primary", To: []string{"first", "second"}}}, "primary",
			[]string{"f1", "f2"}, []string{"p", "p", "f1"}, 0, "first", 2, 1},
		{"all fail: last error", []config.Fallback{{Group: "primary", To: []string{"first", "second"}}}, "primary",
			nil, []string{"p", "p", "f1", "f1", "f2", "f2"}, 503, "second", 5, 2},
		{"missing group skipped", []config.Fallback{{Group: "primary", To: []string{"nope", "second"}}}, "primary",
			[]string{"f2"}, []string{"p", "p", "f2"}, 0, "second", 2, 1},
		{"not chained", []config.Fallback{{Group: "primary", To: []string{"first"}}, {Group: "first", To: []string{"second"}}}, "primary",
			[]string{"f2"}, []string{"p", "p", "f1", "f1"}, 429, "first", 3, 1},
		{"self and repeats skipped", []config.Fallback{{Group: "primary", To: []string{"primary", "first", "first"}}}, "primary",
			nil, []string{"p", "p", "f1", "f1"}, 429, "first", 3, 1},
		{"fallback through a wildcard", []config.Fallback{{Group: "primary", To: []string{"claude-3-haiku"}}}, "primary",
			[]string{"an"}, []string{"p", "p", "an"}, 0, "anthropic/*", 2, 1},
		{"keyed by the requested name", []config.Fallback{{Group: "anthropic/claude-x", To: []string{"second"}}, {Group: "anthropic/*", To: []string{"first"}}},
			"anthropic/claude-x", []string{"f2"}, []string{"an", "an", "f2"}, 0, "second", 2, 1},
		{"keyed by the group", []config.Fallback{{Group: "anthropic/*", To: []string{"second"}}}, "claude-x",
			[]string{"f2"}, []string{"an", "an", "f2"}, 0, "second", 2, 1},
		{"generic * entry", []config.Fallback{{Group: "*", To: []string{"second"}}}, "primary",
			[]string{"f2"}, []string{"p", "p", "f2"}, 0, "second", 2, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := testRouter(deps, Settings{NumRetries: 1, Fallbacks: tt.fallbacks})
			errs := map[string][]error{}
			for id, e := range fail {
				if !slices.Contains(tt.ok, id) {
					errs[id] = e
				}
			}
			sc := &script{errs: errs}
			res, err := r.Do(t.Context(), tt.model, sc.attempt)
			if got := sc.ids(); !slices.Equal(got, tt.wantCalls) {
				t.Errorf("calls = %q, want %q", got, tt.wantCalls)
			}
			if tt.wantErr == 0 && err != nil {
				t.Fatalf("err = %v", err)
			}
			if tt.wantErr != 0 {
				if pe := provider.AsError(err); err == nil || pe.Status != tt.wantErr {
					t.Fatalf("err = %v, want %d", err, tt.wantErr)
				}
			}
			if res.Group != tt.group || res.Retries != tt.retries || res.Fallbacks != tt.fbs {
				t.Errorf("Result group %q retries %d fallbacks %d; want %q %d %d", res.Group, res.Retries, res.Fallbacks, tt.group, tt.retries, tt.fbs)
			}
		})
	}
	t.Run("fallback upstream model", func(t *testing.T) {
		r, _ := testRouter(deps, Settings{Fallbacks: []config.Fallback{{Group: "primary", To: []string{"claude-3-haiku"}}}})
		sc := &script{errs: map[string][]error{"p": {status(500)}}}
		res, err := r.Do(t.Context(), "primary", sc.attempt)
		if err != nil || res.UpstreamModel != "claude-3-haiku" || sc.calls[1] != "an:claude-3-haiku" {
			t.Fatalf("err %v, upstream %q, calls %q", err, res.UpstreamModel, sc.calls)
		}
	})
}

func TestDoCooldown(t *testing.T) {
	t.Run("after allowed_fails, then expiry", func(t *testing.T) {
		clk := newClock()
		r, _ := testRouter([]*Deployment{mkDep("a", "g", "openai/m", nil)},
			Settings{AllowedFails: 1, CooldownTime: 10 * time.Second, Now: clk.Now})
		sc := &script{errs: map[string][]error{"a": {status(500), status(500), nil}}}
		for i := range 2 {
			if _, err := r.Do(t.Context(), "g", sc.attempt); provider.AsError(err).Status != 500 {
				t.Fatalf("Do %d: err = %v, want 500", i, err)
			}
		}
		clk.Add(3 * time.Second)
		res, err := r.Do(t.Context(), "g", sc.attempt)
		var ce *CooldownError
		if !errors.As(err, &ce) || ce.Group != "g" || ce.RetryAfter != 7*time.Second {
			t.Fatalf("err = %#v, want CooldownError{g, 7s}", err)
		}
		if len(sc.calls) != 2 || res.Deployment != nil || res.RequestedGroup != "g" {
			t.Fatalf("cooling deployment was called (%q) or result set: %+v", sc.calls, res)
		}
		clk.Add(7 * time.Second)
		if _, err := r.Do(t.Context(), "g", sc.attempt); err != nil || len(sc.calls) != 3 {
			t.Fatalf("after the cooldown: err %v, calls %q", err, sc.calls)
		}
	})
	t.Run("cooling group goes straight to fallback", func(t *testing.T) {
		clk := newClock()
		r, _ := testRouter([]*Deployment{mkDep("a", "g", "openai/m", nil), mkDep("f", "fb", "openai/n", nil)},
			Settings{NumRetries: 2, AllowedFails: 0, CooldownTime: time.Minute, Now: clk.Now,
				Fallbacks: []config.Fallback{{Group: "g", To: []string{"fb"}}}})
		sc := &script{errs: map[string][]error{"a": {status(500)}}}
		res, err := r.Do(t.Context(), "g", sc.attempt) // a fails, cools at once, so no retry on it
		if err != nil || !slices.Equal(sc.ids(), []string{"a", "f"}) || res.Retries != 1 || res.Fallbacks != 1 {
			t.Fatalf("first: err %v calls %q res %+v", err, sc.ids(), res)
		}
		res, err = r.Do(t.Context(), "g", sc.attempt)
		if err != nil || !slices.Equal(sc.ids(), []string{"a", "f", "f"}) || res.Retries != 0 || res.Fallbacks != 1 || res.Group != "fb" {
			t.Fatalf("second: err %v calls %q res %+v", err, sc.ids(), res)
		}
	})
	t.Run("cooldown error uses the earliest free deployment", func(t *testing.T) {
		clk := newClock()
		r, _ := testRouter([]*Deployment{mkDep("a", "g", "openai/m", nil), mkDep("f", "fb", "openai/n", nil)},
			Settings{AllowedFails: 0, CooldownTime: 10 * time.Second, Now: clk.Now,
				Fallbacks: []config.Fallback{{Group: "g", To: []string{"fb"}}}})
		r.group("g").members[0].health.until.Store(clk.Now().Add(9500 * time.Millisecond).UnixNano())
		r.group("fb").members[0].health.until.Store(clk.Now().Add(2300 * time.Millisecond).UnixNano())
		sc := &script{}
		_, err := r.Do(t.Context(), "g", sc.attempt)
		var ce *CooldownError
		if !errors.As(err, &ce) || ce.RetryAfter != 3*time.Second || len(sc.calls) != 0 {
			t.Fatalf("err = %v, calls %q; want CooldownError 3s", err, sc.calls)
		}
		if !strings.Contains(err.Error(), "Try again in 3 seconds") {
			t.Errorf("message %q", err)
		}
	})
	t.Run("attempted then cooling returns the upstream error", func(t *testing.T) {
		clk := newClock()
		r, _ := testRouter([]*Deployment{mkDep("a", "g", "openai/m", nil)},
			Settings{NumRetries: 3, AllowedFails: 0, CooldownTime: time.Minute, Now: clk.Now})
		sc := &script{errs: map[string][]error{"a": {status(503)}}}
		_, err := r.Do(t.Context(), "g", sc.attempt)
		if provider.AsError(err).Status != 503 || len(sc.calls) != 1 {
			t.Fatalf("err %v calls %q; want the 503 after one call", err, sc.calls)
		}
	})
	t.Run("429 cools at once when the group has others", func(t *testing.T) {
		clk := newClock()
		r, _ := testRouter([]*Deployment{mkDep("a", "g", "openai/m", nil), mkDep("b", "g", "openai/m", nil)},
			Settings{NumRetries: 1, AllowedFails: 5, CooldownTime: 30 * time.Second, Now: clk.Now})
		sc := &script{errs: map[string][]error{"a": {&provider.Error{Status: 429, RetryAfter: 45 * time.Second}}}}
		if _, err := r.Do(t.Context(), "g", sc.attempt); err != nil {
			t.Fatal(err)
		}
		for range 3 {
			if _, err := r.Do(t.Context(), "g", sc.attempt); err != nil {
				t.Fatal(err)
			}
		}
		if got := sc.ids(); !slices.Equal(got, []string{"a", "b", "b", "b", "b"}) {
			t.Fatalf("calls %q: a must cool down after its 429", got)
		}
		clk.Add(31 * time.Second) // the hint (45s) outlasts cooldown_time
		sc.errs["a"] = nil
		if res, _ := r.Do(t.Context(), "g", sc.attempt); res.Deployment.ID != "b" {
			t.Fatalf("a served at 31s, its retry-after said 45s")
		}
		clk.Add(15 * time.Second)
		if res, _ := r.Do(t.Context(), "g", sc.attempt); res.Deployment.ID != "a" {
			t.Fatalf("a not back after 46s")
		}
	})
	t.Run("429 on a lone deployment counts like any failure", func(t *testing.T) {
		clk := newClock()
		r, _ := testRouter([]*Deployment{mkDep("a", "g", "openai/m", nil)},
			Settings{NumRetries: 2, AllowedFails: 5, CooldownTime: 30 * time.Second, Now: clk.Now})
		sc := &script{errs: map[string][]error{"a": {status(429), status(429), nil}}}
		if _, err := r.Do(t.Context(), "g", sc.attempt); err != nil || len(sc.calls) != 3 {
			t.Fatalf("err %v calls %q", err, sc.calls)
		}
	})
	t.Run("client errors do not count", func(t *testing.T) {
		clk := newClock()
		r, _ := testRouter([]*Deployment{mkDep("a", "g", "openai/m", nil)},
			Settings{AllowedFails: 0, CooldownTime: time.Minute, Now: clk.Now})
		sc := &script{errs: map[string][]error{"a": {status(400), status(422), nil}}}
		for range 3 {
			r.Do(t.Context(), "g", sc.attempt)
		}
		if len(sc.calls) != 3 {
			t.Fatalf("calls %q: a 400 must not cool the deployment down", sc.calls)
		}
	})
	t.Run("401 counts", func(t *testing.T) {
		clk := newClock()
		r, _ := testRouter([]*Deployment{mkDep("a", "g", "openai/m", nil)},
			Settings{AllowedFails: 1, CooldownTime: time.Minute, Now: clk.Now})
		sc := &script{errs: map[string][]error{"a": {status(401)}}}
		for range 3 {
			r.Do(t.Context(), "g", sc.attempt)
		}
		if len(sc.calls) != 2 {
			t.Fatalf("calls %q: two 401s exceed allowed_fails 1", sc.calls)
		}
	})
}

func TestDoWaits(t *testing.T) {
	tests := []struct {
		name  string
		deps  int
		s     Settings
		errs  []error
		waits []time.Duration
	}{
		{"no wait by default", 1, Settings{NumRetries: 2}, []error{status(500), status(500), nil}, nil},
		{"retry_after between attempts", 1, Settings{NumRetries: 2, RetryAfter: 200 * time.Millisecond},
			[]error{status(500), status(500), nil}, []time.Duration{200 * time.Millisecond, 200 * time.Millisecond}},
		{"short upstream hint", 1, Settings{NumRetries: 1},
			[]error{&provider.Error{Status: 429, RetryAfter: 300 * time.Millisecond}, nil}, []time.Duration{300 * time.Millisecond}},
		{"long upstream hint is capped", 1, Settings{NumRetries: 1},
			[]error{&provider.Error{Status: 503, RetryAfter: time.Minute}, nil}, []time.Duration{time.Second}},
		{"retry_after is a floor", 1, Settings{NumRetries: 1, RetryAfter: 2 * time.Second},
			[]error{&provider.Error{Status: 429, RetryAfter: 300 * time.Millisecond}, nil}, []time.Duration{2 * time.Second}},
		{"hint ignored when switching deployment", 2, Settings{NumRetries: 1, AllowedFails: 9, CooldownTime: time.Minute},
			[]error{&provider.Error{Status: 429, RetryAfter: 800 * time.Millisecond}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			deps := []*Deployment{mkDep("a", "g", "openai/m", nil), mkDep("b", "g", "openai/m", nil)}[:tt.deps]
			r, waits := testRouter(deps, tt.s)
			sc := &script{errs: map[string][]error{"a": tt.errs}}
			if _, err := r.Do(t.Context(), "g", sc.attempt); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(*waits, tt.waits) {
				t.Errorf("waits = %v, want %v", *waits, tt.waits)
			}
		})
	}
}

func TestDoContext(t *testing.T) {
	t.Run("cancel during an attempt stops everything", func(t *testing.T) {
		clk := newClock()
		r, _ := testRouter([]*Deployment{mkDep("a", "g", "openai/m", nil), mkDep("b", "g", "openai/m", nil), mkDep("f", "fb", "openai/m", nil)},
			Settings{NumRetries: 3, AllowedFails: 0, CooldownTime: time.Minute, Now: clk.Now,
				Fallbacks: []config.Fallback{{Group: "g", To: []string{"fb"}}}})
		ctx, cancel := context.WithCancel(t.Context())
		calls := 0
		res, err := r.Do(ctx, "g", func(ctx context.Context, d *Deployment, _ string) error {
			calls++
			cancel()
			return &provider.Error{Status: 502, Transport: true, Err: ctx.Err()}
		})
		if calls != 1 || !errors.Is(err, context.Canceled) || res.Deployment.ID != "a" {
			t.Fatalf("calls %d err %v res %+v", calls, err, res)
		}
		if h := &r.group("g").members[0].health; h.nfail.Load() != 0 || h.cooling(clk.Now()) {
			t.Fatal("a client's cancel was held against the deployment")
		}
	})
	t.Run("already cancelled", func(t *testing.T) {
		r, _ := testRouter([]*Deployment{mkDep("a", "g", "openai/m", nil)}, Settings{})
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		sc := &script{}
		if _, err := r.Do(ctx, "g", sc.attempt); !errors.Is(err, context.Canceled) || len(sc.calls) != 0 {
			t.Fatalf("err %v calls %q", err, sc.calls)
		}
	})
	t.Run("deadline during the wait between retries", func(t *testing.T) {
		r := New([]*Deployment{mkDep("a", "g", "openai/m", nil)}, Settings{NumRetries: 3, RetryAfter: time.Hour})
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
		defer cancel()
		sc := &script{errs: map[string][]error{"a": {status(500)}}}
		start := time.Now()
		_, err := r.Do(ctx, "g", sc.attempt)
		if !errors.Is(err, context.DeadlineExceeded) || len(sc.calls) != 1 {
			t.Fatalf("err %v calls %q", err, sc.calls)
		}
		if el := time.Since(start); el > 10*time.Second {
			t.Fatalf("Do waited %v past its deadline", el)
		}
	})
}

func TestUnknownModel(t *testing.T) {
	r := New([]*Deployment{mkDep("a", "gpt-4o", "openai/gpt-4o", nil), mkDep("b", "claude", "anthropic/claude-3", nil)}, Settings{})
	sc := &script{}
	res, err := r.Do(t.Context(), "gpt-5", sc.attempt)
	var ue *UnknownModelError
	if !errors.As(err, &ue) || ue.Model != "gpt-5" || !slices.Equal(ue.Available, []string{"gpt-4o", "claude"}) {
		t.Fatalf("err = %#v", err)
	}
	want := "Invalid model name passed in model=gpt-5. Call `/v1/models` to view available models for your key. Available models: gpt-4o, claude"
	if err.Error() != want {
		t.Errorf("message %q\nwant    %q", err.Error(), want)
	}
	if len(sc.calls) != 0 || res != (Result{}) {
		t.Errorf("calls %q result %+v", sc.calls, res)
	}
}

func TestGroups(t *testing.T) {
	r := New([]*Deployment{
		mkDep("1", "gpt-4o", "openai/gpt-4o", nil),
		mkDep("2", "openai/*", "openai/*", nil),
		mkDep("3", "gpt-4o", "azure/gpt-4o", nil),
		mkDep("4", "*", "*", nil),
		mkDep("5", "claude", "anthropic/claude-3", nil),
	}, Settings{})
	got := r.Groups()
	if want := []string{"gpt-4o", "openai/*", "*", "claude"}; !slices.Equal(got, want) {
		t.Fatalf("Groups = %q, want %q", got, want)
	}
	got[0] = "changed"
	if r.Groups()[0] != "gpt-4o" {
		t.Fatal("Groups exposes the router's slice")
	}
	if n := len(r.group("gpt-4o").members); n != 2 {
		t.Fatalf("gpt-4o has %d deployments, want 2", n)
	}
}

// TestDoConcurrent runs many requests at once against flaky deployments with cooldowns and
// fallbacks; -race checks the shared state, the counts check nothing is lost.
func TestDoConcurrent(t *testing.T) {
	clk := newClock()
	deps := []*Deployment{
		mkDep("a", "g", "openai/m", map[string]any{"weight": 1}),
		mkDep("b", "g", "openai/m", map[string]any{"weight": 2}),
		mkDep("c", "g", "openai/m", map[string]any{"weight": 3}),
		mkDep("f", "fb", "anthropic/m", nil),
	}
	r := New(deps, Settings{NumRetries: 2, AllowedFails: 2, CooldownTime: 50 * time.Millisecond, Now: clk.Now,
		Fallbacks: []config.Fallback{{Group: "g", To: []string{"fb"}}}})
	var n, calls, ok, upstream, cooling atomic.Int64
	attempt := func(_ context.Context, d *Deployment, up string) error {
		calls.Add(1)
		if up != "m" {
			return fmt.Errorf("upstream model %q", up)
		}
		if i := n.Add(1); i%3 == 0 {
			clk.Add(10 * time.Millisecond)
			if i%2 == 0 {
				return status(429)
			}
			return status(500)
		}
		return nil
	}
	const workers, each = 16, 300
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range each {
				clk.Add(time.Millisecond) // lets cooldowns run out
				res, err := r.Do(context.Background(), "g", attempt)
				var ce *CooldownError
				switch {
				case err == nil:
					ok.Add(1)
					if res.Deployment == nil || res.Retries < 0 || res.Retries > 3+2 {
						t.Errorf("bad result %+v", res)
					}
				case errors.As(err, &ce):
					cooling.Add(1)
				case provider.AsError(err).Status >= 429:
					upstream.Add(1)
				default:
					t.Errorf("unexpected error %v", err)
				}
			}
		})
	}
	wg.Wait()
	if total := ok.Load() + upstream.Load() + cooling.Load(); total != workers*each {
		t.Fatalf("%d results for %d requests", total, workers*each)
	}
	if ok.Load() < workers*each/2 {
		t.Errorf("only %d of %d succeeded", ok.Load(), workers*each)
	}
	t.Logf("ok %d upstream errors %d cooling %d attempts %d", ok.Load(), upstream.Load(), cooling.Load(), calls.Load())
}

func TestSettingsFrom(t *testing.T) {
	rs := config.RouterSettings{NumRetries: 3, AllowedFails: 4, CooldownTime: 5 * time.Second, RetryAfter: time.Second,
		Timeout: time.Minute, Fallbacks: []config.Fallback{{Group: "a", To: []string{"b"}}}}
	s := SettingsFrom(rs)
	if s.NumRetries != 3 || s.AllowedFails != 4 || s.CooldownTime != 5*time.Second || s.RetryAfter != time.Second ||
		len(s.Fallbacks) != 1 || s.Fallbacks[0].To[0] != "b" || s.Now != nil {
		t.Fatalf("SettingsFrom = %+v", s)
	}
}

func TestSleepCtx(t *testing.T) {
	if err := sleepCtx(t.Context(), time.Millisecond); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := sleepCtx(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
}

func BenchmarkDo(b *testing.B) {
	r := New([]*Deployment{mkDep("a", "gpt-4o", "openai/gpt-4o", nil)}, Settings{NumRetries: 3, AllowedFails: 3, CooldownTime: 5 * time.Second})
	attempt := func(context.Context, *Deployment, string) error { return nil }
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := r.Do(ctx, "gpt-4o", attempt); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkDoWildcard(b *testing.B) {
	r := New([]*Deployment{
		mkDep("a", "gpt-4o", "openai/gpt-4o", nil),
		mkDep("b", "anthropic/*", "anthropic/*", nil),
		mkDep("c", "openai/*", "openai/*", nil),
	}, Settings{NumRetries: 3})
	attempt := func(context.Context, *Deployment, string) error { return nil }
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Do(ctx, "anthropic/claude-sonnet-4-5", attempt); err != nil {
			b.Fatal(err)
		}
	}
}

// TestDoAllowed: a group the caller may not use is never called, fallbacks included, and the
// error says which were skipped.
func TestDoAllowed(t *testing.T) {
	deps := []*Deployment{
		mkDep("p", "primary", "openai/gpt-4o", nil),
		mkDep("x", "expensive", "openai/o1", nil),
		mkDep("c", "cheap", "openai/gpt-4o-mini", nil),
	}
	only := func(groups ...string) Allow {
		return func(_, g string) bool { return slices.Contains(groups, g) }
	}
	tests := []struct {
		name      string
		allow     Allow
		fallbacks []string
		ok        []string // deployments that succeed; the others answer 500
		cooling   bool     // primary is cooling down before the request
		wantCalls []string
		wantErr   string // "" = success; else the kind of error
		skipped   []string
	}{
		{"nil allows all", nil, []string{"expensive"}, []string{"x"}, false, []string{"p", "x"}, "", nil},
		{"forbidden fallback skipped, upstream error kept", only("primary"), []string{"expensive"}, []string{"x"}, false,
			[]string{"p"}, "upstream", []string{"expensive"}},
		{"skips to an allowed fallback", only("primary", "cheap"), []string{"expensive", "cheap"}, []string{"x", "c"}, false,
			[]string{"p", "c"}, "", nil},
		{"cooling group, forbidden fallback", only("primary"), []string{"expensive"}, []string{"x"}, true,
			nil, "cooldown", []string{"expensive"}},
		{"every candidate refused", only("cheap"), []string{"expensive"}, []string{"p", "x"}, false,
			nil, "refused", []string{"primary", "expensive"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock()
			r, _ := testRouter(deps, Settings{CooldownTime: time.Minute, Now: clk.Now,
				Fallbacks: []config.Fallback{{Group: "primary", To: tt.fallbacks}}})
			errs := map[string][]error{}
			for _, d := range deps {
				if !slices.Contains(tt.ok, d.ID) {
					errs[d.ID] = []error{status(500)}
				}
			}
			if tt.cooling {
				_, _ = r.Do(t.Context(), "primary", (&script{errs: map[string][]error{"p": {status(500)}, "x": {status(500)}, "c": {status(500)}}}).attempt)
			}
			sc := &script{errs: errs}
			_, err := r.DoAllowed(t.Context(), "primary", tt.allow, sc.attempt)
			if got := sc.ids(); !slices.Equal(got, tt.wantCalls) {
				t.Errorf("calls = %q, want %q", got, tt.wantCalls)
			}
			var na *NotAllowedError
			var cool *CooldownError
			var pe *provider.Error
			switch tt.wantErr {
			case "":
				if err != nil {
					t.Fatalf("err = %v, want success", err)
				}
				return
			case "upstream":
				if !errors.As(err, &pe) || pe.Status != 500 {
					t.Errorf("err = %v, want the upstream's 500 inside", err)
				}
			case "cooldown":
				if !errors.As(err, &cool) {
					t.Errorf("err = %v, want a cooldown inside", err)
				}
			case "refused":
				if !errors.As(err, &na) || na.Err != nil {
					t.Errorf("err = %v, want a bare refusal", err)
				}
			}
			if !errors.As(err, &na) || !slices.Equal(na.Skipped, tt.skipped) {
				t.Fatalf("err = %v, want skipped %q", err, tt.skipped)
			}
			for _, g := range tt.skipped {
				if !strings.Contains(err.Error(), g) || !strings.Contains(err.Error(), "key's models") {
					t.Errorf("message %q does not say that %s was skipped for the key's models", err, g)
				}
			}
		})
	}
}
