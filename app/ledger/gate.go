package ledger

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/clawgate/clawgate/app/budget"
	"github.com/clawgate/clawgate/app/store"
	"github.com/clawgate/clawgate/proxy"
)

// Authenticate implements proxy.KeySource: it finds a virtual key by its hash (in memory, kept in
// step with what other processes write, keysync.go; SQLite for a key this process has not seen)
// and refuses blocked and expired keys with a 401.
// Errors never carry the key or its hash.
func (l *Ledger) Authenticate(ctx context.Context, key string) (*proxy.Principal, error) {
	if !strings.HasPrefix(key, "sk-") {
		return nil, proxy.ErrInvalidKey // LiteLLM's virtual keys all start with sk-
	}
	e, err := l.entryFor(ctx, proxy.HashKey(key))
	if errors.Is(err, store.ErrNotFound) {
		return nil, proxy.ErrInvalidKey
	}
	if err != nil {
		return nil, fmt.Errorf("ledger: look up key: %w", err)
	}
	l.mu.RLock()
	k := e.k
	l.mu.RUnlock()
	if err := l.usable(k); err != nil {
		l.refuseKey(k, err)
		return nil, err
	}
	spend, _, _ := l.bl.Spend(k.Token)
	return &proxy.Principal{KeyHash: k.Token, KeyAlias: k.KeyAlias, Models: l.keyModels(k), Aliases: k.Aliases,
		Spend: spend, MaxBudget: k.MaxBudget}, nil
}

// PingDB implements proxy.Database: the keys' database answers and takes the spend logs.
func (l *Ledger) PingDB(ctx context.Context) error {
	if err := l.w.Err(); err != nil {
		return err
	}
	return l.st.Ping(ctx)
}

// StoreErr is why usage cannot be recorded now (nil while it can), for the tray's status.
func (l *Ledger) StoreErr() error { return l.w.Err() }

// usable refuses a blocked or expired key.
func (l *Ledger) usable(k store.Key) error {
	if k.Blocked {
		return &authError{"Authentication Error - Key is blocked. Update via /key/unblock if you're admin."}
	}
	if now := l.now(); k.Expires != nil && !now.Before(*k.Expires) {
		return &authError{fmt.Sprintf("Authentication Error - Expired Key. Key Expiry time %s and current time %s",
			k.Expires.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))}
	}
	return l.teamUsable(k)
}

// refuseKey logs a blocked or expired key's refusal. The body is not read before a key is
// checked, so the row names no model.
func (l *Ledger) refuseKey(k store.Key, err error) {
	now := l.now()
	kind := "key_blocked"
	var tb *teamBlockedError
	switch {
	case errors.As(err, &tb):
		kind = "team_blocked"
	case !k.Blocked:
		kind = "key_expired"
	}
	l.refused.add(store.SpendLog{
		RequestID: newID(), CallType: "acompletion", APIKey: k.Token, KeyAlias: k.KeyAlias, User: k.UserID, TeamID: k.TeamID,
		StartTime: now, EndTime: now, Status: store.StatusFailure, Error: err.Error(),
		Metadata: map[string]any{"status_code": http.StatusUnauthorized, "refusal": kind},
	})
}

// entryFor returns the key with token h, loading it from the store if this process has not seen
// it (a key written by another process), after applying what other processes changed (keysync.go).
// The error wraps store.ErrNotFound for unknown keys.
func (l *Ledger) entryFor(ctx context.Context, h string) (*entry, error) {
	l.syncKeys(ctx)
	l.syncOwners(ctx) // the key's team and user too
	l.mu.RLock()
	e := l.keys[h]
	l.mu.RUnlock()
	if e != nil {
		return e, nil
	}
	k, err := l.st.GetKey(ctx, h)
	if err != nil {
		return nil, err
	}
	return l.adopt(ctx, k)
}

// authError is a 401 for a key the ledger knows but refuses.
type authError struct{ msg string }

func (e *authError) Error() string { return e.msg }

func (e *authError) HTTPStatus() (int, string, time.Duration, map[string]any) {
	return http.StatusUnauthorized, "auth_error", 0, nil
}

