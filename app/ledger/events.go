package ledger

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/clawgate/clawgate/app/budget"
)

// EventKind names what an Event reports.
type EventKind int

const (
	// EventSpend: a budget's spend changed (after every request that cost something).
	EventSpend EventKind = iota + 1
	// EventThreshold: spend reached one of the alert levels of max_budget (Level; 1 = the cap).
	// Each level fires once per budget window.
	EventThreshold
	// EventSoftBudget: spend reached the soft_budget (once per budget window).
	EventSoftBudget
	// EventReset: a budget started a new window; Spend is what the ended window spent.
	EventReset
	// EventExhausted: a budget refused a request for the first time in its window (Level 1).
	// Spend may still be below Limit when requests in flight hold the rest. It follows the
	// 100% EventThreshold, which this refusal fires if spend had not reached the limit yet.
	EventExhausted
)

func (k EventKind) String() string {
	switch k {
	case EventSpend:
		return "spend"
	case EventThreshold:
		return "threshold"
	case EventSoftBudget:
		return "soft_budget"
	case EventReset:
		return "reset"
	case EventExhausted:
		return "exhausted"
	}
	return "unknown"
}

// GlobalBudget is Event.Budget for the proxy-wide budget.
const GlobalBudget = "global"

// Event tells the app (and so the tray) what happened to a budget.
type Event struct {
	Kind EventKind
	// Budget is GlobalBudget, the key's hash (its token, as /key/info shows it), or
	// "team:<team_id>" / "user:<user_id>" for a team's or an internal user's budget.
	Budget string
	// Alias names the key for people: its key_alias, else its key_name (sk-...XXXX); a team's or
	// user's alias, else its id; "" for global.
	Alias string
	// Level is the fraction of max_budget reached (EventThreshold; soft_budget/max_budget for
	// EventSoftBudget, 0 without a max_budget).
	Level float64
	// Spend is the window's spend in USD; Limit is max_budget (0 when there is none).
	Spend, Limit float64
	// ResetAt is when the window ends (zero when the budget never resets).
	ResetAt time.Time
	// Message is a sentence for a notification.
	Message string
}

// onSpend hears every spend change from the budget ledger: it emits EventSpend and, once per
// threshold per window, the threshold events and webhook alerts.
func (l *Ledger) onSpend(e budget.SpendEvent) {
	info, ok := l.budgetInfo(e.ID)
	if !ok {
		return // a key deleted or regenerated while its request was in flight
	}
	limit := 0.0
	if e.Limit != nil {
		limit = *e.Limit
	}
	var resetAt time.Time
	if e.ResetAt != nil {
		resetAt = *e.ResetAt
	}
	l.emit(Event{Kind: EventSpend, Budget: e.ID, Alias: info.alias, Spend: e.Spend, Limit: limit, ResetAt: resetAt,
		Message: fmt.Sprintf("%s has spent %s%s", info.who, usd(e.Spend), ofLimit(limit))})
	th := budget.Thresholds{Limit: limit, Soft: info.soft, Levels: l.settings().AlertLevels}
	for _, c := range l.alert.Observe(e.ID, e.WindowStart, e.Prev, e.Spend, th) {
		ev := Event{Kind: EventThreshold, Budget: e.ID, Alias: info.alias, Level: c.Level, Spend: e.Spend, Limit: limit, ResetAt: resetAt}
		hook := newHook(e.ID, info, e.Spend, e.Limit)
		when := ""
		if !resetAt.IsZero() {
			when = "; it resets " + resetAt.In(l.loc).Format("2006-01-02 15:04 MST")
		}
		switch {
		case c.Kind == budget.KindSoftBudget:
			ev.Kind = EventSoftBudget
			ev.Message = fmt.Sprintf("%s reached its soft budget: %s spent, soft budget %s%s", info.who, usd(e.Spend), usd(c.Amount), when)
			hook.Event = "soft_budget_crossed"
		case c.Level >= 1:
			ev.Message = fmt.Sprintf("%s reached its max budget: %s spent of %s; requests are refused until it resets%s", info.who, usd(e.Spend), usd(limit), when)
			hook.Event = "budget_crossed"
		default:
			ev.Message = fmt.Sprintf("%s reached %s of its max budget: %s spent of %s%s", info.who, percent(c.Level), usd(e.Spend), usd(limit), when)
			hook.Event = "threshold_crossed"
		}
		hook.EventMessage = ev.Message
		l.emit(ev)
		l.hooks.send(hook)
	}
}

