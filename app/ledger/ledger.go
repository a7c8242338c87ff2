// Package ledger is Clawgate's account of who may call and what it cost: LiteLLM-compatible
// virtual keys, per-key and proxy-wide budgets enforced before each call, rpm/tpm/parallel
// limits, LiteLLM's teams and internal users (owners.go), the spend log, budget alerts, and the
// management API over them (/key/*, /team/*, /user/*, /spend/logs, /spend/logs/ui, /global/spend,
// /user/daily/activity, /team/daily/activity). A *Ledger is the gateway's KeySource,
// Gate, UsageSink and Admin, built on app/store (SQLite, or PostgreSQL shared by several gateways) and app/budget (the
// arithmetic).
//
// Where a request's spend log row is written: Admission.Done writes it for every request the
// gate admitted (the gateway calls Done, then UsageSink.Record, on the same goroutine); Record
// writes only the rows of requests that never passed the gate, and skips those Done wrote. So
// each request is logged once whether or not the ledger is also the gateway's Gate. Refused
// requests (Usage.Refusal set by the gateway; blocked and expired keys by Authenticate) are
// failure rows too, identical ones of a key folded into one row with a count (refusals.go).
package ledger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/clawgate/clawgate/app/budget"
	"github.com/clawgate/clawgate/app/store"
	"github.com/clawgate/clawgate/proxy"
)

// Options configure Open.
type Options struct {
	// DataDir holds the database (store.Path(DataDir)), or with DatabaseURL set only the spill
	// file of usage rows the database could not take yet. Required.
	DataDir string
	// DatabaseURL, when set, is a PostgreSQL database (postgres://...) that holds the ledger
	// instead of the SQLite file in DataDir, so that several gateways share keys, budgets and
	// spend; "" takes Settings.DatabaseURL (general_settings.database_url or DATABASE_URL). It
	// may hold a password: it never appears in logs or errors (store.Redact).
	DatabaseURL string
	Settings    Settings
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// Now is the clock (default time.Now); budget windows and key expiry follow it.
	Now func() time.Time
	// OnEvent hears threshold crossings, budget resets and spend changes. It is called on the
	// goroutine of the request (or admin call) that caused the event, and during Open for
	// windows that ended while Clawgate was stopped: it must not block. EventSpend comes after
	// every priced request, twice (the key's budget and the global one): coalesce it, and keep
	// threshold events apart so that spend events cannot crowd them out.
	OnEvent func(Event)
	// FlushInterval is the longest a usage row waits in memory before it is written (default
	// 1s): what a crash can lose.
	FlushInterval time.Duration
	// HTTPClient posts webhook alerts (default: a client with a 10 s timeout).
	HTTPClient *http.Client
	// MaxPendingLogs is how many usage rows are held in memory while the database refuses
	// writes (default 10,000); beyond it they go to a spill file beside the database, and when
	// even that fails, requests are refused.
	MaxPendingLogs int
	// Shared keeps budgets, their reservations, resets, alerts and rate limits in the database,
	// so that several gateways on one database enforce them together (shared.go). A PostgreSQL
	// database (DatabaseURL) is always shared: it exists for several gateways. On a SQLite file
	// the in-memory gate is kept (a database write per request would cost ~150x its time).
	Shared bool
}

// Ledger implements proxy.KeySource, proxy.Gate, proxy.UsageSink and proxy.Admin.
type Ledger struct {
	log     *slog.Logger
	now     func() time.Time
	onEvent func(Event)
	loc     *time.Location // fixed at Open: the budget ledger's calendar

	st    *store.Store
	w     *store.Writer
	bl    *budget.Ledger
	lim   *budget.Limiter
	alert alerter
	hooks *webhooks
	// refused folds repeated refusals into counted rows before they reach w.
	refused *refusals
	// shared is the gate's shared mode (Options.Shared), nil otherwise.
	shared *shared

	set atomic.Pointer[Settings]

	mu   sync.RWMutex
	keys map[string]*entry // by token (SHA-256 hex of the key)
	tu   owners            // teams and users (owners.go)
	ks   keySync           // where keys is in the store's change log (keysync.go)

	// written holds the CallIDs whose rows Done wrote, until Record sees them (see the package doc).
	written sync.Map // CallID -> time.Time

	stop      chan struct{}
	maintDone chan struct{}
	closeOnce sync.Once
	closeErr  error
}

// entry is one key in memory. The pointer is stable for the key's life (a regenerate changes
// k.Token in place), so an admission in flight logs under the key's current token. k is
// guarded by Ledger.mu and replaced, never mutated in its slices or maps.
type entry struct {
	k store.Key
}