// Admit implements proxy.Gate: it takes the key's rate-limit slot, then reserves the request's
// expected cost on the key's budget and the proxy-wide one, which applies to every request, the
// master key's included. The master key has no key budget or limits. A budget refuses only
// when its spend plus what requests in flight hold has reached its limit.
func (l *Ledger) Admit(ctx context.Context, p *proxy.Principal, model string, expectedCost float64, estTokens int64) (proxy.Admission, error) {
	if err := l.unrecordable(); err != nil {
		return nil, err
	}
	a := &admission{l: l}
	ids := []string{GlobalBudget}
	if p != nil && !p.Master && p.KeyHash != "" {
		l.mu.RLock()
		e := l.keys[p.KeyHash]
		var k store.Key
		if e != nil {
			k = e.k
		}
		l.mu.RUnlock()
		if e == nil {
			return nil, &authError{"Authentication Error, Invalid proxy server token passed. Check the key and try again."}
		}
		if err := l.usable(k); err != nil {
			return nil, err
		}
		release, retry, err := l.acquire(k, estTokens)
		if err != nil {
			return nil, rateError(k, err, retry)
		}
		owners, releaseOwners, err := l.admitOwners(k, model, estTokens)
		if err != nil {
			release(0)
			return nil, err
		}
		member, err := l.memberIDs(ctx, k) // the user's budget in the team (members.go)
		if err != nil {
			release(0)
			releaseOwners(0)
			return nil, err
		}
		owners = append(owners, member...)
		a.e, a.release = e, func(n int64) { release(n); releaseOwners(n) }
		// The key first: its refusal is the one reported; then its team's and user's.
		ids = append(append([]string{k.Token}, owners...), GlobalBudget)
	}
	if l.shared != nil {
		return l.shared.admit(ctx, a, ids, expectedCost, estTokens)
	}
	res, err := l.bl.Reserve(ids, expectedCost)
	if err != nil {
		if a.release != nil {
			a.release(0)
		}
		return nil, l.budgetError(err)
	}
	a.res = res
	return a, nil
}

// unrecordable refuses every request, the master key's included, once spend logs cannot be
// written and no more rows can be kept (in memory or in the spill file). A budgeted request served
// now would spend unmetered; an unbudgeted one would have to hold its handler until the store
// takes its row, or lose the row: refusing says so instead, and no spend goes unrecorded.
func (l *Ledger) unrecordable() error {
	err := l.w.Err()
	if !errors.Is(err, store.ErrSpendLogFull) {
		return nil
	}
	return &storeFull{"Spend log cannot be written (" + err.Error() + "): requests are refused until it can. Free disk space in the data folder."}
}

// storeFull is the 503 for budgeted traffic while usage cannot be recorded.
type storeFull struct{ msg string }

func (e *storeFull) Error() string { return e.msg }

func (e *storeFull) HTTPStatus() (int, string, time.Duration, map[string]any) {
	return http.StatusServiceUnavailable, "spend_log_unavailable", 30 * time.Second, nil
}

// admission is one admitted request.
type admission struct {
	l       *Ledger
	e       *entry // nil for the master key
	res     *budget.Reservation
	release func(actualTokens int64)
	done    atomic.Bool
	sh      *sharedHold // shared mode: the request's holds in the database, in place of res and release
}

// Reprice moves the reservation to the expected cost on the deployment being called.
func (a *admission) Reprice(expectedCost float64) {
	if a.sh != nil {
		a.sh.reprice(expectedCost)
		return
	}
	a.res.Adjust(expectedCost)
}

// Done settles the reservation with the request's real cost (a request with no usage releases
// it), frees its rate-limit slot with the tokens it used, and queues its spend log row.
func (a *admission) Done(u *proxy.Usage) {
	if !a.done.CompareAndSwap(false, true) {
		return
	}
	if a.sh != nil {
		a.sh.done(a, u)
		return
	}
	if u == nil {
		a.res.Release()
		if a.release != nil {
			a.release(0)
		}
		return
	}
	if cost := costOf(u); cost > 0 {
		a.res.Settle(cost)
	} else {
		a.res.Release()
	}
	if a.release != nil {
		a.release(int64(u.PromptTokens + u.CompletionTokens))
	}
	a.l.written.Store(u.CallID, time.Now())
	a.l.write(u, a.e)
}

// Record implements proxy.UsageSink. Rows of admitted requests were written by Done; a request
// that never met the gate has its spend added to its budgets (unreserved) and its row written.
func (l *Ledger) Record(u proxy.Usage) {
	if _, ok := l.written.LoadAndDelete(u.CallID); ok {
		return
	}
	ids := []string{GlobalBudget}
	var e *entry
	if p := u.Principal; p != nil && !p.Master && p.KeyHash != "" {
		l.mu.RLock()
		e = l.keys[p.KeyHash]
		l.mu.RUnlock()
		ids = append(ids, p.KeyHash)
		if e != nil {
			ids = append(ids, l.ownerBudgets(l.snapshot(e))...)
		}
	}
	if l.shared != nil {
		l.shared.record(ids, &u, e)
		return
	}
	l.bl.Record(ids, costOf(&u))
	l.write(&u, e)
}

