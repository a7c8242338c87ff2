package ledger

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/clawgate/clawgate/app/budget"
	"github.com/clawgate/clawgate/app/store"
	"github.com/clawgate/clawgate/proxy"
)

// KeyRequest is the part of LiteLLM's GenerateKeyRequest / UpdateKeyRequest that Clawgate acts
// on. Absent and null fields are nil: /key/update changes only what is set. Every other field a
// client sends is echoed back by /key/generate, as LiteLLM does.
type KeyRequest struct {
	Key                 *string           `json:"key"`
	KeyAlias            *string           `json:"key_alias"`
	Duration            *string           `json:"duration"`
	Models              *[]string         `json:"models"`
	MaxBudget           *float64          `json:"max_budget"`
	SoftBudget          *float64          `json:"soft_budget"`
	BudgetDuration      *string           `json:"budget_duration"`
	Metadata            map[string]any    `json:"metadata"`
	Aliases             map[string]string `json:"aliases"` // model alias -> model group
	TPMLimit            *int64            `json:"tpm_limit"`
	RPMLimit            *int64            `json:"rpm_limit"`
	MaxParallelRequests *int64            `json:"max_parallel_requests"`
	Spend               *float64          `json:"spend"`
	UserID              *string           `json:"user_id"`
	TeamID              *string           `json:"team_id"`
	Blocked             *bool             `json:"blocked"`
	NewKey              *string           `json:"new_key"` // /key/regenerate
}

// parsed holds the validated durations of a KeyRequest (nil: none, or not sent).
type parsed struct {
	budgetDur *budget.Duration
	expiry    *budget.Duration
}

// validate checks every field and returns a 400 message, or "".
func (q *KeyRequest) validate() (parsed, string) {
	var p parsed
	if q.BudgetDuration != nil {
		d, err := budget.ParseOptionalDuration(*q.BudgetDuration)
		if err != nil {
			return p, fmt.Sprintf("Invalid budget_duration %q. Accepted: %s.", *q.BudgetDuration, budget.Accepted)
		}
		p.budgetDur = d
	}
	if q.Duration != nil {
		d, err := budget.ParseOptionalDuration(*q.Duration)
		if err != nil {
			return p, fmt.Sprintf("Invalid duration %q (the key's lifetime). Accepted: %s; or null for a key that never expires.", *q.Duration, budget.Accepted)
		}
		p.expiry = d
	}
	for name, f := range map[string]*float64{"max_budget": q.MaxBudget, "soft_budget": q.SoftBudget, "spend": q.Spend} {
		if f != nil && (*f < 0 || math.IsInf(*f, 0) || math.IsNaN(*f)) {
			return p, fmt.Sprintf("%s must be 0 or more (USD), got %v.", name, *f)
		}
	}
	for name, i := range map[string]*int64{"tpm_limit": q.TPMLimit, "rpm_limit": q.RPMLimit, "max_parallel_requests": q.MaxParallelRequests} {
		if i != nil && *i < 0 {
			return p, fmt.Sprintf("%s must be 0 or more, got %d.", name, *i)
		}
	}
	if q.Models != nil {
		for _, m := range *q.Models {
			if strings.TrimSpace(m) == "" {
				return p, "models must not hold empty names."
			}
		}
	}
	for a, g := range q.Aliases {
		if strings.TrimSpace(a) == "" || strings.TrimSpace(g) == "" {
			return p, fmt.Sprintf(`aliases maps a model name to a model group, both non-empty: got %q: %q.`, a, g)
		}
	}
	return p, ""
}

// newKey returns a fresh virtual key: sk- and 22 url-safe characters (16 random bytes), as
// LiteLLM's secrets.token_urlsafe(16).
func newKey() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return "sk-" + base64.RawURLEncoding.EncodeToString(b[:])
}

// keyName is LiteLLM's abbreviation: sk-...XXXX (the last four characters).
func keyName(key string) string {
	if len(key) < 8 {
		return "sk-..."
	}
	return "sk-..." + key[len(key)-4:]
}

// tokenOf turns a key or its hash into the hash.
func tokenOf(s string) string {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "sk-") {
		return proxy.HashKey(s)
	}
	return strings.ToLower(s)
}

// mask shows a key or hash in a message without giving it away.
func mask(s string) string {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "sk-") {
		return keyName(s)
	}
	if len(s) > 8 {
		return s[:8] + "..."
	}
	return s
}

func (l *Ledger) snapshot(e *entry) store.Key {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return e.k
}

// keyObject is a key as LiteLLM's /key/info "info" shows it (LiteLLM_VerificationToken). Spend
// and budget_reset_at are the live values: the window's spend so far, in flight excluded.
func (l *Ledger) keyObject(k store.Key) map[string]any { return l.keyObjectFrom(k, nil) }

