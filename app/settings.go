package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/clawgate/clawgate/app/budget"
	"github.com/clawgate/clawgate/proxy/provider/upstream"
)

// GatewaySettings are what the Settings window edits, as written in config.yaml.
type GatewaySettings struct {
	// Host and Port are where the gateway listens (general_settings.clawgate_listen).
	Host string
	Port int
	// StorePrompts is general_settings.store_prompts_in_spend_logs.
	StorePrompts bool
	// Retention is general_settings.maximum_spend_logs_retention_period ("" keeps logs forever).
	Retention string
	// AlertLevels are litellm_settings.budget_alert_levels as percentages, "50, 80, 100" ("" for
	// the default levels).
	AlertLevels string
	// HTTPSProxy and CAFile are how upstream calls reach providers (upstreamnet.go): a proxy URL
	// and a PEM file of extra certificate authorities, "" for none.
	HTTPSProxy string
	CAFile     string
	// OpenClawPath is a custom location of OpenClaw's config ("" = found by OpenClaw's rules).
	OpenClawPath string
}

// SettingsProblems maps a field ("port", "host", "retention", "alerts", "proxy", "ca", "openclaw")
// to what is wrong with it.
type SettingsProblems map[string]string

// Settings reads the settings from config.yaml with the file's version (hand it back to
// SaveSettings); the address is the one in use. It reads the file: call it off the UI goroutine.
func (a *App) Settings() (GatewaySettings, ConfigVersion, error) {
	a.mu.Lock()
	s := GatewaySettings{Host: a.opts.Host, Port: a.opts.Port}
	a.mu.Unlock()
	if a.opts.ConfigPath == "" {
		return s, "", errors.New("this gateway runs without a config file (--model)")
	}
	f, err := readConfigFile(a.opts.ConfigPath)
	if err != nil {
		return s, "", err
	}
	_, gen := value(f.top(), "general_settings")
	s.StorePrompts = scalar(gen, "store_prompts_in_spend_logs") == "true"
	s.Retention = scalar(gen, "maximum_spend_logs_retention_period")
	s.HTTPSProxy, s.CAFile = scalar(gen, proxyKey), scalar(gen, caKey)
	s.OpenClawPath = scalar(gen, openClawPathKey)
	_, lit := value(f.top(), "litellm_settings")
	if _, lv := value(lit, "budget_alert_levels"); lv != nil {
		var parts []string
		for _, n := range lv.Content {
			v, err := strconv.ParseFloat(n.Value, 64)
			if err == nil && v > 0 && v <= 1 {
				v *= 100 // written as fractions
			}
			parts = append(parts, strconv.FormatFloat(v, 'f', -1, 64))
		}
		s.AlertLevels = strings.Join(parts, ", ")
	}
	return s, versionOf(f.raw), nil
}

// CheckSettings says what is wrong with s as typed, field by field, without touching the disk or
// the network (CheckSettingsFiles and CheckListen add those).
func CheckSettings(s GatewaySettings) SettingsProblems {
	p := SettingsProblems{}
	if s.Port < 1 || s.Port > 65535 {
		p["port"] = "a number from 1 to 65535"
	}
	if net.ParseIP(strings.TrimSpace(s.Host)) == nil {
		p["host"] = "an IP address: 127.0.0.1 for this machine only, 0.0.0.0 for every network"
	}
	if _, err := budget.ParseOptionalDuration(s.Retention); err != nil {
		p["retention"] = "a duration such as 30d, 12h or monthly, or empty to keep logs forever"
	}
	if _, err := alertLevels(s.AlertLevels); err != nil {
		p["alerts"] = err.Error()
	}
	if v := strings.TrimSpace(s.HTTPSProxy); v != "" {
		if err := upstream.CheckProxyURL(v); err != nil {
			p["proxy"] = err.Error()
		}
	}
	return p
}

// CheckSettingsFiles says what is wrong with the files s names (the CA file readable and PEM,
// OpenClaw's folder there). It reads the disk: call it off the UI goroutine.
func CheckSettingsFiles(s GatewaySettings) SettingsProblems {
	p := SettingsProblems{}
	if m := checkOpenClawPath(s.OpenClawPath); m != "" {
		p["openclaw"] = m
	}
	if v := strings.TrimSpace(s.CAFile); v != "" {
		if _, err := readCAFile(v); err != nil {
			p["ca"] = err.Error()
		}
	}
	return p
}

// alertLevels reads "50, 80, 100" as YAML text ("[50, 80, 100]"), "" for none.
func alertLevels(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	var out []string
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '%' }) {
		v, err := strconv.ParseFloat(part, 64)
		if err != nil || v <= 0 || v > 1000 {
			return "", errors.New("percentages of the budget, such as 50, 80, 100")
		}
		out = append(out, strconv.FormatFloat(v, 'f', -1, 64))
	}
	return "[" + strings.Join(out, ", ") + "]", nil
}

// SaveSettings writes s into config.yaml against version ver (one line per changed setting,
// through the careful edit, in force at once) and moves the gateway when the address changed
// (SetListen: live, OpenClaw's baseUrl rewritten). Nothing is written when s has a problem.
// It writes files and binds ports: call it off the UI goroutine.
func (a *App) SaveSettings(ctx context.Context, ver ConfigVersion, s GatewaySettings) error {
	p := CheckSettings(s)
	for k, v := range CheckSettingsFiles(s) {
		p[k] = v
	}
	if len(p) > 0 {
		return fmt.Errorf("not saved: %s", strings.Join(problemList(p), "; "))
	}
	if p := a.CheckListen(s.Host, s.Port); p != "" {
		return errors.New("not saved: " + p)
	}
	levels, _ := alertLevels(s.AlertLevels)
	store := ""
	if s.StorePrompts {
		store = "true"
	}
	_, err := a.editFile(ver, func(f *configFile) ([]byte, error) {
		edits := []struct{ section, key, val string }{
			{"general_settings", "store_prompts_in_spend_logs", store},
			{"general_settings", "maximum_spend_logs_retention_period", yamlOrEmpty(strings.TrimSpace(s.Retention))},
			{"litellm_settings", "budget_alert_levels", levels},
			{"general_settings", proxyKey, yamlOrEmpty(strings.TrimSpace(s.HTTPSProxy))},
			{"general_settings", caKey, yamlOrEmpty(strings.TrimSpace(s.CAFile))},
			{"general_settings", openClawPathKey, yamlOrEmpty(strings.TrimSpace(s.OpenClawPath))},
		}
		cur := f
		for _, e := range edits {
			out, err := cur.setSectionValue(e.section, e.key, e.val)
			if err != nil {
				return nil, err
			}
			if cur, err = parseConfigFile(out); err != nil {
				return nil, err
			}
		}
		return cur.raw, nil
	})
	if err != nil {
		return err
	}
	if err := a.SetListen(ctx, strings.TrimSpace(s.Host), s.Port); err != nil {
		return err
	}
	a.rewatchOpenClaw(ctx) // its path or the gateway's address may have changed
	return nil
}

func yamlOrEmpty(s string) string {
	if s == "" {
		return ""
	}
	return yamlString(s)
}

func problemList(p SettingsProblems) []string {
	var out []string
	for _, k := range []string{"host", "port", "retention", "alerts", "proxy", "ca", "openclaw"} {
		if m, ok := p[k]; ok {
			out = append(out, k+": "+m)
		}
	}
	return out
}
