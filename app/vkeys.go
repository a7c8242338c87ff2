package app

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/clawgate/clawgate/app/budget"
	"github.com/clawgate/clawgate/app/keychain"
	"github.com/clawgate/clawgate/app/ledger"
)

// KeySpec is a virtual key as the Keys form creates or edits it; nil and "" leave a field unset
// (on edit: unchanged).
type KeySpec struct {
	Alias  string
	Models []string // the model names it may call; empty: all
	// MaxBudget and SoftBudget are USD; BudgetDuration resets the spend ("30d", "monthly", ...).
	MaxBudget, SoftBudget *float64
	BudgetDuration        string
	RPM, TPM              *int64
	// Expires is how long the key lives ("30d", "12h"); "" for ever.
	Expires string
}

func (s KeySpec) request(create bool) ledger.KeyRequest {
	q := ledger.KeyRequest{MaxBudget: s.MaxBudget, SoftBudget: s.SoftBudget, RPMLimit: s.RPM, TPMLimit: s.TPM}
	str := func(v string) *string {
		v = strings.TrimSpace(v)
		if v == "" && create {
			return nil
		}
		return &v
	}
	q.KeyAlias = str(s.Alias)
	q.BudgetDuration = str(s.BudgetDuration)
	if strings.TrimSpace(s.Expires) != "" {
		q.Duration = str(s.Expires)
	}
	if s.Models != nil || !create {
		m := append([]string{}, s.Models...)
		q.Models = &m
	}
	return q
}

// CheckKey says what is wrong with a key as typed, by field ("max_budget", "soft_budget",
// "budget_duration", "expires"); empty when it can be saved.
func CheckKey(s KeySpec) map[string]string {
	out := map[string]string{}
	if s.MaxBudget != nil && *s.MaxBudget < 0 {
		out["max_budget"] = "a budget is zero or more"
	}
	if s.SoftBudget != nil && (*s.SoftBudget < 0 || s.MaxBudget != nil && *s.SoftBudget > *s.MaxBudget) {
		out["soft_budget"] = "a soft budget is between zero and the budget"
	}
	if d := strings.TrimSpace(s.BudgetDuration); d != "" {
		if _, err := budget.ParseOptionalDuration(d); err != nil {
			out["budget_duration"] = "a period is like 30d, 12h, daily, weekly or monthly"
		}
	}
	if d := strings.TrimSpace(s.Expires); d != "" {
		if _, err := budget.ParseOptionalDuration(d); err != nil {
			out["expires"] = "an expiry is a duration like 30d or 12h"
		}
	}
	return out
}

// CreateKey mints a virtual key and returns its secret, which is shown once and never kept.
func (a *App) CreateKey(ctx context.Context, s KeySpec) (string, error) {
	led, err := a.openLedger()
	if err != nil {
		return "", err
	}
	secret, _, err := led.GenerateKey(ctx, s.request(true))
	if err == nil {
		a.kickBudgets()
	}
	return secret, err
}

// UpdateKey changes the key whose hash is token to s (every field, as /key/update takes them).
func (a *App) UpdateKey(ctx context.Context, token string, s KeySpec) error {
	led, err := a.openLedger()
	if err != nil {
		return err
	}
	if _, err := led.UpdateKey(ctx, token, s.request(false)); err != nil {
		return err
	}
	a.kickBudgets()
	return nil
}

// KeyDetails reads the key whose hash is token as the edit form shows it.
func (a *App) KeyDetails(ctx context.Context, token string) (KeySpec, error) {
	led, err := a.openLedger()
	if err != nil {
		return KeySpec{}, err
	}
	k, err := led.KeyInfo(ctx, token)
	if err != nil {
		return KeySpec{}, err
	}
	return KeySpec{Alias: k.KeyAlias, Models: k.Models, MaxBudget: k.MaxBudget, SoftBudget: k.SoftBudget,
		BudgetDuration: k.BudgetDuration, RPM: k.RPMLimit, TPM: k.TPMLimit}, nil
}

