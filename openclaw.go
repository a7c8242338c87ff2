package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"
)

const openclawUsage = `Point OpenClaw at this gateway and switch its model.

Usage:
  clawgate openclaw status [flags]        what OpenClaw's config says about this gateway
  clawgate openclaw connect [flags]       add or repair the litellm provider, mint a key for OpenClaw
  clawgate openclaw sync [flags]          mirror the gateway's routes into the provider's models
  clawgate openclaw use MODEL [flags]     make litellm/MODEL OpenClaw's primary model

OpenClaw's config is found as OpenClaw finds it (OPENCLAW_CONFIG_PATH, OPENCLAW_STATE_DIR, ~/.openclaw);
--openclaw-config names another. Comments, formatting and every key Clawgate does not own are kept;
the file is backed up to the data folder first. Nothing is edited before 'connect'.
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
	if code, ok := parse(fs, args); !ok {
		return code
	}
	a, err := newAppWith(&f, newLogger(io.Discard, false), *ocPath)
	if err != nil {
		fmt.Fprintf(stderr, "clawgate: %v\n", err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	defer a.Stop(ctx)

	var lines []string
	switch sub {
	case "status":
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
			fmt.Fprintf(stdout, ", baseUrl %s (points at this gateway: %v), apiKey %s, request.auth %v", s.BaseURL, s.PointsHere, s.APIKey, s.RequestAuth)
		}
		fmt.Fprintln(stdout)
		fmt.Fprintf(stdout, "models:   %s\n", strings.Join(s.Models, ", "))
		fmt.Fprintf(stdout, "primary:  %s\n", s.Primary)
		if len(s.Allow) > 0 {
			fmt.Fprintf(stdout, "allowed:  %s\n", strings.Join(s.Allow, ", "))
		}
		return 0
	case "connect":
		lines, err = a.OpenClawConnect(ctx)
	case "sync":
		lines, err = a.OpenClawSync(ctx)
	case "use":
		lines, err = a.OpenClawUse(ctx, model)
	}
	for _, l := range lines {
		fmt.Fprintln(stdout, l)
	}
	if err != nil {
		fmt.Fprintf(stderr, "clawgate: %v\n", err)
		return 1
	}
	return 0
}
