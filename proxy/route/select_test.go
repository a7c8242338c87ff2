package route

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func groupOf(deps ...*Deployment) *group {
	g := &group{name: deps[0].Group}
	for _, d := range deps {
		g.members = append(g.members, &member{d: d})
	}
	weightsFor(g.members)
	g.tiers = ordersFor(g.members)
	return g
}

func TestWeightsFor(t *testing.T) {
	tests := []struct {
		name   string
		extras []map[string]any
		want   []float64
	}{
		{"none: uniform", []map[string]any{nil, {"tpm": 5}}, []float64{1, 1}},
		{"weight", []map[string]any{{"weight": 1}, {"weight": 3.5}}, []float64{1, 3.5}},
		{"weight beats rpm", []map[string]any{{"weight": 2, "rpm": 100}, {"rpm": 900}}, []float64{2, 0}},
		{"rpm", []map[string]any{{"rpm": 100}, {"rpm": int64(300)}}, []float64{100, 300}},
		{"missing key weighs nothing", []map[string]any{{"rpm": 60}, nil}, []float64{60, 0}},
		{"string from os.environ", []map[string]any{{"weight": "4"}, {"weight": 1}}, []float64{4, 1}},
		{"bad values weigh nothing", []map[string]any{{"weight": -1}, {"weight": "x"}, {"weight": 2}}, []float64{0, 0, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var deps []*Deployment
			for _, e := range tt.extras {
				deps = append(deps, mkDep("d", "g", "openai/x", e))
			}
			g := groupOf(deps...)
			var got []float64
			for _, m := range g.members {
				got = append(got, m.weight)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("weights = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestPickDistribution counts picks over many draws from a seeded source; the bounds are loose
// enough never to flake and tight enough to catch a wrong weighting.
func TestPickDistribution(t *testing.T) {
	tests := []struct {
		name   string
		extras []map[string]any
		want   []float64 // expected shares
	}{
		{"uniform", []map[string]any{nil, nil, nil}, []float64{1. / 3, 1. / 3, 1. / 3}},
		{"weight 1:3", []map[string]any{{"weight": 1}, {"weight": 3}}, []float64{0.25, 0.75}},
		{"rpm 100:300:600", []map[string]any{{"rpm": 100}, {"rpm": 300}, {"rpm": 600}}, []float64{0.1, 0.3, 0.6}},
		{"weight 0 is standby", []map[string]any{{"weight": 0}, {"weight": 5}}, []float64{0, 1}},
	}
	const n = 40000
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var deps []*Deployment
			for _, e := range tt.extras {
				deps = append(deps, mkDep("d", "g", "openai/x", e))
			}
			g := groupOf(deps...)
			rnd := rand.New(rand.NewPCG(1, 2)).Float64
			counts := make([]int, len(deps))
			for range n {
				var tried, excluded marks
				i, _ := g.pick(time.Now, rnd, &tried, &excluded)
				counts[i]++
			}
			for i, c := range counts {
				if share := float64(c) / n; math.Abs(share-tt.want[i]) > 0.02 {
					t.Errorf("member %d share %.3f, want %.3f (counts %v)", i, share, tt.want[i], counts)
				}
			}
		})
	}
}

func TestPick(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	clock := func() time.Time { return now }
	cool := func(m *member, d time.Duration) { m.health.until.Store(now.Add(d).UnixNano()) }

	t.Run("prefers untried", func(t *testing.T) {
		g := groupOf(mkDep("a", "g", "openai/x", nil), mkDep("b", "g", "openai/x", nil), mkDep("c", "g", "openai/x", nil))
		var tried, excluded marks
		tried.set(0)
		tried.set(2)
		for _, x := range []float64{0, 0.3, 0.6, 0.999} {
			if i, _ := g.pick(clock, func() float64 { return x }, &tried, &excluded); i != 1 {
				t.Fatalf("rnd %v picked %d, want the untried 1", x, i)
			}
		}
		tried.set(1)
		if i, _ := g.pick(clock, func() float64 { return 0.999 }, &tried, &excluded); i != 2 {
			t.Fatalf("all tried: picked %d, want 2 by weight", i)
		}
	})
	t.Run("skips excluded and cooling", func(t *testing.T) {
		g := groupOf(mkDep("a", "g", "openai/x", nil), mkDep("b", "g", "openai/x", nil), mkDep("c", "g", "openai/x", nil))
		cool(g.members[0], 5*time.Second)
		var tried, excluded marks
		excluded.set(1)
		for _, x := range []float64{0, 0.5, 0.99} {
			if i, _ := g.pick(clock, func() float64 { return x }, &tried, &excluded); i != 2 {
				t.Fatalf("picked %d, want 2", i)
			}
		}
	})
	t.Run("expired cooldown is usable", func(t *testing.T) {
		g := groupOf(mkDep("a", "g", "openai/x", nil))
		cool(g.members[0], -time.Second)
		var tried, excluded marks
		if i, _ := g.pick(clock, rand.Float64, &tried, &excluded); i != 0 {
			t.Fatalf("picked %d, want 0", i)
		}
	})
	t.Run("all cooling gives the earliest free time", func(t *testing.T) {
		g := groupOf(mkDep("a", "g", "openai/x", nil), mkDep("b", "g", "openai/x", nil), mkDep("c", "g", "openai/x", nil))
		cool(g.members[0], 9*time.Second)
		cool(g.members[1], 4*time.Second)
		var tried, excluded marks
		excluded.set(2)
		i, free := g.pick(clock, rand.Float64, &tried, &excluded)
		if i != -1 || !free.Equal(now.Add(4*time.Second)) {
			t.Fatalf("pick = %d, %v; want -1, %v", i, free, now.Add(4*time.Second))
		}
	})
	t.Run("all excluded gives no time", func(t *testing.T) {
		g := groupOf(mkDep("a", "g", "openai/x", nil))
		var tried, excluded marks
		excluded.set(0)
		if i, free := g.pick(clock, rand.Float64, &tried, &excluded); i != -1 || !free.IsZero() {
			t.Fatalf("pick = %d, %v; want -1, zero", i, free)
		}
	})
	t.Run("standby serves when the weighted one cools", func(t *testing.T) {
		g := groupOf(mkDep("a", "g", "openai/x", map[string]any{"weight": 1}), mkDep("b", "g", "openai/x", nil))
		cool(g.members[0], time.Second)
		var tried, excluded marks
		if i, _ := g.pick(clock, rand.Float64, &tried, &excluded); i != 1 {
			t.Fatalf("picked %d, want the standby 1", i)
		}
	})
}

func TestMarksBeyond64(t *testing.T) {
	var m marks
	for _, i := range []int{0, 63, 64, 130} {
		m.set(i)
	}
	for i := range 140 {
		want := i == 0 || i == 63 || i == 64 || i == 130
		if m.has(i) != want {
			t.Errorf("has(%d) = %v, want %v", i, m.has(i), want)
		}
	}
}
