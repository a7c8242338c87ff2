// Package app owns Clawgate's lifecycle and state: it loads the config, runs the gateway and tells
// subscribers (the tray) what changed. It knows nothing of Fyne.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/clawgate/clawgate/app/keychain"
	"github.com/clawgate/clawgate/app/ledger"
	"github.com/clawgate/clawgate/app/openclaw"
	"github.com/clawgate/clawgate/proxy"
	"github.com/clawgate/clawgate/proxy/config"
)

// Options configure an App. Zero values take the defaults documented on each field.
type Options struct {
	// ConfigPath is the LiteLLM-style config.yaml (default: $CLAWGATE_CONFIG, else
	// <user config dir>/clawgate/config.yaml, written with a commented example on first run).
	ConfigPath string
	// DataDir holds the database and logs (default: $CLAWGATE_DATA_DIR, else <user config dir>/clawgate).
	DataDir string
	// Host and Port to listen on (default 127.0.0.1:4000). FreePort asks the OS for a free port
	// instead (Port is then ignored); Status().Addr says which.
	Host     string
	Port     int
	FreePort bool
	// ListenGiven says Host or Port came from the command line: they then win over the address
	// the Settings window kept in config.yaml (general_settings.clawgate_listen).
	ListenGiven bool
	// Model, when set, serves that one model with no config file (like `litellm --model X`).
	Model  string
	Logger *slog.Logger
	// Usage receives every request's usage, besides the app's own counters (may be nil).
	Usage proxy.UsageSink
	// Secrets holds provider keys and the master key (default: the OS keychain). Set NoKeychain
	// to run without one (os.environ/ references and literal keys still work).
	Secrets    Secrets
	NoKeychain bool
	// OpenClawConfig overrides where OpenClaw's config is (default: OpenClaw's own rules).
	OpenClawConfig string
	// KeepGoing is the tray's mode: a config that cannot be loaded does not fail New (the last good
	// config kept in the data folder serves, or nothing until the file is fixed), and a route whose
	// key cannot be resolved is listed in Status.KeyProblems instead of failing the whole config.
	// Headless commands leave it off and fail loudly.
	KeepGoing bool
}

// ErrPortInUse is wrapped by Start when the listen address is taken.
var ErrPortInUse = errors.New("port in use")

// ErrNeedMasterKey is wrapped by Start when asked to listen beyond loopback with auth off.
var ErrNeedMasterKey = errors.New("a master key is required to listen beyond loopback")

// State is what the gateway is doing.
type State int

const (
	StateStopped State = iota
	StateRunning
	StateError
)

func (s State) String() string {
	switch s {
	case StateRunning:
		return "running"
	case StateError:
		return "error"
	}
	return "stopped"
}

// Status is a snapshot of the app for display.
type Status struct {
	State State
	// Addr is "127.0.0.1:4000" once listening.
	Addr string
	// Err is the last start or config error, human-readable.
	Err error
	// StoreErr is why usage cannot be recorded now (the data folder's disk is full, say), nil
	// while it can: read live from the ledger, so the tray shows a warning while it is set.
	StoreErr error
	// Models are the public model names served, in config order.
	Models []string
	// Backends are the models served by several deployments, with the one serving now (the tray's
	// Backend submenus; UseBackend changes it).
	Backends   []BackendGroup
	ConfigPath string
	DataDir    string
	// FirstRun is true when this start wrote the example config.
	FirstRun bool
	// Requests counts the requests served since start.
	Requests int64
	// Auth says where the master key came from: "config", "env", "keychain", or "off" (no key:
	// any caller is accepted, on loopback only).
	Auth string
	// OpenClaw is what OpenClaw's config says, kept current while connected.
	OpenClaw OpenClawState
	// Unpriced names each route without a price and the fix (see warnUnpriced); the tray shows
	// its warning state while any is listed.
	Unpriced []string
	// Budget is the worst budget state and the spend line, re-read on spend and budget events.
	Budget BudgetSummary
	// ConfigErr is why the config file is not in force (at start, or at the last reload), nil once
	// it is; a *config.Error inside names the file, line and key.
	ConfigErr error
	// LastGood is true while the gateway serves the last good config kept in the data folder,
	// because the config file could not be loaded at start.
	LastGood bool
	// KeyProblems name the routes whose provider key cannot be resolved (a keychain/NAME that is
	// not stored, an os.environ/VAR that is not set), each with the fix.
	KeyProblems []string
	// KeyringErr is why the keychain could not give the master key (locked, no Secret Service):
	// the gateway then runs without one, loopback only, refusing what could come from a web page.
	KeyringErr error
	// Team is the joined team gateway and its key's last read spend (team.go).
	Team TeamState
}

