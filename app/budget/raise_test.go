package budget

import "testing"

// RaiseSpend takes another process's spend: it raises, never lowers, keeps reservations and the
// limit, and does nothing to an unknown budget.
func TestLedgerRaiseSpend(t *testing.T) {
	l := NewLedger(LedgerOptions{})
	l.SetBudget("key", f(1), 0.2, nil, nil)
	r, err := l.Reserve([]string{"key"}, 0.3)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		spend     float64
		raised    bool
		wantSpend float64
	}{
		{"higher", 0.6, true, 0.6},
		{"lower", 0.4, false, 0.6},
		{"equal", 0.6, false, 0.6},
		{"not a number", -1, false, 0.6},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := l.RaiseSpend("key", tc.spend); got != tc.raised {
				t.Errorf("RaiseSpend(%v) = %v, want %v", tc.spend, got, tc.raised)
			}
			if s, res, _ := l.Spend("key"); !near(s, tc.wantSpend) || !near(res, 0.3) {
				t.Errorf("spend %v reserved %v, want %v 0.3", s, res, tc.wantSpend)
			}
		})
	}
	// 0.6 spent + 0.3 held < 1: one more fits; raised to 0.8, 0.8 + 0.3 reaches the limit.
	l.RaiseSpend("key", 0.8)
	if _, err := l.Reserve([]string{"key"}, 0); err == nil {
		t.Fatal("admitted past the limit after another process's spend was taken")
	}
	r.Release()
	if l.RaiseSpend("nobody", 5) {
		t.Error("raised an unknown budget")
	}
}
