package ledger

import (
	"context"
	"time"

	"github.com/clawgate/clawgate/app/budget"
)

// alerter lets each threshold of a budget fire once per window: budget.Alerter in one process,
// sharedAlerts across the gateways of one database.
type alerter interface {
	Observe(id string, window time.Time, prev, next float64, t budget.Thresholds) []budget.Crossing
	Fire(id string, window time.Time, c budget.Crossing) bool
	Forget(id string)
}

// sharedAlerts claims each crossing in the database (budget, window, threshold): the gateway
// whose claim is the first announces it, the others stay silent. While the database refuses
// claims, each gateway decides alone (an alert may then come once per gateway).
type sharedAlerts struct {
	l     *Ledger
	local *budget.Alerter
}

func (a *sharedAlerts) Observe(id string, window time.Time, prev, next float64, t budget.Thresholds) []budget.Crossing {
	var out []budget.Crossing
	for _, c := range t.Crossed(prev, next) {
		if a.Fire(id, window, c) {
			out = append(out, c)
		}
	}
	return out
}

// Fire claims c for the window, once per gateway: a refusal storm asks the database once, not
// once per refused request.
func (a *sharedAlerts) Fire(id string, window time.Time, c budget.Crossing) bool {
	if !a.local.Fire(id, window, c) {
		return false // asked already; announced then if the claim was this gateway's
	}
	ctx, cancel := context.WithTimeout(context.Background(), sharedTimeout)
	defer cancel()
	took, err := a.l.st.ClaimAlert(ctx, id, window, c.Key(), a.l.now())
	if err != nil {
		a.l.log.Warn("ledger: could not claim a budget alert in the database; this gateway decides alone", "err", err)
		return true
	}
	return took
}

// Forget keeps the claims: they name a window that is over once the key is gone.
func (a *sharedAlerts) Forget(id string) { a.local.Forget(id) }

var _ alerter = (*sharedAlerts)(nil)
var _ alerter = (*budget.Alerter)(nil)
