package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/clawgate/clawgate/app"
)

const teamUsage = `Use a team's gateway (a Clawgate or LiteLLM server) from OpenClaw, with the virtual key the team gave you.

Usage:
  clawgate team join URL [flags]     check URL and the key (read from standard input, never from the command
                                     line), keep the key in the OS keychain, point OpenClaw at the team
  clawgate team use team|local       point OpenClaw at the team gateway, or back at this computer's
  clawgate team status               the key's spend, budget and models, read from the team gateway now
  clawgate team leave                back to the local gateway; forget the URL, delete the key

OpenClaw's config is edited as 'clawgate openclaw connect' edits it: the litellm provider's baseUrl, models
and key reference (${CLAWGATE_TEAM_KEY} in the profile's .env while on the team).
Example:  echo "$TEAM_KEY" | clawgate team join https://llm.example.com
`

// runTeam implements `clawgate team`.
func runTeam(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, teamUsage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	sub, args := args[0], args[1:]
	var arg string
	switch sub {
	case "join", "use":
		if len(args) == 0 || args[0] == "" || args[0][0] == '-' {
			fmt.Fprintf(stderr, "clawgate team %s: %s\n\n%s", sub, map[string]string{"join": "name the team gateway's URL", "use": "say team or local"}[sub], teamUsage)
			return 2
		}
		arg, args = args[0], args[1:]
		if sub == "use" && arg != "team" && arg != "local" {
			fmt.Fprintf(stderr, "clawgate team use: %q is neither team nor local\n", arg)
			return 2
		}
	case "status", "leave":
	default:
		fmt.Fprintf(stderr, "clawgate team: unknown command %q\n\n%s", sub, teamUsage)
		return 2
	}
	var f commonFlags
	fs := newFlags("team "+sub, "Team gateway: "+sub+".", &f, stdout, false)
	ocPath := fs.String("openclaw-config", "", "OpenClaw's config file (default: found as OpenClaw finds it)")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	var key string
	if sub == "join" {
		var err error
		if key, err = promptSecret(stdin, stderr, "Paste the virtual key the team gave you and press Enter (it is not shown): "); err != nil {
			fmt.Fprintf(stderr, "clawgate team join: %v\n", err)
			return 2
		}
	}
	return runWithApp(&f, *ocPath, 3*time.Minute, stderr, func(ctx context.Context, a *app.App) int {
		var lines []string
		var err error
		switch {
		case sub == "join":
			lines, err = a.JoinTeam(ctx, arg, key)
		case sub == "use" && arg == "team":
			lines, err = a.UseTeamGateway(ctx)
		case sub == "use":
			lines, err = a.UseLocalGateway(ctx)
		case sub == "leave":
			lines, err = a.LeaveTeam(ctx)
		case sub == "status":
			var t app.TeamState
			if t, err = a.RefreshTeam(ctx); err == nil {
				lines = teamStatusLines(t)
			}
		}
		return report(stdout, stderr, lines, err)
	})
}

// report prints what a command did, one line each, then its error; it returns the exit code.
func report(stdout, stderr io.Writer, lines []string, err error) int {
	for _, l := range lines {
		fmt.Fprintln(stdout, l)
	}
	if err != nil {
		fmt.Fprintf(stderr, "clawgate: %v\n", err)
		return 1
	}
	return 0
}

func teamStatusLines(t app.TeamState) []string {
	k := t.Info.Key
	budget := "none"
	if k.MaxBudget != nil {
		budget = fmt.Sprintf("$%.2f", *k.MaxBudget)
		if k.BudgetDuration != "" {
			budget += " per " + k.BudgetDuration
		}
		if k.BudgetResetAt != nil {
			budget += ", resets " + k.BudgetResetAt.Local().Format(time.RFC3339)
		}
	}
	alias := k.Alias
	if alias == "" {
		alias = "(none)"
	}
	return []string{
		"gateway: " + t.URL,
		"key:     " + alias,
		fmt.Sprintf("spend:   $%.4f", k.Spend),
		"budget:  " + budget,
		"models:  " + strings.Join(t.Info.Models, ", "),
	}
}
