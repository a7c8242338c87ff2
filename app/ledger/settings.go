package ledger

import (
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/clawgate/clawgate/app/budget"
	"github.com/clawgate/clawgate/app/store"
	"github.com/clawgate/clawgate/proxy/config"
)

// Settings are the ledger's parts of config.yaml. The zero value means: no proxy-wide budget,
// UTC, the default alert levels, no webhook, no bodies in the logs, logs kept forever.
type Settings struct {
	// MaxBudget is the proxy-wide cap in USD (litellm_settings.max_budget); nil = none.
	MaxBudget *float64
	// SoftBudget raises an alert, never a refusal, for the proxy-wide budget
	// (litellm_settings.soft_budget, a Clawgate addition; keys have their own soft_budget).
	SoftBudget *float64
	// BudgetDuration is the proxy-wide window (litellm_settings.budget_duration); nil = never resets.
	BudgetDuration *budget.Duration
	// Location is the time zone of budget resets and of daily aggregates
	// (litellm_settings.timezone); nil = UTC. It is read at Open: a change needs a restart.
	Location *time.Location
	// AlertLevels are the fractions of max_budget that raise a threshold event
	// (litellm_settings.budget_alert_levels, a Clawgate addition); nil = 50%, 80%, 100%.
	AlertLevels []float64
	// WebhookURL receives LiteLLM's webhook alert payloads ("" = none): set when
	// general_settings.alerting lists "webhook", from general_settings.alert_to_webhook_url
	// (its budget_alerts entry when it is a map) or else the WEBHOOK_URL environment variable.
	WebhookURL string
	// StorePrompts is general_settings.store_prompts_in_spend_logs.
	StorePrompts bool
	// Retention is general_settings.maximum_spend_logs_retention_period; nil keeps logs forever.
	Retention *budget.Duration
	// DatabaseURL is general_settings.database_url, else the DATABASE_URL environment variable
	// (as LiteLLM): a PostgreSQL database that holds the ledger in place of the SQLite file
	// ("" = the file). Read at Open (Options.DatabaseURL wins); a change needs a restart.
	DatabaseURL string
}

// getenv is os.Getenv; tests swap it.
var getenv = os.Getenv

// SettingsFrom reads the ledger's settings from a parsed config. A value that cannot be used is
// reported in errs (naming its key) and left at its default; the rest still apply.
func SettingsFrom(cfg *config.Config) (Settings, []error) {
	var s Settings
	var errs []error
	if cfg == nil {
		return s, nil
	}
	fail := func(key string, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	lit := cfg.LiteLLM.Extra
	gen := cfg.General.Extra

	if v, ok := present(lit, "max_budget"); ok {
		if f, err := money(v); err != nil {
			fail("litellm_settings.max_budget", "%v", err)
		} else {
			s.MaxBudget = &f
		}
	}
	if v, ok := present(lit, "soft_budget"); ok {
		if f, err := money(v); err != nil {
			fail("litellm_settings.soft_budget", "%v", err)
		} else {
			s.SoftBudget = &f
		}
	}
	if v, ok := present(lit, "budget_duration"); ok {
		if d, err := durationValue(v); err != nil {
			fail("litellm_settings.budget_duration", "%v", err)
		} else {
			s.BudgetDuration = d
		}
	}
	if v, ok := present(lit, "timezone"); ok {
		name, _ := v.(string)
		if loc, err := time.LoadLocation(strings.TrimSpace(name)); err != nil || name == "" {
			fail("litellm_settings.timezone", "%q is not an IANA time zone such as \"Europe/Berlin\" (budgets reset in UTC)", fmt.Sprint(v))
		} else {
			s.Location = loc
		}
	}
	if v, ok := present(lit, "budget_alert_levels"); ok {
		if lv, err := levels(v); err != nil {
			fail("litellm_settings.budget_alert_levels", "%v", err)
		} else {
			s.AlertLevels = lv
		}
	}
	if v, ok := present(gen, "store_prompts_in_spend_logs"); ok {
		if b, err := boolean(v); err != nil {
			fail("general_settings.store_prompts_in_spend_logs", "%v", err)
		} else {
			s.StorePrompts = b
		}
	}
	if v, ok := present(gen, "maximum_spend_logs_retention_period"); ok {
		if d, err := durationValue(v); err != nil {
			fail("general_settings.maximum_spend_logs_retention_period", "%v", err)
		} else {
			s.Retention = d
		}
	}
	// DATABASE_URL may be set for another program on a desktop: only a PostgreSQL URL is taken.
	if u := strings.TrimSpace(getenv("DATABASE_URL")); store.IsURL(u) {
		s.DatabaseURL = u
	} else if u != "" {
		fail("DATABASE_URL", "not a postgres:// or postgresql:// URL (ignored: the ledger stays in the data folder)")
	}
	if v, ok := present(gen, "database_url"); ok {
		if u, isText := v.(string); !isText {
			fail("general_settings.database_url", "a postgres:// URL, not %T", v)
		} else {
			s.DatabaseURL = strings.TrimSpace(u)
		}
	}
	if webhookAlerting(gen["alerting"]) {
		s.WebhookURL = strings.TrimSpace(getenv("WEBHOOK_URL"))
		switch v := gen["alert_to_webhook_url"].(type) {
		case string:
			s.WebhookURL = strings.TrimSpace(v)
		case map[string]any:
			if u := firstURL(v["budget_alerts"]); u != "" {
				s.WebhookURL = u
			}
		}
		if s.WebhookURL == "" {
			fail("general_settings.alerting", `"webhook" is listed but no URL is set: set the WEBHOOK_URL environment variable or general_settings.alert_to_webhook_url`)
		} else if !strings.HasPrefix(s.WebhookURL, "http://") && !strings.HasPrefix(s.WebhookURL, "https://") {
			fail("general_settings.alerting", "the webhook URL must start with http:// or https://")
			s.WebhookURL = ""
		}
	}
	return s, errs
}

// present returns m[key] unless it is missing or null.
func present(m map[string]any, key string) (any, bool) {
	v, ok := m[key]
	return v, ok && v != nil
}

func money(v any) (float64, error) {
	var f float64
	switch x := v.(type) {
	case int:
		f = float64(x)
	case int64:
		f = float64(x)
	case uint64:
		f = float64(x)
	case float64:
		f = x
	case string:
		var err error
		if f, err = strconv.ParseFloat(strings.TrimSpace(x), 64); err != nil {
			return 0, fmt.Errorf("%q is not a number of USD", x)
		}
	default:
		return 0, fmt.Errorf("want a number of USD, got %v", v)
	}
	if math.IsNaN(f) || math.IsInf(f, 0) || f < 0 {
		return 0, fmt.Errorf("want a number of USD of 0 or more, got %v", v)
	}
	return f, nil
}

func durationValue(v any) (*budget.Duration, error) {
	s, ok := v.(string)
	if !ok {
		return nil, fmt.Errorf("want a duration such as \"30d\" or \"monthly\", got %v; accepted: %s", v, budget.Accepted)
	}
	return budget.ParseOptionalDuration(s)
}

// levels reads a list of alert levels: fractions (0.5) or percentages (50); 1 means 100%.
func levels(v any) ([]float64, error) {
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("want a list of percentages such as [50, 80, 100], got %v", v)
	}
	out := make([]float64, 0, len(list))
	for _, x := range list {
		f, err := money(x)
		if err != nil || f == 0 {
			return nil, fmt.Errorf("want positive percentages such as [50, 80, 100], got %v", x)
		}
		if f > 1 {
			f /= 100
		}
		out = append(out, f)
	}
	return out, nil
}

