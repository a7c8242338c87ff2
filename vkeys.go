package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/clawgate/clawgate/app"
)

const keyUsage = `Manage virtual keys (the keys clients send) in the data folder's database.

Usage:
  clawgate key regenerate KEY   give the key a new secret, printed once; the old one stops working
  clawgate key block KEY        refuse the key until unblocked
  clawgate key unblock KEY      admit it again
  clawgate key delete KEY       delete the key (its spend logs stay)

KEY is the key's alias (e.g. openclaw), its sk- value, or its hash. A running gateway or tray app on the
same data folder sees the change within a second. Flags: --data-dir and --config as for serve.
`

// runKey implements `clawgate key`.
func runKey(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, keyUsage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	sub := args[0]
	switch sub {
	case "regenerate", "block", "unblock", "delete":
	default:
		fmt.Fprintf(stderr, "clawgate key: unknown command %q\n\n%s", sub, keyUsage)
		return 2
	}
	if len(args) < 2 || args[1] == "" || args[1][0] == '-' {
		fmt.Fprintf(stderr, "clawgate key %s: name the key, e.g. clawgate key %s openclaw\n", sub, sub)
		return 2
	}
	name := args[1]
	var f commonFlags
	fs := newFlags("key "+sub, "Virtual keys: "+sub+".", &f, stdout, false)
	if code, ok := parse(fs, args[2:]); !ok {
		return code
	}
	return runWithApp(&f, "", time.Minute, stderr, func(ctx context.Context, a *app.App) int {
		if err := keyCommand(ctx, a, sub, name, stdout); err != nil {
			fmt.Fprintf(stderr, "clawgate key %s: %v\n", sub, err)
			return 1
		}
		return 0
	})
}

func keyCommand(ctx context.Context, a *app.App, sub, name string, stdout io.Writer) error {
	token, err := a.FindKey(ctx, name)
	if err != nil {
		return err
	}
	switch sub {
	case "regenerate":
		secret, err := a.RegenerateKey(ctx, token)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, secret)
	case "block", "unblock":
		if err := a.SetKeyBlocked(ctx, token, sub == "block"); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%sed %s\n", sub, name)
	case "delete":
		if err := a.DeleteKey(ctx, token); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "deleted %s\n", name)
	}
	return nil
}
