package ledger

import "github.com/clawgate/clawgate/proxy"

var _ proxy.BudgetChecker = (*Ledger)(nil)

// HasBudget reports whether p's key has a budget of its own (max_budget). The gateway refuses such
// a key on a route without a price, whose spend it could not count; the master key and keys
// without a budget are served, their rows marked unpriced.
func (l *Ledger) HasBudget(p *proxy.Principal) bool {
	if p == nil || p.Master || p.KeyHash == "" {
		return false
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	e := l.keys[p.KeyHash]
	return e != nil && e.k.MaxBudget != nil
}