func boolean(v any) (bool, error) {
	switch x := v.(type) {
	case bool:
		return x, nil
	case string:
		if b, err := strconv.ParseBool(strings.TrimSpace(x)); err == nil {
			return b, nil
		}
	}
	return false, fmt.Errorf("want true or false, got %v", v)
}

func webhookAlerting(v any) bool {
	switch x := v.(type) {
	case []any:
		for _, a := range x {
			if s, ok := a.(string); ok && strings.EqualFold(strings.TrimSpace(s), "webhook") {
				return true
			}
		}
	case string:
		return strings.EqualFold(strings.TrimSpace(x), "webhook")
	}
	return false
}

// firstURL takes a URL or the first of a list of them (alert_to_webhook_url values may be either).
func firstURL(v any) string {
	switch x := v.(type) {
	case string:
		return strings.TrimSpace(x)
	case []any:
		for _, e := range x {
			if s, ok := e.(string); ok && strings.TrimSpace(s) != "" {
				return strings.TrimSpace(s)
			}
		}
	}
	return ""
}

func (s Settings) location() *time.Location {
	if s.Location == nil {
		return time.UTC
	}
	return s.Location
}

// retentionCutoff is the start time before which logs are pruned.
func (s Settings) retentionCutoff(now time.Time) (time.Time, bool) {
	if s.Retention == nil {
		return time.Time{}, false
	}
	return subDuration(*s.Retention, now), true
}

// addDuration is t plus d: days and months as the calendar counts them, seconds to hours as
// clock time.
func addDuration(d budget.Duration, t time.Time) time.Time {
	switch d.Unit {
	case budget.Second:
		return t.Add(time.Duration(d.N) * time.Second)
	case budget.Minute:
		return t.Add(time.Duration(d.N) * time.Minute)
	case budget.Hour:
		return t.Add(time.Duration(d.N) * time.Hour)
	case budget.Day:
		return t.AddDate(0, 0, d.N)
	case budget.Week:
		return t.AddDate(0, 0, 7*d.N)
	case budget.Month:
		// The same day N months on, clamped to the month's end (Jan 31 + 1mo = Feb 28), as LiteLLM.
		y, m, day := t.Date()
		last := time.Date(y, m+time.Month(d.N)+1, 0, 0, 0, 0, 0, t.Location()).Day()
		hh, mm, ss := t.Clock()
		return time.Date(y, m+time.Month(d.N), min(day, last), hh, mm, ss, t.Nanosecond(), t.Location())
	}
	return t
}

func subDuration(d budget.Duration, t time.Time) time.Time {
	d.N = -d.N
	return addDuration(d, t)
}