// BaseURL is the URL clients use, e.g. "http://127.0.0.1:4000".
func (s Status) BaseURL() string {
	if s.Addr == "" {
		return ""
	}
	return "http://" + s.Addr
}

// Event tells subscribers that something changed; Status is the state after the change.
type Event struct {
	Kind   EventKind
	Status Status
	Alert  *Alert
}

// EventKind names what changed.
type EventKind int

const (
	EventStatus EventKind = iota // started, stopped, failed, config reloaded
	EventAlert                   // a budget crossed a threshold or reset: Alert says which
)

// Alert is a budget event worth telling the user about (a native notification in the tray).
type Alert struct {
	Title, Message string
	// Level is the fraction of the budget crossed (0.5, 0.8, 1), 0 for resets.
	Level float64
}

// App is the application service.
type App struct {
	opts   Options
	log    *slog.Logger
	srv    *proxy.Server
	events *broker
	watch  *watcher
	counts *counter

	secrets Secrets
	ledger  *ledger.Ledger
	master  string // from the keychain, when neither the config nor the environment sets one

	mu     sync.Mutex
	status Status
	done   chan struct{}
	// listener is what the gateway serves on now (SetListen swaps it); guarded by mu.
	listener net.Listener

	// ocMu guards the OpenClaw watcher, which runs only while the app serves and OpenClaw is connected.
	ocMu     sync.Mutex
	ocWatch  *openclaw.Watcher
	ocClosed bool
	ocRetry  interface{ Stop() bool } // the timer of the next retry of a failed OpenClaw sync (openclaw_state.go)

	// budgetKick asks watchBudgets to re-read the budgets; stopBudgets ends it (nil when it does
	// not run).
	budgetKick  chan struct{}
	stopBudgets chan struct{}
	budgetsDone sync.WaitGroup
	// storeFailing is whether the spend log could not be written at the last budget re-read.
	storeFailing bool

	// waiting is true while no config is in force (the file was broken at start and there was no
	// last good one): Start then only watches the file, and the first good reload starts serving.
	waiting bool
	started bool
	// inForce is the config last applied, for re-applying it when the keyring unlocks.
	inForce         *config.Config
	inForceSettings ledger.Settings
	keyringErr      error      // set by pickMaster, copied into the status by apply
	reloadMu        sync.Mutex // one reload at a time: the watcher and the tray's Retry both reload

	// priceURL is the general_settings.price_map_url in force; stopPrices ends its refresh loop
	// (see prices.go), nil when none runs; priceMu guards both.
	priceMu    sync.Mutex
	priceURL   string
	stopPrices func()
}