// RegenerateKey gives the key a new secret and returns it; the old one stops working at once.
func (a *App) RegenerateKey(ctx context.Context, token string) (string, error) {
	led, err := a.openLedger()
	if err != nil {
		return "", err
	}
	secret, _, err := led.RegenerateKey(ctx, token, ledger.KeyRequest{})
	return secret, err
}

// DeleteKey deletes the key whose hash is token; its spend logs stay.
func (a *App) DeleteKey(ctx context.Context, token string) error {
	led, err := a.openLedger()
	if err != nil {
		return err
	}
	if err := led.DeleteKeys(ctx, []string{token}, nil); err != nil {
		return err
	}
	a.kickBudgets()
	return nil
}

func (a *App) openLedger() (*ledger.Ledger, error) {
	a.mu.Lock()
	led := a.ledger
	a.mu.Unlock()
	if led == nil {
		return nil, errors.New("the spend ledger is closed")
	}
	return led, nil
}

// ProxyBudget is the proxy-wide budget as config.yaml sets it.
type ProxyBudget struct {
	MaxBudget *float64 // nil: none
	Period    string   // litellm_settings.budget_duration; "" never resets
}

// ReadProxyBudget reads litellm_settings.max_budget and budget_duration from config.yaml, with
// the file's version for SetProxyBudget.
func (a *App) ReadProxyBudget() (ProxyBudget, ConfigVersion, error) {
	f, err := readConfigFile(a.opts.ConfigPath)
	if err != nil {
		return ProxyBudget{}, "", err
	}
	_, lit := value(f.top(), "litellm_settings")
	var b ProxyBudget
	if v := scalar(lit, "max_budget"); v != "" {
		if x, err := strconv.ParseFloat(v, 64); err == nil {
			b.MaxBudget = &x
		}
	}
	b.Period = scalar(lit, "budget_duration")
	return b, versionOf(f.raw), nil
}

// SetProxyBudget writes the proxy-wide budget to config.yaml (litellm_settings), comments and
// layout kept, and puts it in force.
func (a *App) SetProxyBudget(ver ConfigVersion, b ProxyBudget) (ConfigVersion, error) {
	if b.MaxBudget != nil && *b.MaxBudget < 0 {
		return ver, errors.New("a budget is zero or more")
	}
	if p := strings.TrimSpace(b.Period); p != "" {
		if _, err := budget.ParseOptionalDuration(p); err != nil {
			return ver, fmt.Errorf("budget period %q: %w", p, err)
		}
	}
	return a.editFile(ver, func(f *configFile) ([]byte, error) {
		top := f.top()
		if top == nil {
			return nil, errors.New("config.yaml is empty")
		}
		max := ""
		if b.MaxBudget != nil {
			max = strconv.FormatFloat(*b.MaxBudget, 'f', -1, 64)
		}
		_, lit := value(top, "litellm_settings")
		if lit == nil || lit.Kind != yaml.MappingNode || lit.Style&yaml.FlowStyle != 0 || len(lit.Content) == 0 {
			return f.setSection("litellm_settings", map[string]string{"max_budget": max, "budget_duration": strings.TrimSpace(b.Period)})
		}
		return f.setKeys(lit, []string{"max_budget", "budget_duration"}, []string{max, strings.TrimSpace(b.Period)})
	})
}

