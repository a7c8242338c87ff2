package ui

import (
	"errors"
	"fmt"
	"net"
	"regexp"
	"slices"
	"strings"

	"github.com/clawgate/clawgate/app"
)

// defaultAddr is where the gateway listens unless configured otherwise; the snippet falls back to it
// while the real address is not known yet.
const defaultAddr = "127.0.0.1:4000"

// maxLabel keeps tray labels readable: status bars cut long menu items badly or not at all.
const maxLabel = 64

// action names what a menu item does; the model stays plain data so it can be compared and tested.
type action int

const (
	actNone action = iota
	actCopyURL
	actOpenFolder
	actShowStatus
	actShowRequests
	actShowBudgets
	actShowRoutes
	actQuit
	actConnectOpenClaw
	actUseOpenClaw // Arg is the model
	actShowProblems
	actStartAtLogin
	actUseBackend // Arg is the model_list index of the deployment
	actShowSettings
	actShowWizard
	actShowTeam  // the Team window: the join form, or the team key's spend and models
	actUseTeam   // point OpenClaw at the joined team gateway
	actUseLocal  // point OpenClaw back at this computer's gateway
	actLeaveTeam // asks, then forgets the team gateway and its key
)

// item is one tray menu entry, independent of Fyne.
type item struct {
	Label     string
	Disabled  bool
	Checked   bool
	Action    action
	Arg       string // what the action acts on: the full model name (Label may be cut)
	Children  []item
	Separator bool
}

// iconState picks the tray icon.
type iconState int

const (
	iconOK iconState = iota
	iconWarn
	iconBlocked
	iconPaused
	iconError
)

func (s iconState) String() string {
	switch s {
	case iconOK:
		return "ok"
	case iconWarn:
		return "warn"
	case iconBlocked:
		return "blocked"
	case iconPaused:
		return "paused"
	case iconError:
		return "error"
	}
	return fmt.Sprintf("iconState(%d)", int(s))
}

// iconFor maps the app state to a tray icon, following the worst current problem: error while the
// gateway does not serve the config file (port taken, config broken), blocked while a budget
// refuses requests, warn for anything else that needs a look, paused while stopped.
func iconFor(s app.Status) iconState {
	if ps := s.Problems(); len(ps) > 0 {
		switch ps[0].Severity {
		case app.SevError:
			return iconError
		case app.SevBlocked:
			return iconBlocked
		}
		if s.State == app.StateRunning {
			return iconWarn
		}
	}
	switch s.State {
	case app.StateRunning:
		return iconOK
	case app.StateError:
		return iconError
	}
	return iconPaused
}

// statusLine is the one-line summary at the top of the menu and the window: the worst problem,
// else what the gateway is doing.
func statusLine(s app.Status) string {
	if s.State == app.StateError && s.ConfigErr == nil {
		return "Error: " + errorText(s)
	}
	if ps := s.Problems(); len(ps) > 0 {
		return ps[0].Title
	}
	if s.State == app.StateRunning {
		if s.Addr == "" {
			return "Gateway running"
		}
		return "Gateway running on " + s.Addr
	}
	return "Gateway stopped"
}

// tooltip is the tray icon's hover text: the status line, the spend line (today's spend first),
// and the model OpenClaw uses.
func tooltip(s app.Status) string {
	tip := appName + ": " + statusLine(s)
	if s.Budget.Line != "" {
		tip += "\n" + s.Budget.Line
	}
	if m := currentModel(s); m != "" {
		tip += "\nModel: " + m
	}
	if l := s.Team.SpendLine(); l != "" && s.UsingTeam() {
		tip += "\n" + l // OpenClaw spends on the team key: its budget is the one that matters
	}
	return tip
}

// currentModel is the served model OpenClaw uses as its primary, "" when it is not connected or
// uses another provider's model.
func currentModel(s app.Status) string {
	if !s.OpenClaw.Connected {
		return ""
	}
	m, ok := strings.CutPrefix(s.OpenClaw.Primary, openClawRef(""))
	if !ok {
		return ""
	}
	return m
}

var portInText = regexp.MustCompile(`\bport (\d+)\b`)

// errorText phrases the common failure (the port is taken) the same short way whatever the app's
// wording: the port comes from Addr when the app kept it, else from the message ("port 4000 ...").
func errorText(s app.Status) string {
	if s.Err == nil {
		return "gateway failed"
	}
	if errors.Is(s.Err, app.ErrPortInUse) {
		if _, port, err := net.SplitHostPort(s.Addr); err == nil && port != "" {
			return "port " + port + " is in use"
		}
		if m := portInText.FindStringSubmatch(s.Err.Error()); m != nil {
			return "port " + m[1] + " is in use"
		}
	}
	return s.Err.Error()
}

// baseURL is what clients put in base_url; "" while no address is known.
func baseURL(s app.Status) string { return s.BaseURL() }

// menuModel is the tray menu for a status. Quit is the last item so Fyne does not add its own.
func menuModel(s app.Status) []item { return menuFor(s, menuExtras{}) }

// menuExtras is what the tray menu shows besides the status.
type menuExtras struct {
	// previous is the model OpenClaw used before the last switch from the tray ("" when none),
	// offered as "Back to" it.
	previous string
	// login, when set, is whether Clawgate starts at login: a "Start at login" item toggles it.
	login *bool
	// settings says the service has the Settings window's calls: "Settings…" opens it.
	settings bool
	// wizard says the service has the first-run wizard's calls: "Setup wizard…" opens it.
	wizard bool
	// team says the service can join a team gateway: the Team items (team.go's menu part).
	team bool
}

