package ledger

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/clawgate/clawgate/app/budget"
	"github.com/clawgate/clawgate/proxy/config"
)

func parseConfig(t *testing.T, yaml string) *config.Config {
	t.Helper()
	cfg, _, err := config.Parse([]byte(yaml), "config.yaml", func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestSettingsFrom(t *testing.T) {
	env := map[string]string{}
	saved := getenv
	getenv = func(k string) string { return env[k] }
	defer func() { getenv = saved }()

	t.Run("everything", func(t *testing.T) {
		s, errs := SettingsFrom(parseConfig(t, `
litellm_settings:
  max_budget: 50
  soft_budget: 40.5
  budget_duration: monthly
  timezone: Europe/Berlin
  budget_alert_levels: [25, 0.9, 100]
general_settings:
  alerting: ["slack", "webhook"]
  alert_to_webhook_url: {budget_alerts: "https://hooks.example/b", llm_exceptions: "https://x"}
  store_prompts_in_spend_logs: true
  maximum_spend_logs_retention_period: 30d
`))
		if len(errs) != 0 {
			t.Fatal(errs)
		}
		if *s.MaxBudget != 50 || *s.SoftBudget != 40.5 || *s.BudgetDuration != (budget.Duration{N: 1, Unit: budget.Month}) ||
			s.Location.String() != "Europe/Berlin" || fmt.Sprint(s.AlertLevels) != "[0.25 0.9 1]" ||
			s.WebhookURL != "https://hooks.example/b" || !s.StorePrompts || *s.Retention != (budget.Duration{N: 30, Unit: budget.Day}) {
			t.Errorf("%+v", s)
		}
	})
	t.Run("defaults", func(t *testing.T) {
		s, errs := SettingsFrom(parseConfig(t, "model_list: []\n"))
		if len(errs) != 0 || s.MaxBudget != nil || s.BudgetDuration != nil || s.location() != time.UTC || s.WebhookURL != "" || s.Retention != nil {
			t.Errorf("%+v %v", s, errs)
		}
		if s, errs := SettingsFrom(nil); len(errs) != 0 || s.MaxBudget != nil {
			t.Errorf("nil config: %+v %v", s, errs)
		}
	})
	t.Run("WEBHOOK_URL as LiteLLM reads it", func(t *testing.T) {
		env["WEBHOOK_URL"] = "http://127.0.0.1:9/hook"
		defer delete(env, "WEBHOOK_URL")
		s, errs := SettingsFrom(parseConfig(t, "general_settings:\n  alerting: [webhook]\n"))
		if len(errs) != 0 || s.WebhookURL != "http://127.0.0.1:9/hook" {
			t.Errorf("%q %v", s.WebhookURL, errs)
		}
		// Without "webhook" in alerting, no webhook, as in LiteLLM.
		if s, _ := SettingsFrom(parseConfig(t, "general_settings:\n  alerting: [slack]\n")); s.WebhookURL != "" {
			t.Errorf("webhook without alerting: %q", s.WebhookURL)
		}
	})
	t.Run("database_url as LiteLLM reads it", func(t *testing.T) {
		const team = "postgresql://gw:pw@db.internal:5432/ledger"
		for _, c := range []struct {
			name, env, yaml, want, err string
		}{
			{"none", "", "model_list: []\n", "", ""},
			{"DATABASE_URL", team, "model_list: []\n", team, ""},
			{"config wins", "postgres://other/x", "general_settings:\n  database_url: " + team + "\n", team, ""},
			{"os.environ", "", "general_settings:\n  database_url: os.environ/TEAM_DB\n", "postgres://from-env/db", ""},
			{"another program's DATABASE_URL", "mysql://u:p@h/db", "model_list: []\n", "", "DATABASE_URL"},
			{"not text", "", "general_settings:\n  database_url: 5\n", "", "general_settings.database_url"},
		} {
			t.Run(c.name, func(t *testing.T) {
				env["DATABASE_URL"] = c.env
				defer delete(env, "DATABASE_URL")
				cfg, _, err := config.Parse([]byte(c.yaml), "config.yaml", func(k string) (string, bool) {
					return map[string]string{"TEAM_DB": "postgres://from-env/db"}[k], k == "TEAM_DB"
				})
				if err != nil {
					t.Fatal(err)
				}
				s, errs := SettingsFrom(cfg)
				if s.DatabaseURL != c.want || (c.err == "") != (len(errs) == 0) || !strings.Contains(fmt.Sprint(errs), c.err) {
					t.Errorf("DatabaseURL %q, errs %v; want %q, an error naming %q", s.DatabaseURL, errs, c.want, c.err)
				}
				if strings.Contains(fmt.Sprint(errs), "u:p@") {
					t.Errorf("an error shows the URL: %v", errs)
				}
			})
		}
	})
	t.Run("bad values are reported and skipped", func(t *testing.T) {
		s, errs := SettingsFrom(parseConfig(t, `
litellm_settings:
  max_budget: lots
  budget_duration: "1 month"
  timezone: Mars/Olympus
  budget_alert_levels: 80
general_settings:
  alerting: [webhook]
  store_prompts_in_spend_logs: maybe
  maximum_spend_logs_retention_period: 30
`))
		text := fmt.Sprint(errs)
		for _, want := range []string{"litellm_settings.max_budget", "litellm_settings.budget_duration", "litellm_settings.timezone",
			"litellm_settings.budget_alert_levels", "general_settings.alerting", "WEBHOOK_URL", "store_prompts_in_spend_logs",
			"maximum_spend_logs_retention_period", `"monthly"`} {
			if !strings.Contains(text, want) {
				t.Errorf("errors lack %s: %s", want, text)
			}
		}
		if s.MaxBudget != nil || s.BudgetDuration != nil || s.Location != nil || s.StorePrompts {
			t.Errorf("%+v", s)
		}
	})
}

func TestAddDuration(t *testing.T) {
	at := time.Date(2026, 1, 31, 10, 0, 0, 0, time.UTC)
	for in, want := range map[string]string{
		"30s": "2026-01-31T10:00:30Z", "30m": "2026-01-31T10:30:00Z", "30h": "2026-02-01T16:00:00Z",
		"2d": "2026-02-02T10:00:00Z", "1w": "2026-02-07T10:00:00Z", "1mo": "2026-02-28T10:00:00Z", "monthly": "2026-02-28T10:00:00Z", "3mo": "2026-04-30T10:00:00Z",
	} {
		d, err := budget.ParseDuration(in)
		if err != nil {
			t.Fatal(err)
		}
		if got := addDuration(d, at).Format(time.RFC3339); got != want {
			t.Errorf("%s: %s, want %s", in, got, want)
		}
	}
}