// setKeys sets (or removes, for "") scalar keys of a block mapping by editing only their lines;
// a key not there yet goes after the mapping's last line, at its indent.
func (f *configFile) setKeys(m *yaml.Node, keys, vals []string) ([]byte, error) {
	lines := append([]string{}, f.lines...)
	type ins struct {
		at   int
		text string
	}
	var removes []int
	var adds []ins
	indent := strings.Repeat(" ", m.Content[0].Column-1)
	end := lastLine(m)
	for i, key := range keys {
		k, v := value(m, key)
		switch {
		case k != nil && v.Kind == yaml.ScalarNode && vals[i] == "":
			removes = append(removes, k.Line-1)
		case k != nil && v.Kind == yaml.ScalarNode:
			l := lines[k.Line-1]
			start := v.Column - 1
			stop := start + len(v.Value)
			if v.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
				stop += 2
			}
			if v.Line != k.Line || stop > len(l) {
				return nil, fmt.Errorf("litellm_settings.%s is written in a way this editor does not change; edit it in the file", key)
			}
			lines[k.Line-1] = l[:start] + vals[i] + l[stop:]
		case k != nil:
			return nil, fmt.Errorf("litellm_settings.%s is not a plain value; edit it in the file", key)
		case vals[i] != "":
			adds = append(adds, ins{end, indent + key + ": " + vals[i]})
		}
	}
	for _, a := range adds {
		lines = append(lines[:a.at], append([]string{a.text}, lines[a.at:]...)...)
	}
	sort.Sort(sort.Reverse(sort.IntSlice(removes)))
	for _, r := range removes {
		lines = append(lines[:r], lines[r+1:]...)
	}
	return []byte(strings.Join(lines, "\n")), nil
}

// setSection writes a top-level section that is absent or empty with the given keys ("" skipped).
func (f *configFile) setSection(name string, kv map[string]string) ([]byte, error) {
	var body []string
	for _, k := range []string{"max_budget", "budget_duration"} {
		if v := kv[k]; v != "" {
			body = append(body, "  "+k+": "+v)
		}
	}
	k, _ := value(f.top(), name)
	if k != nil {
		at := k.Line - 1
		head := f.lines[at][:strings.Index(f.lines[at], name)] + name + ":"
		if len(body) == 0 {
			head += " {}"
		}
		return f.splice(at, at+1, append([]string{head}, body...)), nil
	}
	if len(body) == 0 {
		return f.raw, nil
	}
	text := strings.TrimRight(string(f.raw), "\n") + "\n\n" + name + ":\n" + strings.Join(body, "\n") + "\n"
	return []byte(text), nil
}

// ProviderKey is a secret in the keychain and the routes that use it.
type ProviderKey struct {
	Name   string
	Routes []string
}

// keyLister is the part of the OS keychain the provider-key list needs beyond Secrets.
type keyLister interface {
	List() ([]string, error)
	Delete(name string) error
}

// ProviderKeys lists the keychain's provider keys (not the master key) with the routes in
// config.yaml that name each, and names used by routes but missing from the keychain.
func (a *App) ProviderKeys() ([]ProviderKey, error) {
	kl, ok := a.secrets.(keyLister)
	if !ok {
		return nil, errors.New("no keychain on this machine")
	}
	names, err := kl.List()
	if err != nil {
		return nil, err
	}
	routes, _, err := a.Routes()
	if err != nil {
		return nil, err
	}
	use := map[string][]string{}
	for _, r := range routes {
		if n, ok := strings.CutPrefix(r.KeyRef, keychain.RefPrefix); ok {
			use[n] = append(use[n], r.Name)
		}
	}
	var out []ProviderKey
	for _, n := range names {
		if n == keychain.MasterKeyName || n == keychain.IndexName {
			continue
		}
		out = append(out, ProviderKey{Name: n, Routes: use[n]})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// SetProviderKey stores (or replaces) a provider key in the keychain.
func (a *App) SetProviderKey(name, secret string) error {
	if !keyNameRE(name) {
		return errors.New("a keychain name is letters, digits, '.', '_' or '-'")
	}
	if strings.TrimSpace(secret) == "" {
		return errors.New("the key is empty")
	}
	return a.storeRouteKey(keychain.RefPrefix+name, secret)
}

// DeleteProviderKey removes a provider key from the keychain; it refuses while a route uses it.
func (a *App) DeleteProviderKey(name string) error {
	keys, err := a.ProviderKeys()
	if err != nil {
		return err
	}
	for _, k := range keys {
		if k.Name == name && len(k.Routes) > 0 {
			return fmt.Errorf("%s is used by %s: change those routes first", name, strings.Join(k.Routes, ", "))
		}
	}
	return a.secrets.(keyLister).Delete(name)
}
