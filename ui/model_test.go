package ui

import (
	"errors"
	"fmt"
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
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := statusLine(tt.s); got != tt.want {
				t.Errorf("statusLine() = %q, want %q", got, tt.want)
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
				"---",
				"Copy base URL",
				"Open config folder",
				"Show status…",
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
				"---",
				"Copy base URL (disabled)",
				"Open config folder (disabled)",
				"Show status…",
				"---",
				"Quit",
			},
		},
		{
			name: "long labels are cut",
			s:    app.Status{State: app.StateError, Err: errors.New(long), Models: []string{long}, ConfigPath: "/c.yaml"},
			want: []string{
				"Error: " + strings.Repeat("x", maxLabel-8) + "… (disabled)",
				"Models",
				"Models > " + strings.Repeat("x", maxLabel-1) + "… (disabled)",
				"---",
				"Copy base URL (disabled)",
				"Open config folder",
				"Show status…",
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
				`baseUrl: "http://127.0.0.1:4100",`,
				`api: "openai-completions",`,
				`{ id: "gpt-4o", name: "gpt-4o" },`,
			},
			absent: []string{"openai/*"},
		},
		{
			name:     "not listening yet uses the default address",
			s:        app.Status{},
			contains: []string{`baseUrl: "http://127.0.0.1:4000",`, "models: [],"},
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