// keyObjectFrom is keyObject with the database's budgets already read for a list of keys (views
// nil: read this key's now).
func (l *Ledger) keyObjectFrom(k store.Key, views map[string]store.BudgetState) map[string]any {
	spend, _, resetAt := l.bl.Spend(k.Token)
	// Shared mode: every gateway's spend, as the database has it (key changes do not carry spend there).
	if b, ok := views[k.Token]; ok {
		spend = b.Spend
	} else if views == nil {
		spend, _ = l.sharedView(context.Background(), k.Token, spend, 0)
	}
	return map[string]any{
		"token":                  k.Token,
		"key_name":               k.KeyName,
		"key_alias":              nilIfEmpty(k.KeyAlias),
		"spend":                  spend,
		"max_budget":             k.MaxBudget,
		"soft_budget":            k.SoftBudget,
		"budget_duration":        nilIfEmpty(k.BudgetDuration),
		"budget_reset_at":        timeJSON(resetAt),
		"expires":                timeJSON(k.Expires),
		"models":                 nonNilStrings(k.Models),
		"aliases":                nonNilAliases(k.Aliases),
		"config":                 map[string]any{},
		"permissions":            map[string]any{},
		"metadata":               nonNilMap(k.Metadata),
		"user_id":                nilIfEmpty(k.UserID),
		"team_id":                nilIfEmpty(k.TeamID),
		"organization_id":        nil,
		"budget_id":              nil,
		"tpm_limit":              k.TPMLimit,
		"rpm_limit":              k.RPMLimit,
		"max_parallel_requests":  k.MaxParallelRequests,
		"blocked":                k.Blocked,
		"allowed_cache_controls": []string{},
		"allowed_routes":         []string{},
		"model_spend":            map[string]any{},
		"model_max_budget":       map[string]any{},
		"soft_budget_cooldown":   false,
		"litellm_budget_table":   nil,
		"created_at":             k.CreatedAt.UTC(),
		"created_by":             nil,
		"updated_at":             k.UpdatedAt.UTC(),
		"updated_by":             nil,
		"last_active":            timeJSON(k.LastActive),
	}
}

func timeJSON(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UTC()
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func nonNilAliases(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

func nonNilMap(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

// apply sets on k the plain fields of q that are set (durations and spend are the caller's).
func (q *KeyRequest) apply(k *store.Key) {
	if q.KeyAlias != nil {
		k.KeyAlias = strings.TrimSpace(*q.KeyAlias)
	}
	if q.Models != nil {
		k.Models = slices.Clone(*q.Models)
	}
	if q.Metadata != nil {
		k.Metadata = q.Metadata
	}
	if q.Aliases != nil {
		k.Aliases = maps.Clone(q.Aliases)
	}
	if q.MaxBudget != nil {
		k.MaxBudget = q.MaxBudget
	}
	if q.SoftBudget != nil {
		k.SoftBudget = q.SoftBudget
	}
	if q.TPMLimit != nil {
		k.TPMLimit = q.TPMLimit
	}
	if q.RPMLimit != nil {
		k.RPMLimit = q.RPMLimit
	}
	if q.MaxParallelRequests != nil {
		k.MaxParallelRequests = q.MaxParallelRequests
	}
	if q.UserID != nil {
		k.UserID = *q.UserID
	}
	if q.TeamID != nil {
		k.TeamID = strings.TrimSpace(*q.TeamID)
	}
	if q.Blocked != nil {
		k.Blocked = *q.Blocked
	}
}

// update applies q to the key in e: in the store first (so a refused alias changes nothing),
// then in memory and in the budget ledger. It returns the key as stored.
func (l *Ledger) update(ctx context.Context, e *entry, q *KeyRequest, v parsed) (store.Key, error) {
	old := l.snapshot(e)
	k := old
	now := l.now()
	k.UpdatedAt = now
	q.apply(&k)
	if q.Duration != nil {
		k.Expires = nil
		if v.expiry != nil {
			exp := addDuration(*v.expiry, now)
			k.Expires = &exp
		}
	}
	oldDur, _ := budget.ParseOptionalDuration(old.BudgetDuration)
	newDur := oldDur
	if q.BudgetDuration != nil {
		newDur = v.budgetDur
		k.BudgetDuration = ""
		if newDur != nil {
			k.BudgetDuration = strings.TrimSpace(*q.BudgetDuration)
		}
	}
	durChanged := !sameDuration(oldDur, newDur)
	if err := l.st.UpdateKey(ctx, k); err != nil {
		return store.Key{}, err
	}
	l.mu.Lock()
	// Spend, window and reset time are the budget ledger's; keep what it last wrote there.
	k.Spend, k.SpendSince, k.BudgetResetAt = e.k.Spend, e.k.SpendSince, e.k.BudgetResetAt
	e.k = k
	l.mu.Unlock()
	switch {
	case durChanged:
		// A new window at spend 0: OnReset stores spend_since and budget_reset_at.
		l.bl.SetBudget(k.Token, k.MaxBudget, 0, nil, newDur)
	case q.MaxBudget != nil:
		l.bl.SetLimit(k.Token, k.MaxBudget)
	}
	if q.Spend != nil {
		if err := l.setSpend(ctx, k.Token, *q.Spend, newDur); err != nil {
			return store.Key{}, err
		}
	}
	return l.snapshot(e), nil
}

// setSpend sets a key's spend in its current window (LiteLLM's "spend" on /key/update). The
// window is restarted on disk from now, so that what the logs say about earlier requests does not
// come back at the next start.
func (l *Ledger) setSpend(ctx context.Context, token string, spend float64, d *budget.Duration) error {
	_, _, resetAt := l.bl.Spend(token)
	now := l.now()
	if _, err := l.st.ResetKeySpend(ctx, token, now, resetAt); err != nil {
		return err
	}
	if err := l.st.SetKeySpend(ctx, token, spend); err != nil {
		return err
	}
	if l.shared != nil {
		if err := l.shared.setSpend(ctx, token, spend); err != nil {
			return err
		}
	}
	l.bl.SetBudget(token, l.limitOf(token), spend, resetAt, d)
	l.mu.Lock()
	if e := l.keys[token]; e != nil {
		e.k.Spend, e.k.SpendSince = spend, &now
	}
	l.mu.Unlock()
	return nil
}

func (l *Ledger) limitOf(token string) *float64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if e := l.keys[token]; e != nil {
		return e.k.MaxBudget
	}
	return nil
}
