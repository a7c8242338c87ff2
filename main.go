// Command clawgate is an LLM gateway in the system tray: it serves the OpenAI API and the LiteLLM
// proxy's API on 127.0.0.1:4000 in front of OpenAI, Anthropic, Gemini, Bedrock and any
// OpenAI-compatible server. `clawgate` runs the tray app; `clawgate serve` runs the gateway headless.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/clawgate/clawgate/app"
	"github.com/clawgate/clawgate/app/instance"
	"github.com/clawgate/clawgate/app/logfile"
	"github.com/clawgate/clawgate/internal/quietinit"
	"github.com/clawgate/clawgate/proxy"
	"github.com/clawgate/clawgate/ui"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

const usage = `Clawgate: an LLM gateway in your system tray, speaking the OpenAI and LiteLLM proxy APIs.

Usage:
  clawgate [flags]          run the tray app with the gateway inside
  clawgate serve [flags]    run the gateway alone (no display needed); logs to stderr
  clawgate keys set|list|delete   provider keys in the OS keychain
  clawgate key regenerate|block|unblock|delete KEY   virtual keys (the keys clients send)
  clawgate openclaw status|connect|sync|use MODEL   point OpenClaw at the gateway, switch its model
  clawgate team join URL|use team|local|status|leave   point OpenClaw at a team's gateway, and back
  clawgate master-key       print the master key clients use
  clawgate prices [MODEL]   what a model costs and where the price came from
  clawgate db migrate --to postgres://...   copy the ledger into a team database (PostgreSQL)
  clawgate version          print the version
  clawgate help [command]   show help

Run 'clawgate <command> --help' for a command's flags.
`

func main() {
	quietinit.Restore()
	log.SetOutput(os.Stderr)
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	proxy.Version = version
	cmd := ""
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "":
		return runTray(args, stdout, stderr)
	case "serve":
		return runServe(args, stdout, stderr)
	case "keys":
		return runKeys(args, os.Stdin, stdout, stderr)
	case "key":
		return runKey(args, stdout, stderr)
	case "openclaw":
		return runOpenClaw(args, stdout, stderr)
	case "team":
		return runTeam(args, os.Stdin, stdout, stderr)
	case "master-key":
		return runMasterKey(args, stdout, stderr)
	case "prices":
		return runPrices(args, stdout, stderr)
	case "db":
		return runDB(args, stdout, stderr)
	case "version":
		fmt.Fprintf(stdout, "clawgate %s\n", version)
		return 0
	case "help":
		if len(args) > 0 {
			return run([]string{args[0], "--help"}, stdout, stderr)
		}
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "clawgate: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
}

// commonFlags are the flags both the tray and serve take.
type commonFlags struct {
	config, dataDir, host, model string
	port                         int
	drain, grace                 time.Duration
	verbose                      bool
}

func newFlags(name, summary string, f *commonFlags, stdout io.Writer, withHost bool) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stdout)
	fs.StringVar(&f.config, "config", "", "LiteLLM-style config.yaml (default $CLAWGATE_CONFIG, else <user config dir>/clawgate/config.yaml)")
	fs.StringVar(&f.dataDir, "data-dir", "", "folder for the database and logs (default $CLAWGATE_DATA_DIR, else <user config dir>/clawgate)")
	fs.IntVar(&f.port, "port", 4000, "port to listen on (0: any free port, reported in the log)")
	fs.StringVar(&f.host, "host", "127.0.0.1", "address to listen on; anything but loopback needs a master key")
	if !withHost {
		// The tray listens on loopback only; the flag stays accepted but hidden from help.
		f.host = "127.0.0.1"
	}
	fs.StringVar(&f.model, "model", "", "serve this one model with no config file, e.g. gpt-4o-mini or ollama/llama3")
	fs.DurationVar(&f.drain, "drain-timeout", 10*time.Second, "how long in-flight requests may finish on shutdown")
	if withHost {
		fs.DurationVar(&f.grace, "shutdown-grace", 0, "on SIGTERM, fail /health/readiness and /health/liveliness and keep serving this long before draining, so a load balancer checking readiness takes this replica out first (e.g. 3s)")
	}
	fs.BoolVar(&f.verbose, "verbose", false, "log debug detail")
	fs.Usage = func() {
		fmt.Fprintf(stdout, "%s\n\nUsage:\n  clawgate %s[flags]\n\nFlags:\n", summary, map[bool]string{true: name + " ", false: ""}[name != "clawgate"])
		fs.PrintDefaults()
		fmt.Fprint(stdout, "\nEnvironment: CLAWGATE_CONFIG, CLAWGATE_DATA_DIR, LITELLM_MASTER_KEY, and the os.environ/ variables your config names.\n")
	}
	return fs
}

func parse(fs *flag.FlagSet, args []string) (int, bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0, false
		}
		return 2, false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "clawgate: unexpected argument %q\n", fs.Arg(0))
		return 2, false
	}
	return 0, true
}

func newLogger(w io.Writer, verbose bool) *slog.Logger {
	lvl := slog.LevelInfo
	if verbose {
		lvl = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: lvl}))
}