// newHook is a webhook alert about budget id, without its event.
func newHook(id string, info budgetView, spend float64, limit *float64) webhookEvent {
	hook := webhookEvent{Spend: spend, MaxBudget: copyFloat(limit), SoftBudget: info.soft, KeyAlias: nilIfEmpty(info.keyAlias),
		UserID: nilIfEmpty(info.userID), EventGroup: "key"}
	switch o := info.owner; {
	case o != nil && o.kind == "team":
		hook.EventGroup, hook.TeamID, hook.TeamAlias = "team", &o.id, nilIfEmpty(o.alias)
	case o != nil && o.kind == "member":
		hook.EventGroup, hook.UserID, hook.TeamID = "internal_user", &o.id, &o.team
	case o != nil:
		hook.EventGroup, hook.UserID = "internal_user", &o.id
	case id != GlobalBudget:
		hook.Token = &id
	default:
		hook.EventGroup = "proxy"
	}
	return hook
}

// exhausted hears a budget refuse a request. The first refusal in a window raises the 100%
// alert (EventThreshold, webhook budget_crossed) unless spend reaching the limit already did,
// then EventExhausted: refusal can start below 100%, while requests in flight hold the rest,
// and the alert must not wait for them.
func (l *Ledger) exhausted(ex *budget.ExceededError, msg string) {
	if !l.alert.Fire(ex.ID, ex.WindowStart, budget.Exhausted) {
		return
	}
	info, ok := l.budgetInfo(ex.ID)
	if !ok {
		return
	}
	ev := Event{Kind: EventThreshold, Budget: ex.ID, Alias: info.alias, Level: 1, Spend: ex.Spend, Limit: ex.Limit, Message: msg}
	if ex.ResetAt != nil {
		ev.ResetAt = *ex.ResetAt
	}
	if l.alert.Fire(ex.ID, ex.WindowStart, budget.Full) {
		hook := newHook(ex.ID, info, ex.Spend, &ex.Limit)
		hook.Event, hook.EventMessage = "budget_crossed", msg
		l.emit(ev)
		l.hooks.send(hook)
	}
	ev.Kind = EventExhausted
	l.emit(ev)
}

