package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/clawgate/clawgate/app"
)

const openclawUsage = `Point OpenClaw at this gateway and switch its model.

Usage:
  clawgate openclaw status [flags]        what OpenClaw's config says, and whether the gateway and key answer now
  clawgate openclaw connect [flags]       add or repair the litellm provider, mint a key for this OpenClaw profile
  clawgate openclaw sync [flags]          mirror the gateway's routes into the provider's models
  clawgate openclaw use MODEL [flags]     make litellm/MODEL OpenClaw's primary model

OpenClaw's config is found as OpenClaw finds it (OPENCLAW_CONFIG_PATH, OPENCLAW_STATE_DIR, OPENCLAW_PROFILE,
~/.openclaw); --openclaw-config names another. Each profile gets its own key: alias "openclaw" for the
default one, "openclaw-<profile>" for the others, in that profile's .env. Comments, formatting and every
key Clawgate does not own are kept; the file is backed up to the data folder first. Nothing is edited
before 'connect'. 'use' exits 1 when no agent would use the model (every agent pins its own); 'status'
exits 1 when nothing answers at the provider's baseUrl or the gateway refuses the key OpenClaw sends.
`

// runOpenClaw implements `clawgate openclaw`.
func runOpenClaw(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, openclawUsage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	sub, args := args[0], args[1:]
	var model string
	if sub == "use" {
		if len(args) == 0 || strings.HasPrefix(args[0], "-") {
			fmt.Fprintf(stderr, "clawgate openclaw use: name the model, e.g. clawgate openclaw use gpt-4o-mini\n")
			return 2
		}
		model, args = args[0], args[1:]
	}
	switch sub {
	case "status", "connect", "sync", "use":
	default:
		fmt.Fprintf(stderr, "clawgate openclaw: unknown command %q\n\n%s", sub, openclawUsage)
		return 2
	}
	var f commonFlags
	fs := newFlags("openclaw "+sub, "OpenClaw: "+sub+".", &f, stdout, false)
	ocPath := fs.String("openclaw-config", "", "OpenClaw's config file (default: found as OpenClaw finds it)")
	var co app.OpenClawConnectOptions
	agents := "default"
	switch sub {
	case "connect":
		fs.BoolVar(&co.Force, "force", false, "write the gateway's URL even when nothing answers there now")
		fs.StringVar(&co.API, "api", "", `the provider's api: openai-completions, or anthropic-messages for OpenClaw's own cache breakpoints and thinking on Claude (default: keep the file's)`)
		fs.BoolVar(&co.RestartGateway, "restart-gateway", true, "when the key changed, restart OpenClaw's gateway if a service manager runs it")
	case "use":
		fs.StringVar(&agents, "agents", "default", `"default": switch the default model and name the agents that pin their own; "all": switch those agents too`)
	}
	if code, ok := parse(fs, args); !ok {
		return code
	}
	scope, err := app.ParseOpenClawAgents(agents)
	if err != nil {
		fmt.Fprintf(stderr, "clawgate: %v\n", err)
		return 2
	}
	// connect may ask `openclaw gateway status`, which takes tens of seconds on a busy machine.
	return runWithApp(&f, *ocPath, 3*time.Minute, stderr, func(ctx context.Context, a *app.App) int {
		var lines []string
		var err error
		switch sub {
		case "status":
			return openClawStatus(ctx, a, stdout, stderr)
		case "connect":
			lines, err = a.OpenClawConnect(ctx, co)
		case "sync":
			lines, err = a.OpenClawSync(ctx)
		case "use":
			var kept []app.OpenClawAgent
			lines, kept, err = a.OpenClawUse(ctx, model, scope)
			if err == nil {
				if all, aerr := a.OpenClawAgents(); aerr == nil && len(all) > 0 && len(kept) == len(all) {
					for _, l := range lines {
						fmt.Fprintln(stdout, l)
					}
					fmt.Fprintf(stderr, "clawgate: no agent will use litellm/%s: every configured agent pins its own model; run again with --agents all\n", model)
					return 1
				}
			}
		}
		return report(stdout, stderr, lines, err)
	})
}

// openClawStatus prints what OpenClaw's config says, then what answers now: the gateway at the
// URL it names, the key it will send, and the model each agent will use.
func openClawStatus(ctx context.Context, a *app.App, stdout, stderr io.Writer) int {
	st, err := a.OpenClawStatus()
	if err != nil {
		fmt.Fprintf(stderr, "clawgate: %v\n", err)
		return 1
	}
	s := st.Status
	fmt.Fprintf(stdout, "config:   %s", st.Path)
	if !st.Exists {
		fmt.Fprint(stdout, " (not there yet)")
	}
	fmt.Fprintln(stdout)
	fmt.Fprintf(stdout, "litellm provider: %v", s.Provider)
	if s.Provider {
		api := s.API
		if api == "" {
			api = "unset (openai-completions)"
		}
		fmt.Fprintf(stdout, ", baseUrl %s, api %s, apiKey %s, request.auth %v", s.BaseURL, api, s.APIKey, s.RequestAuth)
	}
	fmt.Fprintln(stdout)
	fmt.Fprintf(stdout, "models:   %s\n", strings.Join(s.Models, ", "))
	fmt.Fprintf(stdout, "primary:  %s\n", s.Primary)
	if len(s.Allow) > 0 {
		fmt.Fprintf(stdout, "allowed:  %s\n", strings.Join(s.Allow, ", "))
	}
	live, err := a.OpenClawCheck(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "clawgate: %v\n", err)
		return 1
	}
	if live.URL != "" {
		answer := "answers now"
		if live.URLErr != "" {
			answer = "does NOT answer: " + live.URLErr
		}
		fmt.Fprintf(stdout, "gateway:  %s %s\n", live.URL, answer)
	} else {
		fmt.Fprintf(stdout, "gateway:  %s\n", live.URLErr)
	}
	works := "works"
	if live.KeyErr != "" {
		works = live.KeyErr
	}
	fmt.Fprintf(stdout, "key:      %s: %s\n", live.KeySource, works)
	for _, ag := range live.Agents {
		how := "the default model"
		if ag.Pinned {
			how = "its own model (" + strings.Join(ag.Path, ".") + " in " + ag.File + ")"
		}
		fmt.Fprintf(stdout, "agent %s: %s, %s\n", ag.ID, ag.Model, how)
	}
	for f, base := range live.StaleModelsJSON {
		fmt.Fprintf(stdout, "warning:  %s sets baseUrl %s, which OpenClaw prefers over the config's: run connect or sync\n", f, base)
	}
	if live.URLErr != "" || strings.HasPrefix(live.KeyErr, "refused") {
		return 1
	}
	return 0
}
