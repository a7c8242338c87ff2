package route

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// TestOrderTiers: the lowest litellm_params.order serves every request; the next tier only
// after it failed or while it cools down; an entry without order comes last.
func TestOrderTiers(t *testing.T) {
	o := func(n int) map[string]any { return map[string]any{"order": n} }
	tests := []struct {
		name    string
		extras  []map[string]any
		errs    map[string][]error
		retries int
		want    []string // ids called, in order
	}{
		{"lowest order serves", []map[string]any{o(2), o(1), o(3)}, nil, 2, []string{"b"}},
		{"order beats weight", []map[string]any{{"order": 2, "weight": 100}, {"order": 1, "weight": 1}}, nil, 0, []string{"b"}},
		{"unordered comes last", []map[string]any{nil, o(5)}, nil, 0, []string{"b"}},
		{"failure moves to the next tier, in order", []map[string]any{o(3), o(1), o(2)},
			map[string][]error{"b": {status(503)}, "c": {status(503)}}, 2, []string{"b", "c", "a"}},
		{"all orders tried, then the best again", []map[string]any{o(2), o(1)},
			map[string][]error{"b": {status(503), status(503)}, "a": {status(503)}}, 3, []string{"b", "a", "b", "b"}},
		{"string order from os.environ", []map[string]any{{"order": "2"}, {"order": "1"}}, nil, 0, []string{"b"}},
	}
	ids := []string{"a", "b", "c"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var deps []*Deployment
			for i, e := range tt.extras {
				deps = append(deps, mkDep(ids[i], "g", "openai/x", e))
			}
			for range 20 { // the pick is random inside a tier: many runs, one answer
				r := New(deps, Settings{NumRetries: tt.retries})
				r.rnd = rand.New(rand.NewPCG(uint64(len(tt.name)), 7)).Float64
				errs := map[string][]error{}
				for k, v := range tt.errs {
					errs[k] = append([]error(nil), v...)
				}
				sc := &script{errs: errs}
				_, _ = r.Do(t.Context(), "g", sc.attempt)
				if got := sc.ids(); !slices.Equal(got, tt.want) {
					t.Fatalf("called %q, want %q", got, tt.want)
				}
			}
		})
	}
}

func TestOrderCoolingTier(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	clock := func() time.Time { return now }
	g := groupOf(mkDep("a", "g", "openai/x", map[string]any{"order": 1}),
		mkDep("b", "g", "openai/x", map[string]any{"order": 2}), mkDep("c", "g", "openai/x", map[string]any{"order": 2}))
	if !g.tiers {
		t.Fatal("a group with orders 1 and 2 has no tiers")
	}
	var tried, excluded marks
	for _, x := range []float64{0, 0.5, 0.99} {
		if i, _ := g.pick(clock, func() float64 { return x }, &tried, &excluded); i != 0 {
			t.Fatalf("picked %d, want order 1", i)
		}
	}
	g.members[0].health.until.Store(now.Add(time.Second).UnixNano())
	seen := map[int]bool{}
	for _, x := range []float64{0, 0.99} {
		i, _ := g.pick(clock, func() float64 { return x }, &tried, &excluded)
		seen[i] = true
	}
	if !seen[1] || !seen[2] || seen[0] {
		t.Fatalf("with order 1 cooling, picks %v; want both order-2 members", seen)
	}
	g.members[1].health.until.Store(now.Add(2 * time.Second).UnixNano())
	g.members[2].health.until.Store(now.Add(3 * time.Second).UnixNano())
	if i, free := g.pick(clock, rand.Float64, &tried, &excluded); i != -1 || !free.Equal(now.Add(time.Second)) {
		t.Fatalf("all cooling: %d %v, want -1 and the earliest free time", i, free)
	}
	if excluded.small != 0 {
		t.Fatal("pick changed the caller's excluded set")
	}
}