// onReset hears a budget start a new window: it persists the window and emits EventReset. It runs
// on the goroutine that touched the budget (a request, an admin call), after the budget
// ledger's lock is released; it must never be reached with l.mu held.
func (l *Ledger) onReset(e budget.ResetEvent) {
	if l.shared != nil {
		l.shared.onReset(e) // the database keeps shared windows (shared.go)
		return
	}
	since := e.WindowStart
	if since.IsZero() {
		// A window without a duration (the duration was removed): count from now, so old spend
		// does not come back at the next start.
		since = l.now()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if e.ID == GlobalBudget {
		l.saveGlobal(ctx, l.globalDuration(), e.ResetAt, since)
	} else if !l.resetOwner(ctx, e, since) && !l.resetMember(ctx, e, since) {
		stored, err := l.st.ResetKeySpend(ctx, e.ID, since, e.ResetAt)
		if err != nil {
			l.log.Warn("ledger: could not store a budget reset; it is redone at the next start", "key", keyNameOf(l, e.ID), "err", err)
		}
		l.keepReset(e.ID, stored, since, e.ResetAt)
	}
	l.announceReset(e)
}

// keepReset keeps a key's new window in memory as the store holds it: k.Spend is the stored
// spend, so that a re-read (keysync.go) sees no new spend in it.
func (l *Ledger) keepReset(id string, stored float64, since time.Time, resetAt *time.Time) {
	l.mu.Lock()
	if ent := l.keys[id]; ent != nil {
		ent.k.Spend, ent.k.SpendSince, ent.k.BudgetResetAt = stored, &since, copyTime(resetAt)
	}
	l.mu.Unlock()
}

// announceReset emits EventReset.
func (l *Ledger) announceReset(e budget.ResetEvent) {
	info, ok := l.budgetInfo(e.ID)
	if !ok {
		return
	}
	ev := Event{Kind: EventReset, Budget: e.ID, Alias: info.alias, Spend: e.EndedSpend}
	if e.ResetAt != nil {
		ev.ResetAt = *e.ResetAt
	}
	if lim := info.limit; lim != nil {
		ev.Limit = *lim
	}
	ev.Message = fmt.Sprintf("%s started a new budget window (the last one spent %s)", info.who, usd(e.EndedSpend))
	l.emit(ev)
}

func (l *Ledger) emit(e Event) {
	if l.onEvent != nil {
		l.onEvent(e)
	}
}

// budgetView is what events need to know about a budget.
type budgetView struct {
	who      string // "Key openclaw", "The proxy"
	alias    string // Event.Alias
	keyAlias string
	userID   string
	soft     *float64
	limit    *float64
	owner    *ownerView // a team's or user's budget
}

func (l *Ledger) budgetInfo(id string) (budgetView, bool) {
	if id == GlobalBudget {
		s := l.settings()
		return budgetView{who: "The proxy", soft: s.SoftBudget, limit: s.MaxBudget}, true
	}
	if o, ok := l.budgetOwner(id); ok {
		return budgetView{who: o.who(), alias: o.name(), soft: o.soft, limit: o.limit, owner: &o}, true
	}
	l.mu.RLock()
	e := l.keys[id]
	var k keySnapshot
	if e != nil {
		k = keySnapshot{alias: e.k.KeyAlias, name: e.k.KeyName, user: e.k.UserID, soft: e.k.SoftBudget, limit: e.k.MaxBudget}
	}
	l.mu.RUnlock()
	if e == nil {
		return budgetView{}, false
	}
	alias := k.alias
	if alias == "" {
		alias = k.name
	}
	return budgetView{who: "Key " + alias, alias: alias, keyAlias: k.alias, userID: k.user, soft: k.soft, limit: k.limit}, true
}

type keySnapshot struct {
	alias, name, user string
	soft, limit       *float64
}

// webhookEvent is LiteLLM's WebhookEvent (CallInfo plus event, event_group, event_message).
type webhookEvent struct {
	Spend                 float64  `json:"spend"`
	MaxBudget             *float64 `json:"max_budget"`
	SoftBudget            *float64 `json:"soft_budget"`
	Token                 *string  `json:"token"`
	CustomerID            *string  `json:"customer_id"`
	UserID                *string  `json:"user_id"`
	TeamID                *string  `json:"team_id"`
	TeamAlias             *string  `json:"team_alias"`
	UserEmail             *string  `json:"user_email"`
	KeyAlias              *string  `json:"key_alias"`
	ProjectedExceededDate *string  `json:"projected_exceeded_date"`
	ProjectedSpend        *float64 `json:"projected_spend"`
	Event                 string   `json:"event"`
	EventGroup            string   `json:"event_group"`
	EventMessage          string   `json:"event_message"`
}

// webhooks posts alerts from one goroutine, so a slow receiver never holds up a request; when
// its queue is full, alerts are dropped (and logged) rather than block.
type webhooks struct {
	log     *slog.Logger
	client  *http.Client
	url     func() string
	ch      chan webhookEvent
	closing chan struct{}
	ctx     context.Context // bounds posts; cancelled when Close's ctx ends
	cancel  context.CancelFunc
	done    chan struct{}
	once    sync.Once
}

// webhookTimeout bounds one POST.
const webhookTimeout = 10 * time.Second

func newWebhooks(log *slog.Logger, client *http.Client, url func() string) *webhooks {
	if client == nil {
		client = &http.Client{Timeout: webhookTimeout}
	}
	ctx, cancel := context.WithCancel(context.Background())
	h := &webhooks{log: log, client: client, url: url, ch: make(chan webhookEvent, 64), closing: make(chan struct{}),
		ctx: ctx, cancel: cancel, done: make(chan struct{})}
	go h.run()
	return h
}

func (h *webhooks) send(e webhookEvent) {
	if h.url() == "" {
		return
	}
	select {
	case <-h.closing:
	case h.ch <- e:
	default:
		h.log.Warn("ledger: webhook alert dropped: the receiver is not keeping up", "event", e.Event)
	}
}

func (h *webhooks) run() {
	defer close(h.done)
	for {
		select {
		case e := <-h.ch:
			h.post(e)
		case <-h.closing:
			for {
				select {
				case e := <-h.ch:
					h.post(e)
				default:
					return
				}
			}
		}
	}
}

func (h *webhooks) post(e webhookEvent) {
	url := h.url()
	if url == "" {
		return
	}
	body, _ := json.Marshal(e)
	ctx, cancel := context.WithTimeout(h.ctx, webhookTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		h.log.Warn("ledger: webhook alert not sent", "err", err)
		return
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := h.client.Do(req)
	if err != nil {
		h.log.Warn("ledger: webhook alert not sent", "event", e.Event, "err", err)
		return
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		h.log.Warn("ledger: webhook receiver refused an alert", "event", e.Event, "status", resp.StatusCode)
	}
}

// close sends what is queued, giving up when ctx ends, and stops the goroutine.
func (h *webhooks) close(ctx context.Context) {
	h.once.Do(func() {
		close(h.closing)
		stop := context.AfterFunc(ctx, h.cancel)
		<-h.done
		stop()
		h.cancel()
	})
	<-h.done
}

func usd(f float64) string {
	switch {
	case f == 0:
		return "$0"
	case f < 0.01:
		return "$" + trimFloat(f)
	}
	return fmt.Sprintf("$%.2f", f)
}

func ofLimit(limit float64) string {
	if limit <= 0 {
		return ""
	}
	return " of " + usd(limit)
}

func percent(level float64) string {
	return trimFloat(level*100) + "%"
}

func nilIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func copyFloat(f *float64) *float64 {
	if f == nil {
		return nil
	}
	v := *f
	return &v
}

func copyTime(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := *t
	return &v
}
