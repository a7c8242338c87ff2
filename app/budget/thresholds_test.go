package budget

import (
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func f(v float64) *float64 { return &v }

func TestCrossed(t *testing.T) {
	max := func(level, amount float64) Crossing {
		return Crossing{Kind: KindMaxBudget, Level: level, Amount: amount}
	}
	tests := []struct {
		name       string
		prev, next float64
		limit      float64
		soft       *float64
		levels     []float64
		want       []Crossing
	}{
		{"nothing crossed", 1, 2, 10, nil, nil, nil},
		{"half", 4, 5, 10, nil, nil, []Crossing{max(0.5, 5)}},
		{"reaching exactly counts once", 5, 6, 10, nil, nil, nil},
		{"jump over several", 0, 10, 10, nil, nil, []Crossing{max(0.5, 5), max(0.8, 8), max(1, 10)}},
		{"beyond the limit", 9, 12, 10, nil, nil, []Crossing{max(1, 10)}},
		{"soft between levels", 6, 7, 10, f(6.5), nil, []Crossing{{Kind: KindSoftBudget, Level: 0.65, Amount: 6.5}}},
		{"soft equal to a level sorts first", 4, 6, 10, f(5), nil, []Crossing{{Kind: KindSoftBudget, Level: 0.5, Amount: 5}, max(0.5, 5)}},
		{"soft without max budget", 0, 3, 0, f(2), nil, []Crossing{{Kind: KindSoftBudget, Level: 0, Amount: 2}}},
		{"custom levels, junk ignored", 0, 10, 10, nil, []float64{0.9, 0, -1, 0.9, 0.25}, []Crossing{max(0.25, 2.5), max(0.9, 9)}},
		{"spend going down crosses nothing", 9, 1, 10, f(5), nil, nil},
		{"no limit, no soft", 0, 100, 0, nil, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Crossed(tt.prev, tt.next, tt.limit, tt.soft, tt.levels)
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Crossed(%v, %v) = %+v, want %+v", tt.prev, tt.next, got, tt.want)
			}
		})
	}
}

func TestAlerterOncePerWindow(t *testing.T) {
	a := NewAlerter()
	th := Thresholds{Limit: 10, Soft: f(3)}
	w1 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	w2 := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)

	if got := a.Observe("k", w1, 0, 6, th); len(got) != 2 { // soft 3, 50%
		t.Fatalf("first observe = %+v, want soft and 50%%", got)
	}
	// Spend recomputed lower and crossing again in the same window: nothing new.
	if got := a.Observe("k", w1, 2, 6, th); got != nil {
		t.Fatalf("repeat = %+v, want nothing", got)
	}
	if got := a.Observe("k", w1, 6, 8.5, th); len(got) != 1 || got[0].Level != 0.8 {
		t.Fatalf("80%% = %+v", got)
	}
	// A new window fires everything again, and the old window's late events are stale.
	if got := a.Observe("k", w2, 0, 6, th); len(got) != 2 {
		t.Fatalf("new window = %+v, want 2", got)
	}
	if got := a.Observe("k", w1, 8.5, 10, th); got != nil {
		t.Fatalf("stale window fired %+v", got)
	}
	// Other budgets are independent.
	if !a.Fire("other", w1, Crossing{Kind: KindMaxBudget, Level: 1, Amount: 10}) {
		t.Fatal("other budget did not fire")
	}
	a.Forget("other")
	if a.Len() != 1 {
		t.Fatalf("Len = %d, want 1", a.Len())
	}
}

func TestAlerterBoundedMemory(t *testing.T) {
	a := NewAlerter()
	th := Thresholds{Limit: 1}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 10000; i++ {
		w := start.Add(time.Duration(i) * time.Hour)
		for k := 0; k < 5; k++ {
			a.Observe(fmt.Sprintf("key-%d", k), w, 0, 1, th)
		}
	}
	if a.Len() != 5 {
		t.Fatalf("remembered %d budgets, want 5", a.Len())
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for id, w := range a.windows {
		if len(w.fired) != 3 {
			t.Fatalf("%s remembers %d thresholds, want the 3 of its latest window", id, len(w.fired))
		}
	}
}

func TestAlerterConcurrent(t *testing.T) {
	a := NewAlerter()
	w := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	c := Crossing{Kind: KindMaxBudget, Level: 0.8, Amount: 8}
	var fired atomic.Int64
	var wg sync.WaitGroup
	for i := 0; i < 200; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if a.Fire("k", w, c) {
				fired.Add(1)
			}
		}()
	}
	wg.Wait()
	if fired.Load() != 1 {
		t.Fatalf("fired %d times, want once", fired.Load())
	}
}

// A budget's first refusal fires once per window, apart from its 100% level, and a new window
// fires it again.
func TestAlerterExhausted(t *testing.T) {
	a := NewAlerter()
	w1 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if !a.Fire("k", w1, Exhausted) || a.Fire("k", w1, Exhausted) {
		t.Fatal("exhausted should fire once in a window")
	}
	if !a.Fire("k", w1, Full) {
		t.Fatal("exhausted and the 100% level share a key")
	}
	if got := a.Observe("k", w1, 0, 10, Thresholds{Limit: 10}); len(got) != 2 {
		t.Fatalf("the 100%% level fired again from spend: %+v", got)
	}
	if !a.Fire("k", w1.AddDate(0, 0, 1), Exhausted) {
		t.Fatal("a new window fires exhausted again")
	}
}
