package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/clawgate/clawgate/app"
)

const pricesUsage = `Print what a model costs and where the price came from.

Usage:
  clawgate prices [flags] [MODEL]

MODEL is a route name from config.yaml (its model_info prices apply), or a model such as
anthropic/claude-sonnet-4-5, gpt-4o or bedrock/us.anthropic.claude-opus-4-6-v1. Prices are per
1M tokens: input, output, cache read and write, reasoning, long-context tiers; then the context
window and max output. Without MODEL it counts the models priced per provider.

Flags:
`

// runPrices implements the prices sub-command.
func runPrices(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("prices", flag.ContinueOnError)
	fs.SetOutput(stdout)
	config := fs.String("config", "", "LiteLLM-style config.yaml (default $CLAWGATE_CONFIG, else <user config dir>/clawgate/config.yaml)")
	dataDir := fs.String("data-dir", "", "folder holding the cached price map (default $CLAWGATE_DATA_DIR, else <user config dir>/clawgate)")
	fs.Usage = func() {
		fmt.Fprint(stdout, pricesUsage)
		fs.PrintDefaults()
	}
	// MODEL may come before or after the flags.
	var models []string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		models, args = args[:1], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	models = append(models, fs.Args()...)
	if len(models) > 1 {
		fmt.Fprintf(stderr, "clawgate prices: one MODEL at most, got %q\n", models)
		return 2
	}
	model := ""
	if len(models) == 1 {
		model = models[0]
	}
	if err := app.Prices(app.Options{ConfigPath: *config, DataDir: *dataDir}, model, stdout); err != nil {
		fmt.Fprintf(stderr, "clawgate prices: %v\n", err)
		return 1
	}
	return 0
}
