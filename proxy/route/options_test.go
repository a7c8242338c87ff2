package route

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/clawgate/clawgate/proxy/config"
)

// TestDoWith checks the request's own routing options: body fallbacks replace the configured
// ones and go through Allow like them, and num_retries replaces the configured count.
func TestDoWith(t *testing.T) {
	deps := []*Deployment{
		mkDep("p1", "primary", "openai/gpt-4o", nil),
		mkDep("p2", "primary", "openai/gpt-4o", nil),
		mkDep("x", "expensive", "openai/o1", nil),
		mkDep("c", "cheap", "openai/gpt-4o-mini", nil),
	}
	only := func(groups ...string) Allow {
		return func(_, g string) bool { return slices.Contains(groups, g) }
	}
	two := 1
	zero := 0
	tests := []struct {
		name      string
		o         Options
		wantCalls []string
		wantOK    bool
		skipped   []string
	}{
		{"configured fallbacks without options", Options{}, []string{"p1", "c"}, true, nil},
		{"body fallbacks replace the configured", Options{Fallbacks: []string{"expensive"}}, []string{"p1", "x"}, true, nil},
		{"empty body fallbacks turn them off", Options{Fallbacks: []string{}}, []string{"p1"}, false, nil},
		{"body fallback outside the key's models is never called", Options{Allow: only("primary", "cheap"), Fallbacks: []string{"expensive"}},
			[]string{"p1"}, false, []string{"expensive"}},
		{"num_retries 1 tries a second deployment of the group", Options{NumRetries: &two, Fallbacks: []string{}}, []string{"p1", "p2"}, false, nil},
		{"num_retries 0 over a configured 1", Options{NumRetries: &zero, Fallbacks: []string{}}, []string{"p1"}, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock()
			r, _ := testRouter(deps, Settings{CooldownTime: time.Minute, Now: clk.Now,
				Fallbacks: []config.Fallback{{Group: "primary", To: []string{"cheap"}}}})
			if tt.name == "num_retries 0 over a configured 1" {
				r.s.NumRetries = 1
			}
			sc := &script{errs: map[string][]error{"p1": {status(500)}, "p2": {status(500)}}}
			_, err := r.DoWith(t.Context(), "primary", tt.o, sc.attempt)
			if got := sc.ids(); !slices.Equal(got, tt.wantCalls) {
				t.Errorf("calls = %q, want %q", got, tt.wantCalls)
			}
			if (err == nil) != tt.wantOK {
				t.Errorf("err = %v, want success %v", err, tt.wantOK)
			}
			var na *NotAllowedError
			if tt.skipped != nil && (!errors.As(err, &na) || !slices.Equal(na.Skipped, tt.skipped)) {
				t.Errorf("err = %v, want skipped %q", err, tt.skipped)
			}
		})
	}
}
