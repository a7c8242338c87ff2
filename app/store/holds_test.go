package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The shared budgets' SQL is checked here with several Stores on one database, standing in for
// gateways on several machines. Each body takes an opener, so that the same body runs on each
// engine (SQLite: one file in a temporary folder).

// storeOpener opens one more Store on the test's database.
type storeOpener func(t *testing.T) *Store

func sqliteStores(t *testing.T) storeOpener {
	path := Path(t.TempDir())
	return func(t *testing.T) *Store {
		t.Helper()
		s, err := Open(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
}

var holdNow = time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)

// hourly rolls a window by one hour from its reset time.
func hourly(row BudgetRow, now time.Time) (*time.Time, time.Time) {
	next := row.ResetAt.Add(time.Hour)
	for !next.After(now) {
		next = next.Add(time.Hour)
	}
	return &next, next.Add(-time.Hour)
}

// concurrently runs fn(i) for i in [0, n) at once, fn(i) on stores[i%len(stores)].
func concurrently(n int, stores []*Store, fn func(i int, s *Store)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			fn(i, stores[i%len(stores)])
		}()
	}
	close(start)
	wg.Wait()
}

func TestHoldsAtomic(t *testing.T) { testHoldsAtomic(t, sqliteStores(t)) }

// 100 reservations at once from three Stores on a budget with room for 10 take exactly 10 holds;
// settling moves their cost to spend once each and frees their room only by what they held.
func testHoldsAtomic(t *testing.T, open storeOpener) {
	stores := []*Store{open(t), open(t), open(t)}
	limit := 10.0
	seed := BudgetRow{ID: "k1", MaxBudget: &limit}
	var held atomic.Int64
	var ids sync.Map
	concurrently(100, stores, func(i int, s *Store) {
		q := HoldRequest{HoldID: fmt.Sprintf("h%d", i), Owner: "gw", Now: holdNow,
			Expires: holdNow.Add(time.Minute), Budgets: []HoldBudget{{Seed: seed, Amount: 1}, {Seed: BudgetRow{ID: "global"}, Amount: 1}}, Roll: hourly}
		res, err := s.Hold(context.Background(), q)
		if err != nil {
			t.Error(err)
			return
		}
		if res.Refused < 0 {
			held.Add(1)
			ids.Store(q.HoldID, s)
		} else if res.Refused != 0 || !(res.Budgets[0].Held >= limit) {
			t.Errorf("refused by %d with %+v, want the key's budget, full of holds", res.Refused, res.Budgets[0])
		}
	})
	if held.Load() != 10 {
		t.Fatalf("%d holds taken on a budget with room for 10", held.Load())
	}
	ids.Range(func(id, s any) bool {
		_, err := s.(*Store).Settle(context.Background(), SettleRequest{HoldID: id.(string), Now: holdNow, Cost: 0.5,
			Budgets: []BudgetRow{seed, {ID: "global"}}, Roll: hourly})
		if err != nil {
			t.Fatal(err)
		}
		return true
	})
	for _, id := range []string{"k1", "global"} {
		b, err := stores[2].GetBudget(context.Background(), id, holdNow)
		if err != nil {
			t.Fatal(err)
		}
		if b.Spend != 5 || b.Held != 0 {
			t.Errorf("%s: spend %g, held %g after settling 10 holds at 0.5: want 5 and 0", id, b.Spend, b.Held)
		}
	}
	// The settled room reopens: spend 5 of 10.
	res, err := stores[1].Hold(context.Background(), HoldRequest{HoldID: "again", Owner: "gw", Now: holdNow,
		Expires: holdNow.Add(time.Minute), Budgets: []HoldBudget{{Seed: seed, Amount: 1}}, Roll: hourly})
	if err != nil || res.Refused >= 0 {
		t.Fatalf("after settling: %+v, %v", res, err)
	}
	// Holds whose lease ended count for nothing.
	res, err = stores[0].Hold(context.Background(), HoldRequest{HoldID: "late", Owner: "gw", Now: holdNow.Add(2 * time.Minute),
		Expires: holdNow.Add(3 * time.Minute), Budgets: []HoldBudget{{Seed: seed, Amount: 1}}, Roll: hourly})
	if err != nil || res.Refused >= 0 || res.Budgets[0].Held != 0 {
		t.Fatalf("after the leases ended: %+v, %v", res, err)
	}
}

func TestHoldsOnce(t *testing.T) { testHoldsOnce(t, sqliteStores(t)) }

