package store

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

// These tests run several Stores on one database at once: processes on one SQLite file, or
// gateways (replicas) on one PostgreSQL database, where nothing serialises the writers but the
// database itself.

// openMany opens n Stores on one new database of e.
func openMany(t *testing.T, e engine, n int) []*Store {
	t.Helper()
	target := e.target(t)
	out := make([]*Store, n)
	for i := range out {
		out[i] = openTarget(t, target)
	}
	return out
}

// A reader of key_changes that follows the log while other Stores write keys sees every change,
// in a run of seqs with no gap: the order of seqs is the order of commits, so no change can
// commit behind a reader's position.
func TestKeyChangesInCommitOrder(t *testing.T) { eachEngine(t, testKeyChangesInCommitOrder) }

func testKeyChangesInCommitOrder(t *testing.T, e engine) {
	ctx := context.Background()
	stores := openMany(t, e, 4)
	reader, writers := stores[0], stores[1:]
	const perWriter = 40
	var wg sync.WaitGroup
	errs := make(chan error, len(writers))
	for w, s := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWriter {
				tok := fmt.Sprintf("w%d-%d", w, i)
				if err := s.CreateKey(ctx, Key{Token: tok}); err != nil {
					errs <- err
					return
				}
				// A second change in another transaction (a spend log's spend alone is not a
				// change on PostgreSQL; setting the spend is, on both engines).
				if err := s.SetKeySpend(ctx, tok, 0.25); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()

	seen := map[string]int{}
	var seq int64
	follow := func() {
		changes, err := reader.KeyChanges(ctx, seq, 50)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range changes {
			if c.Seq != seq+1 {
				t.Fatalf("after seq %d the reader got %d: a change committed behind it or was skipped", seq, c.Seq)
			}
			seq = c.Seq
			seen[c.Token]++
		}
	}
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
		}
		follow()
	}
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for last, err := reader.LastKeyChange(ctx); seq < last; last, err = reader.LastKeyChange(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		follow()
	}
	for w := range writers {
		for i := range perWriter {
			if tok := fmt.Sprintf("w%d-%d", w, i); seen[tok] != 2 {
				t.Errorf("%s: %d changes seen, want 2 (created, spent)", tok, seen[tok])
			}
		}
	}
	// Each writer tells its own changes from the others'.
	for w, s := range writers {
		changes, err := s.KeyChanges(ctx, 0, 10*perWriter*len(writers))
		if err != nil {
			t.Fatal(err)
		}
		own := 0
		for _, c := range changes {
			if c.Own {
				own++
				if want := fmt.Sprintf("w%d-", w); c.Token[:len(want)] != want {
					t.Errorf("writer %d: %s marked own", w, c.Token)
				}
			}
		}
		if own != 2*perWriter {
			t.Errorf("writer %d: %d own changes, want %d", w, own, 2*perWriter)
		}
	}
}

// Gateways logging spend for the same keys at once, in any order of keys, while another resets
// the keys' windows: every key's spend ends equal to the sum of its logs, nothing lost or
// counted twice, and no batch fails (deadlocks between writers are avoided or retried).
//
// PostgreSQL only: on SQLite one writer holds the file at a time, and four processes hammering
// it measure the machine's load against busy_timeout rather than the store.
func TestConcurrentSpendAndResets(t *testing.T) {
	ctx := context.Background()
	stores := openMany(t, postgresEngine, 4)
	keys := []string{"ka", "kb", "kc", "kd"}
	for _, k := range keys {
		if err := stores[0].CreateKey(ctx, Key{Token: k}); err != nil {
			t.Fatal(err)
		}
	}
	const batches = 40
	var wg, resets sync.WaitGroup
	errs := make(chan error, len(stores)+1)
	for w, s := range stores[1:] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for b := range batches {
				var logs []SpendLog
				for i, k := range keys {
					// Binary fractions: sums are exact in any order.
					logs = append(logs, mkLog(fmt.Sprintf("w%d-b%d-%d", w, b, i), k, 0.125, t0.Add(time.Duration(b)*time.Second)))
				}
				rng.Shuffle(len(logs), func(i, j int) { logs[i], logs[j] = logs[j], logs[i] })
				if err := s.InsertSpendLogs(ctx, logs); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	logged := make(chan struct{})
	resets.Add(1)
	go func() {
		defer resets.Done()
		for i := 0; ; i++ {
			select {
			case <-logged:
				return
			default:
			}
			// The window starts before every log: a reset recounts them all.
			if _, err := stores[0].ResetKeySpend(ctx, keys[i%len(keys)], t0.Add(-time.Hour), nil); err != nil {
				errs <- err
				return
			}
		}
	}()
	wg.Wait()
	close(logged)
	resets.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for _, k := range keys {
		logs, err := stores[0].KeySpendSince(ctx, k, t0.Add(-time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if want := 0.125 * batches * float64(len(stores)-1); logs != want {
			t.Errorf("%s: logs hold %v, want %v", k, logs, want)
		}
		if got := keySpend(t, stores[0], k); got != logs {
			t.Errorf("%s: spend %v, its logs %v", k, got, logs)
		}
	}
}

// Two gateways giving the same alias to new keys at once: one wins, the others hear that the
// alias is taken (not that the key exists).
func TestConcurrentAlias(t *testing.T) { eachEngine(t, testConcurrentAlias) }

func testConcurrentAlias(t *testing.T, e engine) {
	ctx := context.Background()
	stores := openMany(t, e, 4)
	for round := range 5 {
		alias := fmt.Sprintf("team-%d", round)
		var wg sync.WaitGroup
		errs := make([]error, len(stores))
		start := make(chan struct{})
		for i, s := range stores {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				errs[i] = s.CreateKey(ctx, Key{Token: fmt.Sprintf("t%d-%d", round, i), KeyAlias: alias})
			}()
		}
		close(start)
		wg.Wait()
		won := 0
		for _, err := range errs {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, ErrAliasTaken):
				t.Errorf("%s: %v, want ErrAliasTaken", alias, err)
			}
		}
		if won != 1 {
			t.Errorf("%s: %d keys got it, want 1", alias, won)
		}
	}
}