func costOf(u *proxy.Usage) float64 {
	if !u.UsageKnown || !(u.Cost > 0) || math.IsInf(u.Cost, 0) {
		return 0
	}
	return u.Cost
}

// write queues the request's spend log row. e, when set, names the key (under its current token,
// which a regenerate may have changed since the request began). Refusals fold into one row per
// key and kind within a few seconds.
func (l *Ledger) write(u *proxy.Usage, e *entry) { l.queue(l.row(u, e), u) }

// queue hands u's row to the writer, or to the refusal counter.
func (l *Ledger) queue(row store.SpendLog, u *proxy.Usage) {
	if u.Refusal != "" {
		row.Metadata["refusal"] = u.Refusal
		l.refused.add(row)
		return
	}
	l.w.Add(row)
}

// row is the spend log row of a request.
func (l *Ledger) row(u *proxy.Usage, e *entry) store.SpendLog {
	row := store.SpendLog{
		RequestID: u.CallID, ResponseID: u.ResponseID, CallType: u.CallType, Spend: costOf(u), Unpriced: u.UsageKnown && !u.Priced,
		PromptTokens: int64(u.PromptTokens), CompletionTokens: int64(u.CompletionTokens),
		TotalTokens:     int64(u.PromptTokens + u.CompletionTokens),
		CacheReadTokens: int64(u.CachedTokens), CacheWriteTokens: int64(u.CacheCreationTokens),
		ReasoningTokens: int64(u.ReasoningTokens),
		StartTime:       u.Start, EndTime: u.End,
		Model: u.Model, ModelGroup: u.ModelGroup, ModelID: u.ModelID, Provider: u.Provider, APIBase: u.APIBase,
		EndUser: u.User, Status: store.StatusSuccess, Error: u.Error, Fallbacks: u.Fallbacks, Retries: u.Retries,
		Metadata: map[string]any{"call_id": u.CallID, "status_code": u.Status, "stream": u.Stream},
	}
	if tags := u.RequestTags(); len(tags) > 0 {
		row.Metadata["tags"] = tags
	}
	if u.Mock {
		row.Metadata["mock_response"] = true // answered by the gateway; no upstream was called
	}
	if u.Error != "" || u.Status >= 400 {
		row.Status = store.StatusFailure
	}
	switch {
	case !u.FirstToken.IsZero():
		t := u.FirstToken
		row.CompletionStartTime = &t
	case row.Status == store.StatusSuccess && !u.End.IsZero():
		t := u.End // a non-streamed answer arrives all at once, as LiteLLM logs it
		row.CompletionStartTime = &t
	}
	if e != nil {
		l.mu.RLock()
		row.APIKey, row.KeyAlias, row.User, row.TeamID = e.k.Token, e.k.KeyAlias, e.k.UserID, e.k.TeamID
		l.mu.RUnlock()
	} else if p := u.Principal; p != nil {
		row.APIKey, row.KeyAlias = p.KeyHash, p.KeyAlias
	}
	if l.settings().StorePrompts {
		row.Messages, row.Response = redact(u.RequestBody), redact(u.ResponseBody)
	}
	return row
}

// budgetExceeded is the 429 for a budget with no room. Its message says in words that a usage
// limit was reached, for which window and until when: OpenClaw reads "usage limit" (and
// "daily", "monthly") as a long wait and stops retrying, where a bare 429 costs nine retries.
// LiteLLM's fields stay in the details.
type budgetExceeded struct {
	msg     string
	retry   time.Duration
	details map[string]any
}

func (e *budgetExceeded) Error() string { return e.msg }

func (e *budgetExceeded) HTTPStatus() (int, string, time.Duration, map[string]any) {
	return http.StatusTooManyRequests, "budget_exceeded", e.retry, e.details
}

// ShouldRetry is false: no retry can pass before the window resets (x-should-retry: false).
func (e *budgetExceeded) ShouldRetry() bool { return false }