var _ interface {
	proxy.KeySource
	proxy.Gate
	proxy.UsageSink
	proxy.Admin
} = (*Ledger)(nil)

// Open opens (or creates) the database (o.DatabaseURL, or the file in o.DataDir), loads every key and budget with its spend
// recomputed from the logs on disk, prunes logs past the retention period and starts the
// batching writer. Close it after the gateway has stopped.
func Open(ctx context.Context, o Options) (*Ledger, error) {
	if o.DataDir == "" {
		return nil, errors.New("ledger: no data folder")
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	l := &Ledger{log: o.Logger, now: o.Now, onEvent: o.OnEvent, loc: o.Settings.location(),
		lim: budget.NewLimiter(o.Now), alert: budget.NewAlerter(), keys: map[string]*entry{},
		stop: make(chan struct{}), maintDone: make(chan struct{})}
	s := o.Settings
	l.set.Store(&s)
	target := store.Path(o.DataDir)
	if o.DatabaseURL == "" {
		o.DatabaseURL = o.Settings.DatabaseURL
	}
	if o.DatabaseURL != "" {
		if !store.IsURL(o.DatabaseURL) {
			return nil, fmt.Errorf("ledger: database_url %s is not a postgres:// or postgresql:// URL", store.Redact(o.DatabaseURL))
		}
		target = o.DatabaseURL
		o.Shared = true
	}
	st, err := store.Open(ctx, target)
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	l.st = st
	if o.Shared {
		l.shared = newShared(l)
		l.alert = &sharedAlerts{l: l, local: budget.NewAlerter()}
	}
	l.bl = budget.NewLedger(budget.LedgerOptions{Location: l.loc, Now: o.Now, OnReset: l.onReset, OnSpend: l.onSpend})
	l.hooks = newWebhooks(l.log, o.HTTPClient, func() string { return l.settings().WebhookURL })
	l.prune(ctx) // before loading, so spend counts only the logs kept
	l.ks.start = time.Now()
	// Read before the keys: a change made while they load is applied again, never missed.
	if l.ks.seq, err = st.LastKeyChange(ctx); err != nil {
		l.hooks.close(ctx)
		st.Close()
		return nil, fmt.Errorf("ledger: %w", err)
	}
	if err := l.load(ctx); err != nil {
		l.hooks.close(ctx)
		st.Close()
		return nil, err
	}
	l.pruneKeyChanges(ctx) // here too: short-lived processes (the CLI) write changes as well
	l.w = st.NewWriter(l.writerOptions(o))
	l.refused = newRefusals(refusalWindow, l.w.Add)
	go l.maintain()
	if l.shared != nil {
		go l.shared.renew()
	}
	return l, nil
}

// writerOptions sets up the spend log writer: o.FlushInterval is what a crash can lose.
func (l *Ledger) writerOptions(o Options) store.WriterOptions {
	if o.MaxPendingLogs <= 0 {
		o.MaxPendingLogs = 10_000
	}
	return store.WriterOptions{FlushInterval: o.FlushInterval, MaxPending: o.MaxPendingLogs,
		MaxBatch:  min(512, o.MaxPendingLogs),
		SpillPath: store.Path(o.DataDir) + store.SpillSuffix,
		OnError:   func(err error) { l.log.Warn("ledger: spend log writer", "err", err) },
		OnRecover: func() { l.log.Info("ledger: spend logs are being written again") }}
}

// Close stops the ledger: it writes every queued usage row (retrying until ctx ends), sends
// queued webhook alerts and closes the database. Stop the gateway first; a request that ends
// after Close is still written, one row at a time.
func (l *Ledger) Close(ctx context.Context) error {
	l.closeOnce.Do(func() {
		close(l.stop)
		<-l.maintDone
		var errs []error
		l.refused.flush()
		if err := l.w.Close(ctx); err != nil {
			// The rows could be neither written nor spilled: the log keeps how many and what they cost.
			l.log.Error("ledger: usage not recorded at close", "err", err)
			errs = append(errs, err)
		}
		l.hooks.close(ctx)
		if l.shared != nil {
			if err := l.shared.close(ctx); err != nil {
				errs = append(errs, err)
			}
		}
		if err := l.st.Close(); err != nil {
			errs = append(errs, err)
		}
		if err := errors.Join(errs...); err != nil {
			l.closeErr = fmt.Errorf("ledger: close: %w", err)
		}
	})
	return l.closeErr
}

// Store is the database, for the app's own queries (summaries for the tray).
func (l *Ledger) Store() *store.Store { return l.st }

// SpendSince is what every request logged since t cost, in USD (rows still queued excepted: Flush
// first for a figure that includes them).
func (l *Ledger) SpendSince(ctx context.Context, t time.Time) (float64, error) {
	return l.st.TotalSpend(ctx, t)
}

// Flush writes every usage row queued so far, refusals still being counted included.
func (l *Ledger) Flush(ctx context.Context) error {
	l.refused.flush()
	return l.w.Flush(ctx)
}

func (l *Ledger) settings() *Settings { return l.set.Load() }

// SetSettings applies a reloaded config. A new max_budget applies at once with the window's
// spend kept; a new budget_duration starts a new window at spend 0 (no stale spend is carried);
// a new time zone needs a restart (it is logged and ignored).
func (l *Ledger) SetSettings(s Settings) {
	old := l.set.Swap(&s)
	if s.DatabaseURL != old.DatabaseURL {
		l.log.Warn("ledger: general_settings.database_url (or DATABASE_URL) changed; the ledger stays on the database it opened until Clawgate restarts",
			"open", store.Redact(l.st.Path()), "new", redactTarget(s.DatabaseURL))
	}
	if s.location().String() != l.loc.String() {
		l.log.Warn("ledger: litellm_settings.timezone changed; budgets keep resetting in the old zone until Clawgate restarts",
			"old", l.loc.String(), "new", s.location().String())
	}
	if sameDuration(old.BudgetDuration, s.BudgetDuration) {
		l.bl.SetLimit(GlobalBudget, s.MaxBudget)
		return
	}
	l.bl.SetBudget(GlobalBudget, s.MaxBudget, 0, nil, s.BudgetDuration) // a restart: OnReset saves it
}

// redactTarget names a database_url for the log: without its password, "" as the SQLite file.
func redactTarget(u string) string {
	if u == "" {
		return "(the SQLite file in the data folder)"
	}
	return store.Redact(u)
}

// GlobalSpend reports the proxy-wide budget: spend in its window, the cap (nil = none) and when
// the window ends (nil = never).
func (l *Ledger) GlobalSpend() (spend float64, limit *float64, resetAt *time.Time) {
	spend, _, resetAt = l.bl.Spend(GlobalBudget)
	return spend, l.settings().MaxBudget, resetAt
}

func (l *Ledger) globalDuration() *budget.Duration { return l.settings().BudgetDuration }

// load fills memory from disk: every key, team and user, and the proxy-wide budget.
func (l *Ledger) load(ctx context.Context) error {
	if err := l.loadOwners(ctx); err != nil {
		return err
	}
	keys, _, err := l.st.ListKeys(ctx, store.ListKeysOpts{})
	if err != nil {
		return fmt.Errorf("ledger: load keys: %w", err)
	}
	for _, k := range keys {
		if _, err := l.adopt(ctx, k); err != nil {
			return err
		}
	}
	return l.loadGlobal(ctx)
}

// adopt puts a stored key in memory with its budget: spend is recomputed from the logs of its
// current window, and a window that ended while Clawgate was not running rolls over now.
func (l *Ledger) adopt(ctx context.Context, k store.Key) (*entry, error) {
	l.mu.Lock()
	if e := l.keys[k.Token]; e != nil {
		l.mu.Unlock()
		return e, nil
	}
	e := &entry{k: k}
	l.keys[k.Token] = e
	l.mu.Unlock()

	d, err := budget.ParseOptionalDuration(k.BudgetDuration)
	if err != nil {
		l.log.Warn("ledger: a key's budget_duration is unreadable; it is treated as never resetting", "key", k.KeyName, "err", err)
	}
	resetAt := k.BudgetResetAt
	armed := false
	if d != nil && resetAt == nil {
		r := budget.NextReset(*d, l.now(), l.loc)
		resetAt, armed = &r, true
	}
	var since time.Time
	if k.SpendSince != nil {
		since = *k.SpendSince
	}
	if d != nil {
		if ws := budget.WindowStart(*d, *resetAt, l.loc); ws.After(since) {
			since = ws
		}
	}
	spend, err := l.st.KeySpendSince(ctx, k.Token, since)
	if err != nil {
		l.mu.Lock()
		delete(l.keys, k.Token)
		l.mu.Unlock()
		return nil, fmt.Errorf("ledger: load key %s: %w", k.KeyName, err)
	}
	// The key's spend column is written in the same transaction as its logs, so it agrees with
	// them, plus any starting spend (/key/generate "spend") or spend set by an admin.
	spend = max(spend, k.Spend)
	l.bl.SetBudget(k.Token, k.MaxBudget, spend, resetAt, d)
	if armed {
		l.mu.Lock()
		e.k.BudgetResetAt = resetAt
		kk := e.k
		l.mu.Unlock()
		if err := l.st.UpdateKey(ctx, kk); err != nil {
			l.log.Warn("ledger: could not store a key's budget_reset_at", "key", k.KeyName, "err", err)
		}
	}
	l.markCrossed(k.Token, d)
	return e, nil
}

// markCrossed tells the alerter what the current window already crossed (before a restart), so
// a restart does not repeat those alerts. It also rolls a window that ended while stopped.
func (l *Ledger) markCrossed(id string, d *budget.Duration) {
	if l.shared != nil {
		return // the database remembers what fired (shared_alerts.go)
	}
	spend, _, resetAt := l.bl.Spend(id)
	var window time.Time
	if d != nil && resetAt != nil {
		window = budget.WindowStart(*d, *resetAt, l.loc)
	}
	info, ok := l.budgetInfo(id)
	if !ok {
		return
	}
	limit := 0.0
	if info.limit != nil {
		limit = *info.limit
	}
	l.alert.Observe(id, window, 0, spend, budget.Thresholds{Limit: limit, Soft: info.soft, Levels: l.settings().AlertLevels})
}

// globalState is the proxy-wide budget's window, kept in the settings table so that a rolling
// window (30m, 36h) and a duration change survive a restart.
type globalState struct {
	Duration string     `json:"duration"`
	ResetAt  *time.Time `json:"reset_at"`
	Since    time.Time  `json:"since"`
}

const globalSetting = "ledger.global_budget"

func (l *Ledger) loadGlobal(ctx context.Context) error {
	s := l.settings()
	d := s.BudgetDuration
	now := l.now()
	var gs globalState
	raw, ok, err := l.st.GetSetting(ctx, globalSetting)
	if err != nil {
		return fmt.Errorf("ledger: load proxy budget: %w", err)
	}
	if ok {
		if err := json.Unmarshal([]byte(raw), &gs); err != nil {
			l.log.Warn("ledger: stored proxy budget window unreadable; starting a new one", "err", err)
			ok = false
		}
	}
	var resetAt *time.Time
	var since time.Time
	switch {
	case ok && gs.Duration == durString(d):
		resetAt, since = gs.ResetAt, gs.Since
	case ok:
		since = now // the duration changed while stopped: a new window, without the old spend
	}
	if d != nil && resetAt == nil {
		r := budget.NextReset(*d, now, l.loc)
		resetAt = &r
	}
	from := since
	if d != nil {
		if ws := budget.WindowStart(*d, *resetAt, l.loc); ws.After(from) {
			from = ws
		}
	}
	spend, err := l.st.TotalSpend(ctx, from)
	if err != nil {
		return fmt.Errorf("ledger: load proxy budget: %w", err)
	}
	l.bl.SetBudget(GlobalBudget, s.MaxBudget, spend, resetAt, d)
	l.saveGlobal(ctx, d, resetAt, since)
	l.markCrossed(GlobalBudget, d)
	return nil
}

func (l *Ledger) saveGlobal(ctx context.Context, d *budget.Duration, resetAt *time.Time, since time.Time) {
	b, _ := json.Marshal(globalState{Duration: durString(d), ResetAt: resetAt, Since: since})
	if err := l.st.SetSetting(ctx, globalSetting, string(b)); err != nil {
		l.log.Warn("ledger: could not store the proxy budget window", "err", err)
	}
}

func durString(d *budget.Duration) string {
	if d == nil {
		return ""
	}
	return d.String()
}

func sameDuration(a, b *budget.Duration) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// maintain prunes old logs daily and forgets CallIDs that Record never came for.
func (l *Ledger) maintain() {
	defer close(l.maintDone)
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	last := time.Now()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
		}
		cut := time.Now().Add(-time.Minute)
		l.written.Range(func(k, v any) bool {
			if v.(time.Time).Before(cut) {
				l.written.Delete(k)
			}
			return true
		})
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		l.pruneKeyChanges(ctx)
		cancel()
		if time.Since(last) >= 24*time.Hour {
			last = time.Now()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			l.prune(ctx)
			cancel()
		}
	}
}

// prune deletes logs older than the retention period.
func (l *Ledger) prune(ctx context.Context) {
	cut, ok := l.settings().retentionCutoff(l.now())
	if !ok {
		return
	}
	n, err := l.st.PruneSpendLogs(ctx, cut)
	if err != nil {
		l.log.Warn("ledger: pruning old spend logs failed", "err", err)
		return
	}
	if n > 0 {
		l.log.Info("ledger: pruned old spend logs", "rows", n, "before", cut.UTC().Format(time.RFC3339))
	}
}

func keyNameOf(l *Ledger, token string) string {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if e := l.keys[token]; e != nil {
		return e.k.KeyName
	}
	return ""
}