// Of three Stores finding the same window ended, restarting the same budget, or claiming the same
// alert, one does it.
func testHoldsOnce(t *testing.T, open storeOpener) {
	stores := []*Store{open(t), open(t), open(t)}
	ctx := context.Background()
	resetAt := holdNow.Add(time.Minute)
	seed := BudgetRow{ID: "k2", Duration: "1h", ResetAt: &resetAt, WindowStart: resetAt.Add(-time.Hour), Spend: 3}
	if _, err := stores[0].Settle(ctx, SettleRequest{Now: holdNow, Budgets: []BudgetRow{seed}, Cost: 1, Roll: hourly}); err != nil {
		t.Fatal(err)
	}
	later := resetAt.Add(time.Second)
	var resets, claims, restarts atomic.Int64
	concurrently(30, stores, func(i int, s *Store) {
		res, err := s.Settle(ctx, SettleRequest{Now: later, Budgets: []BudgetRow{seed}, Cost: 1, Roll: hourly})
		if err != nil {
			t.Error(err)
			return
		}
		for _, r := range res.Resets {
			resets.Add(1)
			if r.EndedSpend != 4 || r.ResetAt == nil || !r.ResetAt.Equal(resetAt.Add(time.Hour)) {
				t.Errorf("reset %+v, want 4 spent and the next reset an hour on", r)
			}
		}
		took, err := s.ClaimAlert(ctx, "k2", resetAt, "max_budget:0.5", later)
		if err != nil {
			t.Error(err)
		} else if took {
			claims.Add(1)
		}
		next := later.Add(24 * time.Hour)
		took, err = s.RestartBudget(ctx, BudgetRow{ID: "k3", Duration: "1d", ResetAt: &next, WindowStart: later}, later)
		if err != nil {
			t.Error(err)
		} else if took {
			restarts.Add(1)
		}
	})
	if resets.Load() != 1 || claims.Load() != 1 || restarts.Load() != 1 {
		t.Errorf("resets %d, alert claims %d, restarts %d across three stores: want 1 each", resets.Load(), claims.Load(), restarts.Load())
	}
	b, err := stores[1].GetBudget(ctx, "k2", later)
	if err != nil {
		t.Fatal(err)
	}
	if b.Spend != 30 {
		t.Errorf("new window's spend %g, want 30 (one per settlement after the reset)", b.Spend)
	}
}

func TestHoldsRate(t *testing.T) { testHoldsRate(t, sqliteStores(t)) }

// An rpm limit of 5 across three Stores counts 5 requests in a minute, and a refusal reports the
// minute's counts; a budget refusal does not count the request.
func testHoldsRate(t *testing.T, open storeOpener) {
	stores := []*Store{open(t), open(t), open(t)}
	ctx := context.Background()
	var passed atomic.Int64
	concurrently(30, stores, func(i int, s *Store) {
		res, err := s.Hold(ctx, HoldRequest{HoldID: fmt.Sprintf("r%d", i), Owner: "gw", Now: holdNow, Expires: holdNow.Add(time.Minute),
			Rates: []RateCheck{{Key: "k4", Minute: holdNow.Unix() / 60, RPM: 5, TPM: 1 << 40, Tokens: 10}}, Roll: hourly})
		switch {
		case err != nil:
			t.Error(err)
		case !res.RateRefused:
			passed.Add(1)
		case res.Requests != 5 || res.Tokens != 50:
			t.Errorf("refused with %d requests and %d tokens counted, want 5 and 50", res.Requests, res.Tokens)
		}
	})
	if passed.Load() != 5 {
		t.Errorf("%d requests passed an rpm limit of 5", passed.Load())
	}
	zero := 0.0
	res, err := stores[0].Hold(ctx, HoldRequest{HoldID: "broke", Owner: "gw", Now: holdNow, Expires: holdNow.Add(time.Minute),
		Budgets: []HoldBudget{{Seed: BudgetRow{ID: "k5", MaxBudget: &zero}, Amount: 1}},
		Rates:   []RateCheck{{Key: "k5", Minute: holdNow.Unix() / 60, RPM: 1, TPM: 1 << 40}}, Roll: hourly})
	if err != nil || res.Refused != 0 {
		t.Fatalf("%+v, %v: want the budget's refusal", res, err)
	}
	res, err = stores[1].Hold(ctx, HoldRequest{HoldID: "ok", Owner: "gw", Now: holdNow, Expires: holdNow.Add(time.Minute),
		Rates: []RateCheck{{Key: "k5", Minute: holdNow.Unix() / 60, RPM: 1, TPM: 1 << 40}}, Roll: hourly})
	if err != nil || res.RateRefused {
		t.Fatalf("%+v, %v: the refused request must not have used the minute's one request", res, err)
	}
}

func TestHoldsRatesAllOrNone(t *testing.T) { testHoldsRatesAllOrNone(t, sqliteStores(t)) }

