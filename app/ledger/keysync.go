package ledger

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/clawgate/clawgate/app/budget"
	"github.com/clawgate/clawgate/app/store"
)

// The store is the truth about keys; memory is a cache of it. Any process (the CLI, the tray,
// another serve on the same data folder) may write a key, and the store's triggers append every
// written token to key_changes. Before a key is looked up, the ledger reads the changes past the
// last one it applied and re-reads only the keys other processes changed (its own writes, spend
// logs included, are in memory already), at most once per keySyncInterval: between checks, a
// lookup costs a clock read and an atomic load. A change made elsewhere is therefore
// seen within keySyncInterval of its commit by the next request (plus the re-read).
//
// Spend written by another process (its requests' logs, a spend it set, a window it reset)
// reaches keys.spend in the same transaction, so it is a change too. A re-read takes it as:
//   - a new window (spend_since moved: a reset or a set spend elsewhere): the stored spend,
//     window and reset time replace this process's;
//   - otherwise, when the stored spend grew since the last look (e.k.Spend is the stored value
//     last seen) and is for the window this process is in, spend = max(this process's, the
//     stored one). The stored spend holds every process's written spend, this one's included,
//     so the max counts another process's spend once written (its flush interval, 1 s) and
//     never drops this process's own. It falls short by this process's spend that was not yet
//     written when the other process's write was read (at most one flush interval's worth),
//     until the other process writes again: this process's own writes are not re-read.
//
// A request this process answered under a key's old secret, written after another process
// regenerated the key, is moved to the key by the store (key_renames) and counts as above.
//
// Per process still: the proxy-wide budget (litellm_settings.max_budget), rpm/tpm/parallel
// limits, and threshold alerts for spend another process made (that process alerts). Nothing
// tells the tray when another process changes a key: it sees the change when it next reads.
const (
	keySyncInterval = 250 * time.Millisecond
	// keySyncBatch bounds one read of key_changes; more than that re-reads every cached key.
	keySyncBatch = 1000
	// keySyncTimeout bounds one check, which a request waits for.
	keySyncTimeout = 2 * time.Second
	// keyChangesKept is how long change rows stay: a process that did not look for longer
	// (asleep, suspended) finds a gap and re-reads every cached key.
	keyChangesKept = time.Hour
)

// keySync is where the ledger is in key_changes.
type keySync struct {
	mu      sync.Mutex // one re-read at a time; lookups never wait for it
	seq     int64      // guarded by mu: the last change applied
	failing bool       // guarded by mu: the last check failed (logged once)

	start time.Time    // monotonic origin of next
	next  atomic.Int64 // nanoseconds after start of the next check
}

// syncKeys applies the changes other processes made to keys, unless it looked less than
// keySyncInterval ago or another goroutine is looking now. A failure keeps the cache as it is
// and is retried at the next interval.
func (l *Ledger) syncKeys(ctx context.Context) {
	ks := &l.ks
	if time.Since(ks.start).Nanoseconds() < ks.next.Load() || !ks.mu.TryLock() {
		return
	}
	defer ks.mu.Unlock()
	if time.Since(ks.start).Nanoseconds() < ks.next.Load() {
		return // another goroutine just did it
	}
	// The check serves every request after this one: a client hanging up must not cut it short.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), keySyncTimeout)
	defer cancel()
	err := l.applyKeyChanges(ctx)
	switch {
	case err != nil && !ks.failing:
		l.log.Warn("ledger: could not read key changes from the store; keys stay as they were", "err", err)
	case err == nil && ks.failing:
		l.log.Info("ledger: key changes are read from the store again")
	}
	ks.failing = err != nil
	ks.next.Store((time.Since(ks.start) + keySyncInterval).Nanoseconds())
}

// applyKeyChanges re-reads the cached keys that changed since ks.seq. Called with ks.mu held.
func (l *Ledger) applyKeyChanges(ctx context.Context) error {
	ks := &l.ks
	changes, err := l.st.KeyChanges(ctx, ks.seq, keySyncBatch)
	if err != nil || len(changes) == 0 {
		return err
	}
	if len(changes) == keySyncBatch || changes[0].Seq != ks.seq+1 {
		return l.rereadAllKeys(ctx)
	}
	seen := map[string]bool{}
	for _, c := range changes {
		if seen[c.Token] || c.Own { // this process's own writes are in memory already
			continue
		}
		seen[c.Token] = true
		if err := l.rereadKey(ctx, c.Token); err != nil {
			return err // ks.seq stays: the next check starts over from here
		}
	}
	ks.seq = changes[len(changes)-1].Seq
	return nil
}

