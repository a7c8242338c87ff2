package app

import (
	"errors"
	"fmt"
	"strings"

	"github.com/clawgate/clawgate/proxy/config"
)

// Severity orders problems: the tray's icon and first menu line follow the worst one.
type Severity int

const (
	// SevWarning needs a look; requests are still served.
	SevWarning Severity = iota + 1
	// SevBlocked means a budget refuses requests.
	SevBlocked
	// SevError means the gateway does not serve (or serves a config other than the file's).
	SevError
)

// Problem is one thing wrong now, phrased for the user.
type Problem struct {
	// ID is stable while the problem lasts: the tray notifies once per new ID, not per request.
	ID       string
	Severity Severity
	// Title is one line for the menu; Detail says what to do.
	Title, Detail string
	// File, Line and Key locate a config problem (Line 0 and Key "" when unknown).
	File string
	Line int
	Key  string
}

// Problems lists what is wrong now, worst first (ties keep the order below): the gateway not
// serving, a broken config, a budget refusing requests, no keyring for the master key, a spend log
// that cannot be written, routes whose key cannot be resolved, unpriced routes, a budget near its
// limit, an OpenClaw config that cannot be read.
func (s Status) Problems() []Problem {
	var out []Problem
	add := func(p Problem) { out = append(out, p) }

	if s.ConfigErr != nil {
		p := Problem{ID: "config:" + s.ConfigErr.Error(), Severity: SevWarning, Detail: s.ConfigErr.Error()}
		var ce *config.Error
		if errors.As(s.ConfigErr, &ce) {
			p.File, p.Line, p.Key = ce.File, ce.Line, ce.Key
		}
		if p.File == "" {
			p.File = s.ConfigPath
		}
		switch {
		case s.LastGood:
			p.Severity, p.Title = SevError, "Config broken: serving the last good config"
		case s.State != StateRunning:
			p.Severity, p.Title = SevError, "Config broken: not serving"
		default:
			p.Title = "Config change not applied: the previous config stays in force"
		}
		add(p)
	} else if s.State == StateError {
		msg := "the gateway failed"
		if s.Err != nil {
			msg = s.Err.Error()
		}
		add(Problem{ID: "start:" + msg, Severity: SevError, Title: "Gateway not running", Detail: msg})
	}
	refusing := s.Budget.Level == BudgetRefusing || len(s.Budget.Refusing) > 0
	if refusing {
		add(Problem{ID: "budget:refusing:" + strings.Join(s.Budget.Refusing, ","), Severity: SevBlocked,
			Title:  strings.TrimSuffix("Budget spent, refusing requests: "+strings.Join(s.Budget.Refusing, ", "), ": "),
			Detail: "Raise the limit in Budgets, or wait for the reset."})
	}
	if s.KeyringErr != nil {
		add(Problem{ID: "keyring", Severity: SevWarning, Title: "Keyring locked or absent: no master key",
			Detail: "Without a master key the gateway answers only on this computer and refuses requests that could come from a web page. " +
				"Unlock the keyring, or set a master key. (" + s.KeyringErr.Error() + ")"})
	}
	if s.StoreErr != nil {
		add(Problem{ID: "store", Severity: SevWarning, Title: "Usage not recorded: " + s.StoreErr.Error(), Detail: s.StoreErr.Error()})
	}
	if s.ConfigErr == nil && s.State == StateRunning && s.Err != nil {
		add(Problem{ID: "err:" + s.Err.Error(), Severity: SevWarning, Title: capitalizeFirst(s.Err.Error()), Detail: s.Err.Error()})
	}
	for _, k := range s.KeyProblems {
		add(Problem{ID: "key:" + k, Severity: SevWarning, Title: "No API key for route " + routeName(k), Detail: k})
	}
	if len(s.Unpriced) > 0 {
		add(Problem{ID: "unpriced", Severity: SevWarning, Title: fmt.Sprintf("%d route(s) without a price: see Routes…", len(s.Unpriced)),
			Detail: strings.Join(s.Unpriced, "\n")})
	}
	if !refusing && (s.Budget.Level == BudgetWarn || len(s.Budget.Warn) > 0) {
		add(Problem{ID: "budget:warn:" + strings.Join(s.Budget.Warn, ","), Severity: SevWarning,
			Title: strings.TrimSuffix("Budget near its limit: "+strings.Join(s.Budget.Warn, ", "), ": "), Detail: s.Budget.Line})
	}
	if s.OpenClaw.Connected && s.OpenClaw.Err != "" {
		add(Problem{ID: "openclaw:" + s.OpenClaw.Err, Severity: SevWarning, Title: "OpenClaw: " + s.OpenClaw.Err, Detail: s.OpenClaw.Path})
	}
	if s.OpenClaw.OutOfSync != "" {
		// The sync is retried until it succeeds (openclaw_state.go); meanwhile OpenClaw may lack
		// a route the gateway serves, or name one it no longer does.
		add(Problem{ID: "openclaw:sync", Severity: SevWarning, Title: "OpenClaw out of sync: " + s.OpenClaw.OutOfSync,
			Detail: "Clawgate retries until OpenClaw's config takes the change. " + s.OpenClaw.Path})
	}
	// Stable sort by severity, worst first.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].Severity > out[j-1].Severity; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

func capitalizeFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// routeName is the model name in a key problem ("model_list[0] (gpt-4o).api_key: ..." names
// gpt-4o), else the problem's key path.
func routeName(problem string) string {
	if _, rest, ok := strings.Cut(problem, " ("); ok {
		if name, _, ok := strings.Cut(rest, ")"); ok {
			return name
		}
	}
	path, _, _ := strings.Cut(problem, ": ")
	return path
}