// A request limited by several counters (its key's, its team's) is counted in all of them or in
// none: when the team's refuses, the key's minute keeps no trace of it.
func testHoldsRatesAllOrNone(t *testing.T, open storeOpener) {
	s := open(t)
	ctx := context.Background()
	minute := holdNow.Unix() / 60
	hold := func(id string, rates ...RateCheck) HoldResult {
		t.Helper()
		res, err := s.Hold(ctx, HoldRequest{HoldID: id, Owner: "gw", Now: holdNow, Expires: holdNow.Add(time.Minute), Rates: rates, Roll: hourly})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	key := RateCheck{Key: "k7", Minute: minute, RPM: 2, TPM: 1 << 40, Tokens: 10}
	team := RateCheck{Key: "team:t7", Minute: minute, RPM: 1, TPM: 1 << 40, Tokens: 10}
	if res := hold("h1", key, team); res.RateRefused {
		t.Fatalf("first request refused: %+v", res)
	}
	if res := hold("h2", key, team); !res.RateRefused || res.RateIndex != 1 || res.Requests != 1 {
		t.Fatalf("second request: %+v, want the team's counter (index 1) refusing at 1 request", res)
	}
	if res := hold("h3", key); res.RateRefused {
		t.Errorf("the key's own second request refused (%+v): the team's refusal was counted on the key", res)
	}
}

func TestSettledLogsNotAddedTwice(t *testing.T) { testSettledLogsNotAddedTwice(t, sqliteStores(t)) }

// A spend log row whose spend was settled in the database already moves its key's last_active
// but not its spend; an unsettled one (the single-gateway path) adds its spend as before.
func testSettledLogsNotAddedTwice(t *testing.T, open storeOpener) {
	s := open(t)
	ctx := context.Background()
	if err := s.CreateKey(ctx, Key{Token: "k6"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Settle(ctx, SettleRequest{Now: holdNow, Budgets: []BudgetRow{{ID: "k6"}}, Key: "k6", Cost: 2, Roll: hourly}); err != nil {
		t.Fatal(err)
	}
	settled := mkLog("settled", "k6", 2, holdNow)
	settled.Settled = true
	if err := s.InsertSpendLogs(ctx, []SpendLog{settled, mkLog("plain", "k6", 3, holdNow)}); err != nil {
		t.Fatal(err)
	}
	k, err := s.GetKey(ctx, "k6")
	if err != nil {
		t.Fatal(err)
	}
	if k.Spend != 5 || k.LastActive == nil {
		t.Errorf("key spend %g, last active %v: want 5 (2 settled + 3 logged) and set", k.Spend, k.LastActive)
	}
}

func TestGetBudgets(t *testing.T) { testGetBudgets(t, sqliteStores(t)) }

// GetBudgets reads many budgets in one go (more than one chunk of ids), each as GetBudget reads it:
// spend, cap and what live holds take; an expired hold counts for nothing, a missing budget is absent.
func testGetBudgets(t *testing.T, open storeOpener) {
	s := open(t)
	ctx := context.Background()
	limit := 100.0
	var ids []string
	for i := range 1203 {
		id := fmt.Sprintf("k%04d", i)
		ids = append(ids, id)
		if i%2 == 1 {
			continue // no row: never held or spent
		}
		expires := holdNow.Add(time.Minute)
		if i%4 == 2 {
			expires = holdNow.Add(-time.Second) // a lease that ended
		}
		seed := BudgetRow{ID: id, MaxBudget: &limit}
		if _, err := s.Hold(ctx, HoldRequest{HoldID: "h" + id, Owner: "gw", Now: holdNow.Add(-2 * time.Second), Expires: expires,
			Budgets: []HoldBudget{{Seed: seed, Amount: float64(i)}}, Roll: hourly}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Settle(ctx, SettleRequest{Now: holdNow, Cost: 0.25, Budgets: []BudgetRow{seed}, Roll: hourly}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.GetBudgets(ctx, ids, holdNow)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 602 {
		t.Errorf("%d budgets read, want 602", len(got))
	}
	for i, id := range ids {
		b, ok := got[id]
		one, err := s.GetBudget(ctx, id, holdNow)
		if i%2 == 1 {
			if ok || !errors.Is(err, ErrNotFound) {
				t.Fatalf("%s has no row: GetBudgets %v, GetBudget %v", id, ok, err)
			}
			continue
		}
		wantHeld := float64(i)
		if i%4 == 2 {
			wantHeld = 0
		}
		if !ok || err != nil || b.Spend != 0.25 || b.Held != wantHeld || b.MaxBudget == nil || *b.MaxBudget != limit || b.Held != one.Held || b.Spend != one.Spend {
			t.Fatalf("%s: GetBudgets %+v (%v), GetBudget %+v (%v); want spend 0.25, held %v", id, b, ok, one, err, wantHeld)
		}
	}
}
