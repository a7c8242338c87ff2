package ledger

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/clawgate/clawgate/app/store"
)

// BudgetView is one budget as the tray shows it: a virtual key's, or the proxy-wide one.
type BudgetView struct {
	// Name is the key's alias, else its display name (sk-...abcd); "All requests" for the proxy.
	Name   string
	Global bool
	// Token is the key's hash (as /key/list shows it), for EditKey; empty for the proxy budget.
	Token string
	// Spend is the spend in the current window (live: resets that fell due are applied).
	Spend                 float64
	MaxBudget, SoftBudget *float64
	Duration              string     // "30d", "monthly", ...; "" when the budget never resets
	ResetAt               *time.Time // the next reset
	Expires               *time.Time
	Blocked               bool
	LastActive            *time.Time
}

// maxListed bounds Budgets: a personal gateway has a handful of keys.
const maxListed = 1000

// Budgets lists the proxy-wide budget (when litellm_settings.max_budget is set) and every virtual
// key's, newest key first, with live spend: each key is loaded as a request would load it, so its
// window is rolled over if a reset fell due.
func (l *Ledger) Budgets(ctx context.Context) ([]BudgetView, error) {
	var out []BudgetView
	if spend, limit, resetAt := l.GlobalSpend(); limit != nil {
		v := BudgetView{Name: "All requests", Global: true, Spend: spend, MaxBudget: limit, ResetAt: resetAt}
		if d := l.settings().BudgetDuration; d != nil {
			v.Duration = d.String()
		}
		out = append(out, v)
	}
	keys, _, err := l.st.ListKeys(ctx, store.ListKeysOpts{Page: 1, Size: maxListed})
	if err != nil {
		return nil, fmt.Errorf("list keys: %w", err)
	}
	for _, k := range keys {
		e, err := l.entryFor(ctx, k.Token)
		if err != nil {
			continue // deleted meanwhile
		}
		k = l.snapshot(e)
		spend, _, resetAt := l.bl.Spend(k.Token)
		name := k.KeyAlias
		if name == "" {
			name = k.KeyName
		}
		out = append(out, BudgetView{Name: name, Token: k.Token, Spend: spend, MaxBudget: k.MaxBudget, SoftBudget: k.SoftBudget,
			Duration: k.BudgetDuration, ResetAt: resetAt, Expires: k.Expires, Blocked: k.Blocked, LastActive: k.LastActive})
	}
	return out, nil
}

// KeyEdit is a change to a key from the tray; nil fields are left as they are.
type KeyEdit struct {
	MaxBudget      *float64
	BudgetDuration *string // "" removes the reset; else a budget_duration ("30d", "monthly", ...)
	Blocked        *bool
}

// EditKey changes the key with this token as /key/update would, with the same checks.
func (l *Ledger) EditKey(ctx context.Context, token string, ed KeyEdit) error {
	q := keyRequest{MaxBudget: ed.MaxBudget, BudgetDuration: ed.BudgetDuration, Blocked: ed.Blocked}
	v, msg := q.validate()
	if msg != "" {
		return errors.New(msg)
	}
	e, err := l.entryFor(ctx, token)
	if err != nil {
		return fmt.Errorf("key: %w", err)
	}
	_, err = l.update(ctx, e, &q, v)
	return err
}