// rereadAllKeys re-reads every cached key: too many changes to read one by one, or some were
// pruned before this process saw them.
func (l *Ledger) rereadAllKeys(ctx context.Context) error {
	last, err := l.st.LastKeyChange(ctx) // first: a change after it is read again next time
	if err != nil {
		return err
	}
	l.mu.RLock()
	tokens := make([]string, 0, len(l.keys))
	for t := range l.keys {
		tokens = append(tokens, t)
	}
	l.mu.RUnlock()
	for _, t := range tokens {
		if err := l.rereadKey(ctx, t); err != nil {
			return err
		}
	}
	l.ks.seq = last
	return nil
}

// rereadKey brings the cached key with this token in line with the store. A key not cached is
// left alone: it is read when first used. A key gone from the store is dropped, so its secret is
// refused; one regenerated elsewhere moves to its new token with the spend counted here, as a
// regenerate here does (requests in flight then log under the new token).
func (l *Ledger) rereadKey(ctx context.Context, token string) error {
	l.mu.RLock()
	e := l.keys[token]
	l.mu.RUnlock()
	if e == nil {
		return nil
	}
	k, err := l.st.GetKey(ctx, token)
	if errors.Is(err, store.ErrNotFound) {
		to, rerr := l.st.RenamedTo(ctx, token)
		switch {
		case rerr == nil && l.moveKey(e, token, to):
			return l.rereadKey(ctx, to)
		case rerr != nil && !errors.Is(rerr, store.ErrNotFound):
			return rerr
		}
		l.dropKey(e, token)
		return nil
	}
	if err != nil {
		return err
	}
	l.mu.Lock()
	old := e.k
	if old.Token != token {
		l.mu.Unlock()
		return nil // regenerated here meanwhile: its new token has its own change row
	}
	e.k = k
	l.mu.Unlock()
	d, err := budget.ParseOptionalDuration(k.BudgetDuration)
	if err != nil {
		l.log.Warn("ledger: a key's budget_duration is unreadable; it is treated as never resetting", "key", k.KeyName, "err", err)
	}
	oldDur, _ := budget.ParseOptionalDuration(old.BudgetDuration)
	switch {
	case !sameDuration(oldDur, d):
		// The writer started the new window and stores it: take it as stored rather than
		// restart it here, which would reset (and write) it a second time.
		l.bl.Remove(token)
		l.bl.SetBudget(token, k.MaxBudget, k.Spend, k.BudgetResetAt, d)
	case !sameInstant(old.SpendSince, k.SpendSince):
		l.bl.SetBudget(token, k.MaxBudget, k.Spend, k.BudgetResetAt, d)
	default:
		l.bl.SetLimit(token, k.MaxBudget)
		// Spend was written since the last look, by this process or another. A window this
		// process just rolled is not stored yet: its reset, when written, is a new window above.
		if _, _, resetAt := l.bl.Spend(token); k.Spend > old.Spend && sameInstant(resetAt, k.BudgetResetAt) {
			l.bl.RaiseSpend(token, k.Spend)
		}
	}
	return nil
}

// moveKey re-keys the entry of a key another process regenerated from old to cur, with its
// budget, and reports whether it did. When cur is cached already (its new secret was used
// here), the old entry's spend is carried into it instead, and false is returned.
func (l *Ledger) moveKey(e *entry, old, cur string) bool {
	spend, _, resetAt := l.bl.Spend(old)
	l.mu.Lock()
	if l.keys[old] != e || e.k.Token != old {
		l.mu.Unlock()
		return false
	}
	if l.keys[cur] != nil {
		l.mu.Unlock()
		l.bl.RaiseSpend(cur, spend)
		return false
	}
	delete(l.keys, old)
	e.k.Token = cur
	l.keys[cur] = e
	k := e.k
	l.mu.Unlock()
	d, _ := budget.ParseOptionalDuration(k.BudgetDuration)
	l.bl.SetBudget(cur, k.MaxBudget, spend, resetAt, d)
	l.forgetBudget(old)
	return true
}

// dropKey forgets a key that is no longer in the store.
func (l *Ledger) dropKey(e *entry, token string) {
	l.mu.Lock()
	if l.keys[token] != e {
		l.mu.Unlock()
		return
	}
	delete(l.keys, token)
	l.mu.Unlock()
	l.forgetBudget(token)
}

// sameInstant compares two stored times at the store's precision (microseconds).
func sameInstant(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.UnixMicro() == b.UnixMicro()
}

// pruneKeyChanges deletes change rows older than keyChangesKept.
func (l *Ledger) pruneKeyChanges(ctx context.Context) {
	if _, err := l.st.PruneKeyChanges(ctx, time.Now().Add(-keyChangesKept)); err != nil {
		l.log.Warn("ledger: pruning key changes failed", "err", err)
	}
}
