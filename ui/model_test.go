package ui

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/clawgate/clawgate/app"
)

func TestStatusLine(t *testing.T) {
	tests := []struct {
		name string
		s    app.Status
		want string
	}{
		{"running", app.Status{State: app.StateRunning, Addr: "127.0.0.1:4000"}, "Gateway running on 127.0.0.1:4000"},
		{"running no addr", app.Status{State: app.StateRunning}, "Gateway running"},
		{"stopped", app.Status{}, "Gateway stopped"},
		{"port in use, addr kept", app.Status{State: app.StateError, Addr: "127.0.0.1:4000",
			Err: fmt.Errorf("listen: %w", app.ErrPortInUse)}, "Error: port 4000 is in use"},
		{"port in use, port in message", app.Status{State: app.StateError,
			Err: fmt.Errorf("%w: port 4001 on 127.0.0.1 is already taken", app.ErrPortInUse)}, "Error: port 4001 is in use"},
		{"port in use, no port anywhere", app.Status{State: app.StateError, Err: app.ErrPortInUse}, "Error: port in use"},
		{"other error", app.Status{State: app.StateError, Err: errors.New("config.yaml line 3: bad model")},
			"Error: config.yaml line 3: bad model"},
		{"error without err", app.Status{State: app.StateError}, "Error: gateway failed"},
		{"budget refusing", app.Status{State: app.StateRunning, Addr: "127.0.0.1:4000", Err: errors.New("x"),
			Budget: app.BudgetSummary{Level: app.BudgetRefusing, Refusing: []string{"openclaw", "ci"}}},
			"Budget spent, refusing requests: openclaw, ci"},
		{"reload refused", app.Status{State: app.StateRunning, Addr: "127.0.0.1:4000",
			Err: errors.New("config not reloaded, the previous one stays in force: line 3")},
			"Config not reloaded, the previous one stays in force: line 3"},
		{"spend log failing", app.Status{State: app.StateRunning, Addr: "127.0.0.1:4000", Err: errors.New("x"),
			StoreErr: errors.New("write spend logs: database or disk is full")},
			"Usage not recorded: write spend logs: database or disk is full"},
		{"unpriced", app.Status{State: app.StateRunning, Addr: "127.0.0.1:4000", Unpriced: []string{"a", "b"}},
			"2 route(s) without a price: see Routes…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := statusLine(tt.s); got != tt.want {
				t.Errorf("statusLine() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestIconForBudgetsAndWarnings(t *testing.T) {
	running := app.Status{State: app.StateRunning}
	tests := []struct {
		name string
		edit func(*app.Status)
		want iconState
	}{
		{"all well", func(*app.Status) {}, iconOK},
		{"a budget refuses", func(s *app.Status) { s.Budget.Level = app.BudgetRefusing }, iconBlocked},
		{"refusing beats warnings", func(s *app.Status) {
			s.Budget.Level, s.Err, s.Unpriced = app.BudgetRefusing, errors.New("x"), []string{"r"}
		}, iconBlocked},
		{"a budget near its limit", func(s *app.Status) { s.Budget.Level = app.BudgetWarn }, iconWarn},
		{"a config edit not applied", func(s *app.Status) { s.Err = errors.New("x") }, iconWarn},
		{"the spend log cannot be written", func(s *app.Status) { s.StoreErr = errors.New("disk full") }, iconWarn},
		{"an unpriced route", func(s *app.Status) { s.Unpriced = []string{"r"} }, iconWarn},
		{"gateway failed wins", func(s *app.Status) { s.State, s.Budget.Level = app.StateError, app.BudgetRefusing }, iconError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := running
			tt.edit(&s)
			if got := iconFor(s); got != tt.want {
				t.Errorf("iconFor = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestIconFor(t *testing.T) {
	tests := []struct {
		state app.State
		want  iconState
	}{
		{app.StateRunning, iconOK},
		{app.StateError, iconError},
		{app.StateStopped, iconPaused},
	}
	for _, tt := range tests {
		t.Run(tt.want.String(), func(t *testing.T) {
			if got := iconFor(app.Status{State: tt.state}); got != tt.want {
				t.Errorf("iconFor(%v) = %v, want %v", tt.state, got, tt.want)
			}
			if trayResource(tt.want) == nil || len(trayResource(tt.want).Content()) == 0 {
				t.Errorf("no icon for %v", tt.want)
			}
		})
	}
}

// render flattens a menu model into lines such as "Models > gpt-4o (disabled)" for comparison.
func render(items []item, prefix string) []string {
	var out []string
	for _, it := range items {
		if it.Separator {
			out = append(out, prefix+"---")
			continue
		}
		line := prefix + it.Label
		if it.Disabled {
			line += " (disabled)"
		}
		if it.Checked {
			line += " (checked)"
		}
		out = append(out, line)
		out = append(out, render(it.Children, prefix+it.Label+" > ")...)
	}
	return out
}

func TestMenuModel(t *testing.T) {
	long := strings.Repeat("x", 100)
	tests := []struct {
		name string
		s    app.Status
		want []string
	}{
		{
			name: "running with models",
			s: app.Status{State: app.StateRunning, Addr: "127.0.0.1:4000", Models: []string{"gpt-4o", "claude-sonnet"},
				ConfigPath: "/home/u/.config/clawgate/config.yaml"},
			want: []string{
				"Gateway running on 127.0.0.1:4000 (disabled)",
				"Models",
				"Models > gpt-4o (disabled)",
				"Models > claude-sonnet (disabled)",
				"OpenClaw",
				"OpenClaw > Connect OpenClaw",
				"---",
				"Copy base URL",
				"Open config folder",
				"Show status…",
				"Requests…",
				"Budgets…",
				"Routes…",
				"Problems and log…",
				"---",
				"Quit",
			},
		},
		{
			name: "stopped, nothing known",
			s:    app.Status{},
			want: []string{
				"Gateway stopped (disabled)",
				"Models",
				"Models > No models configured (disabled)",
				"OpenClaw",
				"OpenClaw > Connect OpenClaw",
				"---",
				"Copy base URL (disabled)",
				"Open config folder (disabled)",
				"Show status…",
				"Requests…",
				"Budgets…",
				"Routes…",
				"Problems and log…",
				"---",
				"Quit",
			},
		},
		{
			name: "a budget refusing, with the spend line",
			s: app.Status{State: app.StateRunning, Addr: "127.0.0.1:4000", ConfigPath: "/c.yaml", Budget: app.BudgetSummary{
				Level: app.BudgetRefusing, Refusing: []string{"openclaw"}, Line: "Today $1.84 · openclaw 100% of $1.00, resets Dec 8"}},
			want: []string{
				"Budget spent, refusing requests: openclaw",
				"Today $1.84 · openclaw 100% of $1.00, resets Dec 8 (disabled)",
				"Models",
				"Models > No models configured (disabled)",
				"OpenClaw",
				"OpenClaw > Connect OpenClaw",
				"---",
				"Copy base URL",
				"Open config folder",
				"Show status…",
				"Requests…",
				"Budgets…",
				"Routes…",
				"Problems and log…",
				"---",
				"Quit",
			},
		},
		{
			name: "long labels are cut",
			s:    app.Status{State: app.StateError, Err: errors.New(long), Models: []string{long}, ConfigPath: "/c.yaml"},
			want: []string{
				"Error: " + strings.Repeat("x", maxLabel-8) + "…",
				"Models",
				"Models > " + strings.Repeat("x", maxLabel-1) + "… (disabled)",
				"OpenClaw",
				"OpenClaw > Connect OpenClaw",
				"---",
				"Copy base URL (disabled)",
				"Open config folder",
				"Show status…",
				"Requests…",
				"Budgets…",
				"Routes…",
				"Problems and log…",
				"---",
				"Quit",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := render(menuModel(tt.s), "")
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("menu:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestMenuModelActions(t *testing.T) {
	m := menuModel(app.Status{State: app.StateRunning, Addr: "127.0.0.1:4000", ConfigPath: "/c.yaml"})
	want := map[string]action{
		"Copy base URL":      actCopyURL,
		"Open config folder": actOpenFolder,
		"Show status…":       actShowStatus,
		"Requests…":          actShowRequests,
		"Budgets…":           actShowBudgets,
		"Routes…":            actShowRoutes,
		"Problems and log…":  actShowProblems,
		"Quit":               actQuit,
	}
	got := map[string]action{}
	for _, it := range m {
		if it.Action != actNone {
			got[it.Label] = it.Action
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("actions = %v, want %v", got, want)
	}
	if last := m[len(m)-1]; last.Action != actQuit {
		t.Errorf("last item is %q, want Quit", last.Label)
	}
}

func TestOpenClawItems(t *testing.T) {
	long := strings.Repeat("m", 100)
	models := []string{"gpt-4o", "claude-sonnet", "openai/*"}
	tests := []struct {
		name   string
		models []string
		oc     app.OpenClawState
		want   []string
	}{
		{"not connected", models, app.OpenClawState{Primary: "litellm/gpt-4o"}, []string{"Connect OpenClaw"}},
		{"connected, primary served", models, app.OpenClawState{Connected: true, Primary: "litellm/claude-sonnet"}, []string{
			"OpenClaw: litellm/claude-sonnet (disabled)", "---", "gpt-4o", "claude-sonnet (checked)"}},
		{"connected, primary elsewhere", models, app.OpenClawState{Connected: true, Primary: "openai/gpt-5"}, []string{
			"OpenClaw: openai/gpt-5 (disabled)", "---", "gpt-4o", "claude-sonnet"}},
		{"connected, no primary", models, app.OpenClawState{Connected: true}, []string{
			"OpenClaw: no primary model set (disabled)", "---", "gpt-4o", "claude-sonnet"}},
		{"connected, file invalid", models, app.OpenClawState{Connected: true, Primary: "litellm/gpt-4o", Err: "invalid: line 3"}, []string{
			"OpenClaw: invalid: line 3 (disabled)", "---", "gpt-4o (checked)", "claude-sonnet"}},
		{"connected, only wildcards", []string{"openai/*"}, app.OpenClawState{Connected: true, Primary: "litellm/x"}, []string{
			"OpenClaw: litellm/x (disabled)", "---", "No models to choose from (disabled)"}},
		{"long model name is cut, primary still checked", []string{long}, app.OpenClawState{Connected: true, Primary: "litellm/" + long}, []string{
			"OpenClaw: litellm/" + strings.Repeat("m", maxLabel-len("OpenClaw: litellm/")-1) + "… (disabled)", "---",
			strings.Repeat("m", maxLabel-1) + "… (checked)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := openClawItems(app.Status{Models: tt.models, OpenClaw: tt.oc}, "")
			if strings.Join(render(got, ""), "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("items:\n%s\nwant:\n%s", strings.Join(render(got, ""), "\n"), strings.Join(tt.want, "\n"))
			}
			for _, it := range got {
				switch {
				case it.Label == "Connect OpenClaw" && it.Action != actConnectOpenClaw:
					t.Errorf("Connect OpenClaw has action %v", it.Action)
				case it.Action == actUseOpenClaw && !slices.Contains(tt.models, it.Arg):
					t.Errorf("%q uses %q", it.Label, it.Arg)
				}
			}
		})
	}
}

func TestOpenClawSnippet(t *testing.T) {
	tests := []struct {
		name     string
		s        app.Status
		contains []string
		absent   []string
	}{
		{
			name: "running",
			s:    app.Status{State: app.StateRunning, Addr: "127.0.0.1:4100", Models: []string{"gpt-4o", "openai/*"}},
			contains: []string{
				`baseUrl: "http://127.0.0.1:4100/v1",`,
				`api: "openai-completions",`,
				`{ id: "gpt-4o", name: "gpt-4o", contextWindow: 128000, maxTokens: 16384 },`,
			},
			absent: []string{"openai/*"},
		},
		{
			name:     "not listening yet uses the default address",
			s:        app.Status{},
			contains: []string{`baseUrl: "http://127.0.0.1:4000/v1",`, "models: [],"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := openClawSnippet(tt.s)
			for _, c := range tt.contains {
				if !strings.Contains(got, c) {
					t.Errorf("snippet lacks %q:\n%s", c, got)
				}
			}
			for _, c := range tt.absent {
				if strings.Contains(got, c) {
					t.Errorf("snippet has %q:\n%s", c, got)
				}
			}
			if strings.Count(got, "{") != strings.Count(got, "}") || strings.Count(got, "[") != strings.Count(got, "]") {
				t.Errorf("unbalanced snippet:\n%s", got)
			}
		})
	}
}
