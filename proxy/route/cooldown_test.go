package route

import (
	"context"
	"testing"
	"time"

	"github.com/clawgate/clawgate/proxy/provider"
)

func TestHealth(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	type step struct {
		at        time.Duration // since t0
		fail      bool          // false = success
		immediate bool
		hint      time.Duration
		cooled    bool          // failed() reports a cooldown start
		coolUntil time.Duration // expected until after the step, since t0 (0 = not cooling at the step's time)
	}
	tests := []struct {
		name  string
		s     Settings
		steps []step
	}{
		{"cools after allowed_fails is exceeded", Settings{AllowedFails: 2, CooldownTime: 10 * time.Second}, []step{
			{at: 0, fail: true},
			{at: time.Second, fail: true},
			{at: 2 * time.Second, fail: true, cooled: true, coolUntil: 12 * time.Second},
		}},
		{"allowed_fails 0 cools at once", Settings{AllowedFails: 0, CooldownTime: 5 * time.Second}, []step{
			{at: 0, fail: true, cooled: true, coolUntil: 5 * time.Second},
		}},
		{"failures leave the window", Settings{AllowedFails: 1, CooldownTime: 5 * time.Second}, []step{
			{at: 0, fail: true},
			{at: 61 * time.Second, fail: true},
			{at: 122 * time.Second, fail: true},
			{at: 130 * time.Second, fail: true, cooled: true, coolUntil: 135 * time.Second},
		}},
		{"success clears the count", Settings{AllowedFails: 1, CooldownTime: 5 * time.Second}, []step{
			{at: 0, fail: true},
			{at: 1 * time.Second},
			{at: 2 * time.Second, fail: true},
			{at: 3 * time.Second, fail: true, cooled: true, coolUntil: 8 * time.Second},
		}},
		{"still failing after a cooldown cools again", Settings{AllowedFails: 1, CooldownTime: 5 * time.Second}, []step{
			{at: 0, fail: true},
			{at: 1 * time.Second, fail: true, cooled: true, coolUntil: 6 * time.Second},
			{at: 7 * time.Second, fail: true, cooled: true, coolUntil: 12 * time.Second},
		}},
		{"immediate", Settings{AllowedFails: 3, CooldownTime: 5 * time.Second}, []step{
			{at: 0, fail: true, immediate: true, cooled: true, coolUntil: 5 * time.Second},
		}},
		{"hint lengthens", Settings{AllowedFails: 3, CooldownTime: 5 * time.Second}, []step{
			{at: 0, fail: true, immediate: true, hint: 30 * time.Second, cooled: true, coolUntil: 30 * time.Second},
		}},
		{"hint never shortens", Settings{AllowedFails: 3, CooldownTime: 5 * time.Second}, []step{
			{at: 0, fail: true, immediate: true, hint: time.Second, cooled: true, coolUntil: 5 * time.Second},
		}},
		{"hint is capped", Settings{AllowedFails: 0, CooldownTime: 5 * time.Second}, []step{
			{at: 0, fail: true, hint: 24 * time.Hour, cooled: true, coolUntil: maxHintCooldown},
		}},
		{"a shorter cooldown does not cut a longer one", Settings{AllowedFails: 0, CooldownTime: 5 * time.Second}, []step{
			{at: 0, fail: true, hint: time.Minute, cooled: true, coolUntil: time.Minute},
			{at: time.Second, fail: true, cooled: true, coolUntil: time.Minute},
		}},
		{"cooldown_time 0 disables", Settings{AllowedFails: 0, CooldownTime: 0}, []step{
			{at: 0, fail: true, immediate: true},
			{at: time.Second, fail: true},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h health
			for i, st := range tt.steps {
				now := t0.Add(st.at)
				if st.fail {
					if got := h.failed(now, &tt.s, st.immediate, st.hint); got != st.cooled {
						t.Fatalf("step %d: failed() = %v, want %v", i, got, st.cooled)
					}
				} else {
					h.succeeded()
				}
				if st.coolUntil == 0 {
					if h.cooling(now) {
						t.Fatalf("step %d: cooling, want not", i)
					}
					continue
				}
				if got, want := h.until.Load(), t0.Add(st.coolUntil).UnixNano(); got != want {
					t.Fatalf("step %d: until = %v, want %v", i, time.Duration(got-t0.UnixNano()), st.coolUntil)
				}
				if !h.cooling(now) || h.cooling(t0.Add(st.coolUntil)) {
					t.Fatalf("step %d: cooling must hold until %v and end there", i, st.coolUntil)
				}
			}
		})
	}
}

func TestHealthRecordIsBounded(t *testing.T) {
	var h health
	s := Settings{AllowedFails: 3, CooldownTime: time.Second}
	t0 := time.Unix(1_700_000_000, 0)
	for i := range 1000 {
		h.failed(t0.Add(time.Duration(i)*time.Millisecond), &s, false, 0)
	}
	if len(h.fails) != 4 || h.nfail.Load() != 4 {
		t.Fatalf("kept %d failures (nfail %d), want allowed_fails+1 = 4", len(h.fails), h.nfail.Load())
	}
	h.succeeded()
	if len(h.fails) != 0 || h.nfail.Load() != 0 {
		t.Fatalf("success left %d failures", len(h.fails))
	}
}

func TestRouterHealth(t *testing.T) {
	clk := newClock()
	r, _ := testRouter([]*Deployment{mkDep("a", "g", "openai/m", nil), mkDep("b", "g", "openai/m", nil), mkDep("w", "openai/*", "openai/*", nil)},
		Settings{NumRetries: 0, AllowedFails: 1, CooldownTime: time.Minute, Now: clk.Now})
	fail := func(context.Context, *Deployment, string) error { return &provider.Error{Status: 500} }
	r.Do(t.Context(), "g", fail) // a: one failure, allowed
	got := r.Health()
	if len(got) != 3 || got[0].Deployment.ID != "a" || got[1].Deployment.ID != "b" || got[2].Deployment.ID != "w" {
		t.Fatalf("health order: %+v", got)
	}
	if got[0].RecentFailures != 1 || !got[0].CoolingUntil.IsZero() || got[1].RecentFailures != 0 {
		t.Errorf("after one failure: %+v %+v", got[0], got[1])
	}
	r.Do(t.Context(), "g", fail) // a again: over allowed_fails, cools down
	if h := r.Health()[0]; h.RecentFailures != 2 || !h.CoolingUntil.Equal(clk.Now().Add(time.Minute)) {
		t.Errorf("after two failures: %+v", h)
	}
	clk.Add(2 * time.Minute) // the cooldown ends and the failures leave the window
	if h := r.Health()[0]; h.RecentFailures != 0 || !h.CoolingUntil.IsZero() {
		t.Errorf("two minutes later: %+v", h)
	}
}