func newApp(f *commonFlags, log *slog.Logger) (*app.App, error) {
	return newAppWith(f, log, "")
}

func newAppWith(f *commonFlags, log *slog.Logger, openclawConfig string) (*app.App, error) {
	return app.New(appOptions(f, log, openclawConfig))
}

// runWithApp opens the app for a one-shot command (no gateway, logs discarded), runs fn under a
// context bounded by timeout, then stops the app; it returns fn's exit code, 1 when the app does
// not open.
func runWithApp(f *commonFlags, openclawConfig string, timeout time.Duration, stderr io.Writer, fn func(context.Context, *app.App) int) int {
	a, err := newAppWith(f, newLogger(io.Discard, false), openclawConfig)
	if err != nil {
		fmt.Fprintf(stderr, "clawgate: %v\n", err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	defer a.Stop(ctx)
	return fn(ctx, a)
}

func appOptions(f *commonFlags, log *slog.Logger, openclawConfig string) app.Options {
	return app.Options{ConfigPath: f.config, DataDir: f.dataDir, Host: f.host, Port: f.port, FreePort: f.port == 0, Model: f.model,
		Logger: log, OpenClawConfig: openclawConfig,
		// A --host or --port other than the defaults wins over the address Settings kept.
		ListenGiven: f.port != 4000 || f.host != "127.0.0.1"}
}

// runServe runs the gateway in the foreground until SIGINT or SIGTERM.
func runServe(args []string, stdout, stderr io.Writer) int {
	var f commonFlags
	fs := newFlags("serve", "Run the gateway headless: the OpenAI and LiteLLM proxy APIs on --host:--port.", &f, stdout, true)
	if code, ok := parse(fs, args); !ok {
		return code
	}
	log := newLogger(stderr, f.verbose)
	a, err := newApp(&f, log)
	if err != nil {
		fmt.Fprintf(stderr, "clawgate: %v\n", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := a.Start(ctx); err != nil {
		fmt.Fprintf(stderr, "clawgate: %v\n", err)
		return 1
	}
	st := a.Status()
	if len(st.Models) == 0 {
		log.Warn("no models configured yet: add them to model_list", "config", st.ConfigPath)
	}
	<-ctx.Done()
	stop()
	if f.grace > 0 {
		log.Info("leaving: the health probes fail from now on; still serving", "for", f.grace)
		a.Leave()
		time.Sleep(f.grace)
	}
	log.Info("shutting down; letting in-flight requests finish", "timeout", f.drain)
	dctx, cancel := context.WithTimeout(context.Background(), f.drain)
	defer cancel()
	if err := a.Stop(dctx); err != nil {
		log.Warn("shutdown cut in-flight requests short", "err", err)
	}
	return 0
}

// runTray runs the tray app with the gateway inside. One runs per data folder: a second launch asks
// the first to show its window and exits 0. Nothing that goes wrong after that ends the app: a
// taken port or a broken config is shown in the tray, with the log in a rotating file beside the
// database.
func runTray(args []string, stdout, stderr io.Writer) int {
	var f commonFlags
	fs := newFlags("clawgate", "Run the tray app with the gateway inside.", &f, stdout, false)
	if code, ok := parse(fs, args); !ok {
		return code
	}
	dir, err := app.DataDir(f.dataDir)
	if err == nil {
		err = os.MkdirAll(dir, 0o700)
	}
	if err != nil {
		fmt.Fprintf(stderr, "clawgate: %v\n", err)
		return 1
	}
	f.dataDir = dir
	in, err := instance.Acquire(dir)
	if errors.Is(err, instance.ErrHandedOver) {
		fmt.Fprintf(stdout, "clawgate: already running for %s; its window is shown\n", dir)
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "clawgate: %v\n", err)
		return 1
	}
	defer in.Close()

	uiOpts := ui.Options{Version: version, Show: in.Show()}
	logTo := stderr
	if lf, err := logfile.Open(dir, 0, 0); err != nil {
		fmt.Fprintf(stderr, "clawgate: no log file: %v\n", err)
	} else {
		defer lf.Close()
		logTo = io.MultiWriter(stderr, lf)
		uiOpts.LogTail, uiOpts.LogPath = lf.Tail, lf.Path()
	}
	log := newLogger(logTo, f.verbose)
	opts := appOptions(&f, log, "")
	opts.KeepGoing = true
	a, err := app.New(opts)
	if err != nil {
		fmt.Fprintf(stderr, "clawgate: %v\n", err)
		return 1
	}
	if err := a.Start(context.Background()); err != nil {
		log.Error("gateway not started", "err", err)
	}
	// ui.Run returns on Quit, on closing the window when there is no tray, and on SIGINT/SIGTERM.
	err = ui.Run(a, uiOpts)
	dctx, cancel := context.WithTimeout(context.Background(), f.drain)
	defer cancel()
	_ = a.Stop(dctx)
	if err != nil {
		fmt.Fprintf(stderr, "clawgate: %v\n", err)
		return 1
	}
	return 0
}
