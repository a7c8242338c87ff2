package ledger

import (
	"context"
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
	Spend float64
	// Reserved is what requests in flight hold on the budget now.
	Reserved              float64
	MaxBudget, SoftBudget *float64
	Duration              string     // "30d", "monthly", ...; "" when the budget never resets
	ResetAt               *time.Time // the next reset
	Expires               *time.Time
	Blocked               bool
	LastActive            *time.Time
}

// BudgetState is what a budget does to the next request, in the words the Budgets window shows.
type BudgetState string

// A budget's states, from the most to the least severe; State picks the first that holds.
const (
	BudgetBlocked  BudgetState = "blocked"  // the key is blocked: every request refused
	BudgetExpired  BudgetState = "expired"  // the key expired: every request refused
	BudgetRefusing BudgetState = "refusing" // spend plus what is in flight reached max_budget
	BudgetOver80   BudgetState = "over 80%"
	BudgetSoft     BudgetState = "soft" // past soft_budget: an alert, no refusal
	BudgetOK       BudgetState = "ok"
)

// warnShare is the share of max_budget from which a budget is shown as nearly spent (the 80%
// alert level).
const warnShare = 0.8

// State says what the budget does now. "refusing" uses the gate's own rule (spend plus what
// requests in flight hold has reached the limit), so it is true exactly while the gate refuses.
func (v BudgetView) State(now time.Time) BudgetState {
	switch {
	case v.Blocked:
		return BudgetBlocked
	case v.Expires != nil && !v.Expires.After(now):
		return BudgetExpired
	case v.MaxBudget != nil && v.Spend+v.Reserved >= *v.MaxBudget:
		return BudgetRefusing
	case v.MaxBudget != nil && v.Spend >= warnShare**v.MaxBudget:
		return BudgetOver80
	case v.SoftBudget != nil && v.Spend >= *v.SoftBudget:
		return BudgetSoft
	}
	return BudgetOK
}

// maxListed bounds Budgets: a personal gateway has a handful of keys.
const maxListed = 1000

// Budgets lists the proxy-wide budget (when litellm_settings.max_budget is set) and every virtual
// key's, newest key first, with live spend: each key is loaded as a request would load it, so its
// window is rolled over if a reset fell due.
func (l *Ledger) Budgets(ctx context.Context) ([]BudgetView, error) {
	var out []BudgetView
	if spend, limit, resetAt := l.GlobalSpend(); limit != nil {
		_, reserved, _ := l.bl.Spend(GlobalBudget)
		spend, reserved = l.sharedView(ctx, GlobalBudget, spend, reserved)
		v := BudgetView{Name: "All requests", Global: true, Spend: spend, Reserved: reserved, MaxBudget: limit, ResetAt: resetAt}
		if d := l.settings().BudgetDuration; d != nil {
			v.Duration = d.String()
		}
		out = append(out, v)
	}
	keys, _, err := l.st.ListKeys(ctx, store.ListKeysOpts{Page: 1, Size: maxListed})
	if err != nil {
		return nil, fmt.Errorf("list keys: %w", err)
	}
	ids := make([]string, len(keys))
	for i, k := range keys {
		ids[i] = k.Token
	}
	views := l.sharedViews(ctx, ids)
	for _, k := range keys {
		e, err := l.entryFor(ctx, k.Token)
		if err != nil {
			continue // deleted meanwhile
		}
		k = l.snapshot(e)
		spend, reserved, resetAt := l.bl.Spend(k.Token)
		if b, ok := views[k.Token]; ok {
			spend, reserved = b.Spend, b.Held
		}
		name := k.KeyAlias
		if name == "" {
			name = k.KeyName
		}
		out = append(out, BudgetView{Name: name, Token: k.Token, Spend: spend, Reserved: reserved, MaxBudget: k.MaxBudget, SoftBudget: k.SoftBudget,
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
	_, err := l.UpdateKey(ctx, token, KeyRequest{MaxBudget: ed.MaxBudget, BudgetDuration: ed.BudgetDuration, Blocked: ed.Blocked})
	return err
}

// forgetBudget drops budget id from memory: its window and spend, and the alert thresholds it
// crossed (a budget made again under the id alerts afresh).
func (l *Ledger) forgetBudget(id string) {
	l.bl.Remove(id)
	l.alert.Forget(id)
}