// menuFor is menuModel with the extras. The first line names the worst problem and opens the
// Problems view; with none it only says what the gateway does.
func menuFor(s app.Status, x menuExtras) []item {
	models := make([]item, 0, len(s.Models))
	for _, m := range s.Models {
		models = append(models, item{Label: truncate(m), Disabled: true})
	}
	if len(models) == 0 {
		models = append(models, item{Label: "No models configured", Disabled: true})
	}
	top := []item{{Label: truncate(statusLine(s)), Disabled: true}}
	if len(s.Problems()) > 0 {
		top[0].Disabled, top[0].Action = false, actShowProblems
	}
	if s.Budget.Line != "" {
		top = append(top, item{Label: truncate(s.Budget.Line), Disabled: true})
	}
	ocTitle := "OpenClaw"
	if m := currentModel(s); m != "" {
		ocTitle = truncate("OpenClaw: " + m)
	}
	items := append(top, []item{
		{Label: "Models", Children: models},
	}...)
	items = append(items, backendMenus(s)...)
	items = append(items, []item{
		{Label: ocTitle, Children: openClawItems(s, x.previous)},
	}...)
	if x.team {
		items = append(items, teamItems(s)...)
	}
	items = append(items, []item{
		{Separator: true},
		{Label: "Copy base URL", Action: actCopyURL, Disabled: baseURL(s) == ""},
		{Label: "Open config folder", Action: actOpenFolder, Disabled: s.ConfigPath == ""},
		{Label: "Show status…", Action: actShowStatus},
		{Label: "Requests…", Action: actShowRequests},
		{Label: "Budgets…", Action: actShowBudgets},
		{Label: "Routes…", Action: actShowRoutes},
		{Label: "Problems and log…", Action: actShowProblems},
	}...)
	if x.settings {
		items = append(items, item{Label: "Settings…", Action: actShowSettings})
	}
	if x.wizard {
		items = append(items, item{Label: "Setup wizard…", Action: actShowWizard})
	}
	if x.login != nil {
		items = append(items, item{Label: "Start at login", Action: actStartAtLogin, Checked: *x.login})
	}
	return append(items, item{Separator: true}, item{Label: "Quit", Action: actQuit})
}

// openClawItems is the OpenClaw submenu: Connect until the user connected, then a line saying what
// OpenClaw uses and one item per served model, the primary checked (Fyne has no radio items).
func openClawItems(s app.Status, previous string) []item {
	oc := s.OpenClaw
	if !oc.Connected {
		return []item{{Label: "Connect OpenClaw", Action: actConnectOpenClaw}}
	}
	line := "OpenClaw: " + oc.Primary
	switch {
	case oc.Err != "":
		line = "OpenClaw: " + oc.Err
	case oc.Primary == "":
		line = "OpenClaw: no primary model set"
	}
	out := []item{{Label: truncate(line), Disabled: true}, {Separator: true}}
	n := len(out)
	served := s.Models
	if s.UsingTeam() && s.Team.Info != nil {
		served = s.Team.Info.Models // OpenClaw picks among the team gateway's models
	}
	for _, m := range served {
		if strings.Contains(m, "*") {
			continue // a wildcard group is not a model OpenClaw could pick
		}
		out = append(out, item{Label: truncate(m), Action: actUseOpenClaw, Arg: m, Checked: oc.Primary == openClawRef(m)})
	}
	if len(out) == n {
		out = append(out, item{Label: "No models to choose from", Disabled: true})
	}
	if previous != "" && oc.Primary != openClawRef(previous) && slices.Contains(served, previous) {
		out = append(out, item{Separator: true}, item{Label: truncate("Back to " + previous), Action: actUseOpenClaw, Arg: previous})
	}
	return out
}

// openClawRef is how OpenClaw names a model the gateway serves.
func openClawRef(model string) string { return "litellm/" + model }

// openClawSnippet is the provider block to paste into OpenClaw's config (JSON5) to use the gateway.
// OpenClaw requires id and name on each model row; wildcard groups ("openai/*") are not models it
// could pick, so they are left out.
func openClawSnippet(s app.Status) string {
	url := baseURL(s)
	if url == "" {
		url = "http://" + defaultAddr
	}
	var b strings.Builder
	b.WriteString("models: {\n  providers: {\n    litellm: {\n")
	fmt.Fprintf(&b, "      baseUrl: %q,\n", url+"/v1")
	b.WriteString("      apiKey: \"${LITELLM_API_KEY}\",\n")
	b.WriteString("      api: \"openai-completions\",\n")
	var rows []string
	for _, m := range s.Models {
		if !strings.Contains(m, "*") {
			// OpenClaw clamps its output budget to contextWindow minus its ~15k-token first
			// prompt: a window must be given, and a real one (connect writes exact figures).
			rows = append(rows, fmt.Sprintf("        { id: %q, name: %q, contextWindow: 128000, maxTokens: 16384 },\n", m, m))
		}
	}
	if len(rows) == 0 {
		b.WriteString("      models: [],\n")
	} else {
		b.WriteString("      models: [\n" + strings.Join(rows, "") + "      ],\n")
	}
	b.WriteString("    },\n  },\n},")
	return b.String()
}

func truncate(s string) string {
	r := []rune(s)
	if len(r) <= maxLabel {
		return s
	}
	return string(r[:maxLabel-1]) + "…"
}