// New prepares an App: it resolves paths, writes the example config on first run, and reads the
// config. It does not listen yet.
func New(opts Options) (*App, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Host == "" {
		opts.Host = "127.0.0.1"
	}
	if opts.Port == 0 {
		opts.Port = 4000
	}
	a := &App{opts: opts, log: opts.Logger, events: newBroker(), counts: &counter{next: opts.Usage}, secrets: opts.Secrets,
		budgetKick: make(chan struct{}, 1)}
	if a.secrets == nil && !opts.NoKeychain {
		a.secrets = keychain.New()
	}
	var err error
	if a.opts.DataDir, err = dataDir(opts.DataDir); err != nil {
		return nil, err
	}
	if opts.Model == "" {
		if a.opts.ConfigPath, err = configPath(opts.ConfigPath); err != nil {
			return nil, err
		}
	}
	a.status = Status{ConfigPath: a.opts.ConfigPath, DataDir: a.opts.DataDir}
	if err := os.MkdirAll(a.opts.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data folder: %w", err)
	}
	cfg, err := a.loadConfig()
	if err != nil {
		if !opts.KeepGoing {
			return nil, err
		}
		cfg = a.fallbackConfig(err)
	}
	if h, p, ok := listenFromConfig(cfg.General.Extra); ok && !opts.ListenGiven && !opts.FreePort {
		a.opts.Host, a.opts.Port = h, p
	}
	a.priceURL = priceMapURL(cfg)
	settings, errs := ledger.SettingsFrom(cfg)
	for _, e := range errs {
		a.log.Warn("config", "err", e)
	}
	led, err := ledger.Open(context.Background(), ledger.Options{DataDir: a.opts.DataDir, Settings: settings, Logger: a.log, OnEvent: a.onLedgerEvent})
	if err != nil {
		where := "in " + a.opts.DataDir
		if settings.DatabaseURL != "" {
			where = "on the database of general_settings.database_url (or DATABASE_URL)" // its error names it, without the password
		}
		return nil, fmt.Errorf("open the spend ledger %s: %w", where, err)
	}
	a.ledger = led
	a.counts.next = led
	// The server starts empty; apply puts the config in force, the same way a reload does.
	srv, err := proxy.New(proxy.Options{Usage: a.counts, Logger: a.log, Keys: led, Gate: led, Admin: led})
	if err == nil {
		a.srv = srv
		err = a.apply(cfg, settings)
	}
	if err != nil {
		// Bounded: with the database away, Close would retry spilled rows for ever (what it cannot
		// write stays in the spill file).
		cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		led.Close(cctx)
		cancel()
		return nil, fmt.Errorf("%s: %w", a.opts.ConfigPath, err)
	}
	return a, nil
}

// loadConfig reads the config (or builds the one-model config), writing the example on first run.
func (a *App) loadConfig() (*config.Config, error) {
	if a.opts.Model != "" {
		return &config.Config{ModelList: []config.Deployment{{
			ModelName: a.opts.Model,
			Params:    config.Params{Model: a.opts.Model},
		}}, Router: config.Default()}, nil
	}
	if _, err := os.Stat(a.opts.ConfigPath); errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(filepath.Dir(a.opts.ConfigPath), 0o700); err != nil {
			return nil, fmt.Errorf("create config folder: %w", err)
		}
		if err := writeNew(a.opts.ConfigPath, config.ExampleYAML()); err != nil {
			return nil, fmt.Errorf("write example config: %w", err)
		}
		a.status.FirstRun = true
		a.log.Info("wrote an example config; edit it to add your models", "path", a.opts.ConfigPath)
	}
	cfg, warns, err := config.Load(a.opts.ConfigPath)
	if err != nil {
		return nil, err
	}
	for _, w := range warns {
		a.log.Warn(w.String())
	}
	probs, err := a.resolve(cfg, warns)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", a.opts.ConfigPath, err)
	}
	a.status.KeyProblems = probs
	a.saveLastGood()
	return cfg, nil
}

// MasterKey returns the master key in force ("" when auth is off), for `clawgate master-key`
// and the tray's copy button. Never log it.
func (a *App) MasterKey() string { return a.srv.MasterKey() }

