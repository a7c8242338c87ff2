package app

import (
	"context"
	"errors"
	"fmt"
	"math"
)

// SetOpenClawBudget gives the key OpenClaw uses (alias "openclaw", minted when OpenClaw was
// connected) a monthly budget of usd, resetting each month. It writes SQLite: call it off the UI
// goroutine.
func (a *App) SetOpenClawBudget(ctx context.Context, usd float64) error {
	if usd <= 0 || math.IsNaN(usd) || math.IsInf(usd, 0) {
		return fmt.Errorf("a budget is a positive number of dollars, not %v", usd)
	}
	l := a.led()
	if l == nil {
		return errors.New("the spend ledger is closed")
	}
	keys, err := l.KeysByAlias(ctx, "openclaw")
	if err != nil {
		return err
	}
	if len(keys) == 0 {
		return errors.New("OpenClaw has no key of this gateway yet (it uses a LITELLM_API_KEY you set): connect OpenClaw first, or set that key's budget in Keys")
	}
	monthly := "monthly"
	return a.EditKey(ctx, keys[0].Token, KeyEdit{MaxBudget: &usd, BudgetDuration: &monthly})
}