func (l *Ledger) budgetError(err error) error {
	var ex *budget.ExceededError
	if !errors.As(err, &ex) {
		return err
	}
	now := l.now()
	d := map[string]any{"limit": ex.Limit, "spend": ex.Spend, "reserved": ex.Reserved, "requested": ex.Amount, "resets_at": nil,
		"budget_duration": nil}
	if ex.ResetAt != nil {
		d["resets_at"] = ex.ResetAt.UTC().Format(time.RFC3339)
	}
	if ex.Duration != nil {
		d["budget_duration"] = ex.Duration.String()
	}
	who, what, wording := "The proxy", "the proxy-wide ", ""
	switch o, isOwner := l.budgetOwner(ex.ID); {
	case ex.ID == GlobalBudget:
		d["budget"] = "global"
	case isOwner:
		o.details(d)
		who, what, wording = o.who(), "the ", o.litellmWording(ex.Spend, ex.Limit)
	default:
		d["budget"] = "key"
		what = "the "
		l.mu.RLock()
		if e := l.keys[ex.ID]; e != nil {
			d["key_alias"], d["key_name"] = nilIfEmpty(e.k.KeyAlias), e.k.KeyName
			who = e.k.KeyAlias
			if who == "" {
				who = "Key " + e.k.KeyName
			}
		}
		l.mu.RUnlock()
	}
	if ex.Duration != nil {
		what += windowName(*ex.Duration) + " "
	}
	msg := fmt.Sprintf("%s reached its usage limit: %sbudget of %s is spent", who, what, usd(ex.Limit))
	if ex.Spend < ex.Limit {
		msg = fmt.Sprintf("%s reached its usage limit: %sbudget of %s is used up (%s spent, %s held by requests in flight)",
			who, what, usd(ex.Limit), usd(ex.Spend), usd(ex.Reserved))
	}
	var retry time.Duration
	if ex.ResetAt != nil {
		msg += "; it resets " + l.when(*ex.ResetAt, now)
		retry = ex.ResetAt.Sub(now)
	} else if ex.ID == GlobalBudget {
		msg += "; raise litellm_settings.max_budget to continue"
	} else {
		msg += "; raise its max_budget to continue"
	}
	if wording != "" {
		msg += " (" + wording + ")"
	}
	l.exhausted(ex, msg)
	return &budgetExceeded{msg: msg, retry: retry, details: d}
}

// windowName is a budget window as a word: daily, weekly, monthly, hourly, or "30-day".
func windowName(d budget.Duration) string {
	if d.N == 1 {
		switch d.Unit {
		case budget.Day:
			return "daily"
		case budget.Week:
			return "weekly"
		case budget.Month:
			return "monthly"
		case budget.Hour:
			return "hourly"
		}
	}
	unit := map[budget.Unit]string{budget.Second: "second", budget.Minute: "minute", budget.Hour: "hour",
		budget.Day: "day", budget.Week: "week", budget.Month: "month"}[d.Unit]
	return strconv.Itoa(d.N) + "-" + unit
}

// when says a reset time briefly in the ledger's time zone: "at 00:00 UTC" within a day, else
// with its date.
func (l *Ledger) when(t, now time.Time) string {
	t = t.In(l.loc)
	switch {
	case t.Sub(now) < 24*time.Hour:
		return "at " + t.Format("15:04 MST")
	case t.Year() == now.In(l.loc).Year():
		return "on " + t.Format("Jan 2 at 15:04 MST")
	}
	return "on " + t.Format("Jan 2 2006 at 15:04 MST")
}

// rateLimited is the 429 for rpm_limit, tpm_limit and max_parallel_requests.
type rateLimited struct {
	msg     string
	retry   time.Duration
	details map[string]any
}

func (e *rateLimited) Error() string { return e.msg }

func (e *rateLimited) HTTPStatus() (int, string, time.Duration, map[string]any) {
	return http.StatusTooManyRequests, "rate_limit_error", e.retry, e.details
}

func rateError(k store.Key, err error, retry time.Duration) error {
	who := k.KeyName
	if k.KeyAlias != "" {
		who = k.KeyAlias + " (" + k.KeyName + ")"
	}
	return limitError("key "+who, err, retry)
}

// limitError is the 429 for a limit of who ("key x", "team t", "user u").
func limitError(who string, err error, retry time.Duration) error {
	var re *budget.RateLimitError
	if !errors.As(err, &re) {
		return err
	}
	var what string
	switch re.Limit {
	case budget.LimitRPM:
		what = fmt.Sprintf("rpm_limit is %d requests a minute and %d were made in the last minute", re.Max, re.Current)
	case budget.LimitTPM:
		what = fmt.Sprintf("tpm_limit is %d tokens a minute and %d were used in the last minute", re.Max, re.Current)
	default:
		what = fmt.Sprintf("max_parallel_requests is %d and %d are in flight", re.Max, re.Current)
	}
	secs := int64(math.Ceil(retry.Seconds()))
	return &rateLimited{
		msg:     fmt.Sprintf("Rate limit exceeded for %s: %s. Retry after %ds.", who, what, secs),
		retry:   retry,
		details: map[string]any{"limit": re.Limit, "max": re.Max, "current": re.Current, "retry_after_seconds": secs},
	}
}

// trimFloat prints a float briefly, without float noise.
func trimFloat(f float64) string {
	return strconv.FormatFloat(f, 'g', 6, 64)
}