// writeNew creates path with data, failing if it already exists (never clobber a user's file).
func writeNew(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Start binds the listen address and serves until Stop. A taken port returns an error wrapping
// ErrPortInUse; the status shows it too. With no config in force (KeepGoing and a broken file) it
// only watches the file: the first good reload starts serving.
func (a *App) Start(ctx context.Context) error {
	a.mu.Lock()
	waiting := a.waiting
	a.started = true
	a.mu.Unlock()
	if !waiting {
		if err := a.serve(ctx); err != nil {
			return err
		}
	}
	if a.opts.Model == "" {
		w, err := watchConfig(a.opts.ConfigPath, a.reload, a.log)
		if err != nil {
			a.log.Warn("config changes will need a restart", "err", err)
		} else {
			a.watch = w
		}
	}
	a.publish()
	return nil
}

// serve listens and starts what runs beside the gateway (prices, budgets, OpenClaw's watcher).
func (a *App) serve(ctx context.Context) error {
	port := a.opts.Port
	if a.opts.FreePort {
		port = 0
	}
	addr := net.JoinHostPort(a.opts.Host, strconv.Itoa(port))
	if !isLoopback(a.opts.Host) && !a.srv.HasMasterKey() {
		err := fmt.Errorf("%w: refusing to listen on %s with no master key; set general_settings.master_key or LITELLM_MASTER_KEY, or use --host 127.0.0.1", ErrNeedMasterKey, addr)
		a.setErr(err)
		return err
	}
	l, err := (&net.ListenConfig{}).Listen(ctx, "tcp", addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			err = fmt.Errorf("%w: port %d on %s is already taken (another Clawgate or LiteLLM?); stop it or pick another port with --port", ErrPortInUse, a.opts.Port, a.opts.Host)
		} else {
			err = fmt.Errorf("listen on %s: %w", addr, err)
		}
		a.setErr(err)
		return err
	}
	a.mu.Lock()
	a.done = make(chan struct{})
	a.listener = l
	a.status.State, a.status.Addr, a.status.Err = StateRunning, l.Addr().String(), nil
	done := a.done
	a.mu.Unlock()
	go a.serveOn(l, done) // listen.go: SetListen moves it
	a.startPriceRefresh()
	a.mu.Lock()
	a.stopBudgets = make(chan struct{})
	a.budgetsDone.Add(1)
	go func(stop <-chan struct{}) { defer a.budgetsDone.Done(); a.watchBudgets(stop) }(a.stopBudgets)
	a.mu.Unlock()
	// Read once now rather than kick the loop: the first status the tray shows then carries the
	// spend line (a slow disk made it arrive seconds after the icon and the menu).
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	a.refreshBudgets(rctx)
	cancel()
	a.log.Info("listening on " + a.Status().BaseURL())
	a.refreshOpenClaw(ctx)
	return nil
}

// reload re-reads the config after it changed on disk. What is not a whole config, or would turn
// auth off, is refused: the old config stays in force, and the log and the status say why (an
// alert too when auth is at stake, as that is no typo to shrug off).
func (a *App) reload() { _ = a.Reload() }

// Reload re-reads the config file now (the tray's Retry) and returns why it was refused, if it was.
func (a *App) Reload() error {
	a.reloadMu.Lock()
	defer a.reloadMu.Unlock()
	cfg, settings, probs, err := a.readReload()
	if err == nil {
		err = a.apply(cfg, settings)
	}
	if err == nil {
		a.reloadPriceMap(priceMapURL(cfg))
		a.saveLastGood()
		a.mu.Lock()
		a.status.KeyProblems = probs
		a.mu.Unlock()
	}
	a.mu.Lock()
	startNow := err == nil && a.waiting && a.started
	if err == nil {
		a.waiting = false
	}
	if err != nil {
		a.status.ConfigErr = err
		if !a.waiting && !a.status.LastGood {
			a.status.Err = fmt.Errorf("config not reloaded, the previous one stays in force: %w", err)
		}
	} else {
		a.status.Err, a.status.ConfigErr, a.status.LastGood = nil, nil, false
	}
	a.mu.Unlock()
	if startNow {
		if serr := a.serve(context.Background()); serr != nil {
			a.log.Error("config fixed, but the gateway could not start", "err", serr)
		}
	}
	if err != nil {
		a.log.Error("config reload refused; the previous config stays in force", "err", err)
	} else {
		a.log.Info("config reloaded", "models", len(a.srv.Models()), "auth", a.Status().Auth)
		a.syncOpenClawAfterReload()
		a.kickBudgets() // the proxy-wide budget may have changed
	}
	a.publish()
	if errors.Is(err, proxy.ErrAuthOff) {
		a.events.publish(Event{Kind: EventAlert, Status: a.Status(), Alert: &Alert{
			Title: "Config change not applied", Message: "It would switch off the master key; the previous config stays in force."}})
	}
	return err
}

// Leave fails the gateway's readiness probe from now on while it keeps serving (serve's
// --shutdown-grace), so a load balancer stops sending it requests before Stop.
func (a *App) Leave() {
	a.mu.Lock()
	srv := a.srv
	a.mu.Unlock()
	if srv != nil {
		srv.Leave()
	}
}

// Stop drains in-flight requests until ctx ends, then closes.
func (a *App) Stop(ctx context.Context) error {
	if a.watch != nil {
		a.watch.Close()
	}
	a.stopOpenClawWatch()
	a.stopPriceRefresh()
	a.mu.Lock()
	done := a.done
	if a.stopBudgets != nil {
		close(a.stopBudgets)
		a.stopBudgets = nil
	}
	a.mu.Unlock()
	a.budgetsDone.Wait() // before the ledger closes under it
	if done == nil {
		return a.closeLedger(ctx)
	}
	err := a.srv.Shutdown(ctx)
	a.mu.Lock()
	done = a.done // SetListen may have moved the gateway meanwhile
	a.mu.Unlock()
	<-done
	if lerr := a.closeLedger(ctx); err == nil {
		err = lerr
	}
	a.mu.Lock()
	a.status.State = StateStopped
	a.mu.Unlock()
	a.publish()
	return err
}

// closeLedger writes every queued usage row to disk; once.
func (a *App) closeLedger(ctx context.Context) error {
	a.mu.Lock()
	l := a.ledger
	a.ledger = nil
	a.mu.Unlock()
	if l == nil {
		return nil
	}
	if err := l.Close(ctx); err != nil {
		return fmt.Errorf("write the last usage rows: %w", err)
	}
	return nil
}

// onLedgerEvent turns budget thresholds and resets into alerts for the tray.
func (a *App) onLedgerEvent(e ledger.Event) {
	a.kickBudgets()
	var al *Alert
	name := e.Alias
	if e.Budget == ledger.GlobalBudget {
		name = "proxy-wide"
	} else if name == "" {
		name = "a key"
	}
	switch e.Kind {
	case ledger.EventThreshold, ledger.EventSoftBudget:
		al = &Alert{Title: fmt.Sprintf("Budget %s at %.0f%%", name, e.Level*100), Message: e.Message, Level: e.Level}
		if al.Message == "" {
			al.Message = fmt.Sprintf("$%.2f of $%.2f spent", e.Spend, e.Limit)
		}
	case ledger.EventReset:
		al = &Alert{Title: fmt.Sprintf("Budget %s reset", name), Message: e.Message}
	default:
		return
	}
	a.events.publish(Event{Kind: EventAlert, Status: a.Status(), Alert: al})
}

// Status returns the current snapshot.
func (a *App) Status() Status {
	a.mu.Lock()
	defer a.mu.Unlock()
	s := a.status
	s.Models = append([]string(nil), s.Models...)
	s.Backends = cloneBackends(s.Backends)
	s.KeyProblems = append([]string(nil), s.KeyProblems...)
	s.Requests = a.counts.n.Load()
	if a.ledger != nil {
		s.StoreErr = a.ledger.StoreErr()
	}
	return s
}

// Subscribe returns a channel of events and a cancel func. Slow subscribers miss intermediate
// events but always get the latest.
func (a *App) Subscribe() (<-chan Event, func()) { return a.events.subscribe() }

func (a *App) setErr(err error) {
	a.mu.Lock()
	a.status.State, a.status.Err = StateError, err
	a.mu.Unlock()
	a.publish()
}

func (a *App) publish() { a.events.publish(Event{Kind: EventStatus, Status: a.Status()}) }

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func configPath(p string) (string, error) {
	if p == "" {
		p = os.Getenv("CLAWGATE_CONFIG")
	}
	if p != "" {
		return filepath.Abs(p)
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("find the user config folder (set --config or CLAWGATE_CONFIG): %w", err)
	}
	return filepath.Join(dir, "clawgate", "config.yaml"), nil
}

// DataDir resolves the data folder as New does: p, else $CLAWGATE_DATA_DIR, else
// <user config dir>/clawgate.
func DataDir(p string) (string, error) { return dataDir(p) }

func dataDir(p string) (string, error) {
	if p == "" {
		p = os.Getenv("CLAWGATE_DATA_DIR")
	}
	if p != "" {
		return filepath.Abs(p)
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("find the user config folder (set --data-dir or CLAWGATE_DATA_DIR): %w", err)
	}
	return filepath.Join(dir, "clawgate"), nil
}
