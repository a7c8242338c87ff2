package store

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"
)

func ptr[T any](v T) *T { return &v }

// t0 is a fixed instant with microsecond precision, which is what the store keeps.
var t0 = time.Date(2026, 3, 14, 9, 26, 53, 589793000, time.UTC)

func fullKey() Key {
	return Key{
		Token:               "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		KeyName:             "sk-...a08X",
		KeyAlias:            "openclaw",
		Spend:               1.25,
		MaxBudget:           ptr(50.0),
		SoftBudget:          ptr(40.0),
		BudgetDuration:      "monthly",
		BudgetResetAt:       ptr(time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)),
		Expires:             ptr(t0.Add(30 * 24 * time.Hour)),
		Models:              []string{"claude-*", "gpt-4o"},
		Metadata:            map[string]any{"tags": []any{"openclaw", "laptop"}, "disable_fallbacks": true, "n": 3.5, "nested": map[string]any{"a": "b"}},
		Aliases:             map[string]string{"fast": "gpt-4o-mini"},
		TPMLimit:            ptr(int64(100000)),
		RPMLimit:            ptr(int64(60)),
		MaxParallelRequests: ptr(int64(4)),
		Blocked:             true,
		UserID:              "ishaan",
		CreatedAt:           t0,
		UpdatedAt:           t0.Add(time.Second),
		LastActive:          ptr(t0.Add(time.Minute)),
	}
}

func TestKeyRoundTrip(t *testing.T) { eachEngine(t, testKeyRoundTrip) }

func testKeyRoundTrip(t *testing.T, e engine) {
	ctx := context.Background()
	for _, c := range []struct {
		name string
		in   Key
		want Key
	}{
		{"every field", fullKey(), fullKey()},
		{"bare", Key{Token: "bare", CreatedAt: t0}, Key{Token: "bare", CreatedAt: t0, UpdatedAt: t0,
			Models: []string{}, Metadata: map[string]any{}, Aliases: map[string]string{}}},
		{"empty JSON fields", Key{Token: "empty", Models: []string{}, Metadata: map[string]any{}, Aliases: map[string]string{}, CreatedAt: t0, UpdatedAt: t0},
			Key{Token: "empty", CreatedAt: t0, UpdatedAt: t0, Models: []string{}, Metadata: map[string]any{}, Aliases: map[string]string{}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := e.open(t)
			if err := s.CreateKey(ctx, c.in); err != nil {
				t.Fatal(err)
			}
			got, err := s.GetKey(ctx, c.in.Token)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("round trip:\n got %+v\nwant %+v", got, c.want)
			}
			if c.in.KeyAlias != "" {
				byAlias, err := s.GetKeyByAlias(ctx, c.in.KeyAlias)
				if err != nil || !reflect.DeepEqual(byAlias, c.want) {
					t.Fatalf("GetKeyByAlias = %+v, %v", byAlias, err)
				}
			}
		})
	}
}

func TestKeyNotFound(t *testing.T) { onBoth(t, testKeyNotFound) }

func testKeyNotFound(t *testing.T, s *Store) {
	ctx := context.Background()
	if _, err := s.GetKey(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("GetKey = %v", err)
	}
	if _, err := s.GetKeyByAlias(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("GetKeyByAlias = %v", err)
	}
	if _, err := s.GetKeyByAlias(ctx, ""); !errors.Is(err, ErrNotFound) {
		t.Errorf("GetKeyByAlias(\"\") = %v", err)
	}
	if err := s.UpdateKey(ctx, Key{Token: "nope"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("UpdateKey = %v", err)
	}
	if err := s.AddKeySpend(ctx, "nope", 1); !errors.Is(err, ErrNotFound) {
		t.Errorf("AddKeySpend = %v", err)
	}
	if _, err := s.ResetKeySpend(ctx, "nope", t0, nil); !errors.Is(err, ErrNotFound) {
		t.Errorf("ResetKeySpend = %v", err)
	}
}

func TestKeyAliasUnique(t *testing.T) { onBoth(t, testKeyAliasUnique) }

func testKeyAliasUnique(t *testing.T, s *Store) {
	ctx := context.Background()
	mustCreate := func(k Key) {
		t.Helper()
		if err := s.CreateKey(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	mustCreate(Key{Token: "a", KeyAlias: "openclaw"})
	if err := s.CreateKey(ctx, Key{Token: "b", KeyAlias: "openclaw"}); !errors.Is(err, ErrAliasTaken) {
		t.Fatalf("second key with the alias: %v, want ErrAliasTaken", err)
	}
	if err := s.CreateKey(ctx, Key{Token: "a", KeyAlias: "other"}); !errors.Is(err, ErrKeyExists) {
		t.Fatalf("same token twice: %v, want ErrKeyExists", err)
	}
	// Aliases are optional: any number of keys may have none.
	mustCreate(Key{Token: "c"})
	mustCreate(Key{Token: "d"})
	mustCreate(Key{Token: "b", KeyAlias: "OpenClaw"}) // case matters, as in LiteLLM's unique column

	if err := s.UpdateKey(ctx, Key{Token: "b", KeyAlias: "openclaw"}); !errors.Is(err, ErrAliasTaken) {
		t.Fatalf("update to a taken alias: %v", err)
	}
	if err := s.UpdateKey(ctx, Key{Token: "a", KeyAlias: "openclaw", Blocked: true}); err != nil {
		t.Fatalf("update keeping its own alias: %v", err)
	}
	// Freeing an alias makes it available.
	if err := s.UpdateKey(ctx, Key{Token: "a"}); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateKey(ctx, Key{Token: "c", KeyAlias: "openclaw"}); err != nil {
		t.Fatalf("taking a freed alias: %v", err)
	}
	k, err := s.GetKeyByAlias(ctx, "openclaw")
	if err != nil || k.Token != "c" {
		t.Fatalf("alias owner = %q, %v; want c", k.Token, err)
	}
}

func TestUpdateKey(t *testing.T) { onBoth(t, testUpdateKey) }

func testUpdateKey(t *testing.T, s *Store) {
	ctx := context.Background()
	k := fullKey()
	k.Spend = 0
	if err := s.CreateKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	stale, _ := s.GetKey(ctx, k.Token)
	// Spend lands between the read and the write of a read-modify-write.
	if err := s.InsertSpendLogs(ctx, []SpendLog{mkLog("r1", k.Token, 0.5, t0.Add(time.Hour))}); err != nil {
		t.Fatal(err)
	}
	stale.MaxBudget = ptr(75.0)
	stale.Models = []string{"*"}
	stale.Metadata = map[string]any{"team": "x"}
	stale.Blocked = false
	stale.TPMLimit = nil
	stale.UpdatedAt = time.Time{}
	before := time.Now()
	if err := s.UpdateKey(ctx, stale); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetKey(ctx, k.Token)
	if err != nil {
		t.Fatal(err)
	}
	if got.Spend != 0.5 {
		t.Errorf("spend = %v, want 0.5: UpdateKey must not overwrite spend", got.Spend)
	}
	if *got.MaxBudget != 75 || !reflect.DeepEqual(got.Models, []string{"*"}) || got.Metadata["team"] != "x" ||
		got.Blocked || got.TPMLimit != nil || got.RPMLimit == nil {
		t.Errorf("fields not updated: %+v", got)
	}
	if !got.CreatedAt.Equal(k.CreatedAt) {
		t.Errorf("created_at changed to %v", got.CreatedAt)
	}
	if got.UpdatedAt.Before(before.Truncate(time.Microsecond)) {
		t.Errorf("updated_at = %v, want >= %v", got.UpdatedAt, before)
	}
	if got.LastActive == nil || !got.LastActive.Equal(t0.Add(time.Hour+time.Second)) {
		t.Errorf("last_active = %v, want the log's end time", got.LastActive)
	}
}

func TestDeleteKeys(t *testing.T) { onBoth(t, testDeleteKeys) }

func testDeleteKeys(t *testing.T, s *Store) {
	ctx := context.Background()
	for _, tok := range []string{"a", "b", "c"} {
		if err := s.CreateKey(ctx, Key{Token: tok, KeyAlias: "alias-" + tok}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.InsertSpendLogs(ctx, []SpendLog{mkLog("r1", "a", 1, t0)}); err != nil {
		t.Fatal(err)
	}
	got, err := s.DeleteKeys(ctx, []string{"a", "missing", "c"})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, []string{"a", "c"}) {
		t.Fatalf("deleted = %v, want [a c]", got)
	}
	if _, err := s.GetKey(ctx, "a"); !errors.Is(err, ErrNotFound) {
		t.Errorf("a still there: %v", err)
	}
	if _, err := s.GetKey(ctx, "b"); err != nil {
		t.Errorf("b gone: %v", err)
	}
	// The alias is free again, and the deleted key's logs stay.
	if err := s.CreateKey(ctx, Key{Token: "d", KeyAlias: "alias-a"}); err != nil {
		t.Errorf("reusing a deleted key's alias: %v", err)
	}
	if _, err := s.GetSpendLog(ctx, "r1"); err != nil {
		t.Errorf("log of deleted key: %v", err)
	}
	if got, err := s.DeleteKeys(ctx, nil); err != nil || len(got) != 0 {
		t.Errorf("DeleteKeys(nil) = %v, %v", got, err)
	}
}

func TestListKeys(t *testing.T) { onBoth(t, testListKeys) }

func testListKeys(t *testing.T, s *Store) {
	ctx := context.Background()
	// k0 is oldest; user u1 owns the even ones.
	for i := range 7 {
		k := Key{Token: "k" + string(rune('0'+i)), CreatedAt: t0.Add(time.Duration(i) * time.Minute)}
		if i%2 == 0 {
			k.UserID = "u1"
		}
		if i == 3 {
			k.KeyAlias = "three"
		}
		if err := s.CreateKey(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		name  string
		opts  ListKeysOpts
		want  []string
		total int
	}{
		{"all, newest first", ListKeysOpts{}, []string{"k6", "k5", "k4", "k3", "k2", "k1", "k0"}, 7},
		{"page 1", ListKeysOpts{Page: 1, Size: 3}, []string{"k6", "k5", "k4"}, 7},
		{"page 0 is page 1", ListKeysOpts{Size: 3}, []string{"k6", "k5", "k4"}, 7},
		{"page 3", ListKeysOpts{Page: 3, Size: 3}, []string{"k0"}, 7},
		{"past the end", ListKeysOpts{Page: 4, Size: 3}, []string{}, 7},
		{"user", ListKeysOpts{UserID: "u1"}, []string{"k6", "k4", "k2", "k0"}, 4},
		{"user page 2", ListKeysOpts{UserID: "u1", Page: 2, Size: 3}, []string{"k0"}, 4},
		{"alias", ListKeysOpts{Alias: "three"}, []string{"k3"}, 1},
		{"alias and other user", ListKeysOpts{Alias: "three", UserID: "u1"}, []string{}, 0},
		{"token", ListKeysOpts{Token: "k5"}, []string{"k5"}, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			keys, total, err := s.ListKeys(ctx, c.opts)
			if err != nil {
				t.Fatal(err)
			}
			got := []string{}
			for _, k := range keys {
				got = append(got, k.Token)
			}
			if !reflect.DeepEqual(got, c.want) || total != c.total {
				t.Fatalf("got %v total %d, want %v total %d", got, total, c.want, c.total)
			}
		})
	}
}

func TestKeySpendWriters(t *testing.T) { onBoth(t, testKeySpendWriters) }

func testKeySpendWriters(t *testing.T, s *Store) {
	ctx := context.Background()
	if err := s.CreateKey(ctx, Key{Token: "k", Spend: 2}); err != nil {
		t.Fatal(err)
	}
	spend := func() float64 {
		t.Helper()
		k, err := s.GetKey(ctx, "k")
		if err != nil {
			t.Fatal(err)
		}
		return k.Spend
	}
	if spend() != 2 {
		t.Fatalf("starting spend = %v", spend())
	}
	if err := s.AddKeySpend(ctx, "k", 0.25); err != nil || spend() != 2.25 {
		t.Fatalf("after AddKeySpend: %v, %v", spend(), err)
	}
	if err := s.SetKeySpend(ctx, "k", 0); err != nil || spend() != 0 {
		t.Fatalf("after SetKeySpend: %v, %v", spend(), err)
	}
}

// A budget window reset noticed late keeps the spend already made in the new window, and rows from
// the old window that arrive after the reset are stored but not charged to the new one.
func TestResetKeySpend(t *testing.T) { onBoth(t, testResetKeySpend) }

func testResetKeySpend(t *testing.T, s *Store) {
	ctx := context.Background()
	window := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	next := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	if err := s.CreateKey(ctx, Key{Token: "k", BudgetDuration: "1mo", BudgetResetAt: &window}); err != nil {
		t.Fatal(err)
	}
	if err := s.InsertSpendLogs(ctx, []SpendLog{
		mkLog("march-1", "k", 10, window.Add(-48*time.Hour)),
		mkLog("march-2", "k", 5, window.Add(-time.Microsecond)),
		mkLog("april-1", "k", 0.5, window),
		mkLog("april-2", "k", 0.25, window.Add(time.Hour)),
	}); err != nil {
		t.Fatal(err)
	}
	got, err := s.ResetKeySpend(ctx, "k", window, &next)
	if err != nil {
		t.Fatal(err)
	}
	if got != 0.75 {
		t.Fatalf("spend after reset = %v, want 0.75 (april's rows)", got)
	}
	if err := s.InsertSpendLogs(ctx, []SpendLog{
		mkLog("march-late", "k", 100, window.Add(-time.Minute)),
		mkLog("april-3", "k", 0.125, window.Add(2*time.Hour)),
	}); err != nil {
		t.Fatal(err)
	}
	k, err := s.GetKey(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	if k.Spend != 0.875 {
		t.Errorf("spend = %v, want 0.875: a late row from the old window must not count", k.Spend)
	}
	if k.SpendSince == nil || !k.SpendSince.Equal(window) || k.BudgetResetAt == nil || !k.BudgetResetAt.Equal(next) {
		t.Errorf("spend_since = %v, budget_reset_at = %v", k.SpendSince, k.BudgetResetAt)
	}
	if v, _ := s.KeySpendSince(ctx, "k", window); v != k.Spend {
		t.Errorf("KeySpendSince(window) = %v, key spend %v: they must agree", v, k.Spend)
	}
	if _, err := s.GetSpendLog(ctx, "march-late"); err != nil {
		t.Errorf("late row not stored: %v", err)
	}
}

func TestRegenerateKey(t *testing.T) { onBoth(t, testRegenerateKey) }

func testRegenerateKey(t *testing.T, s *Store) {
	ctx := context.Background()
	if err := s.CreateKey(ctx, Key{Token: "old", KeyName: "sk-...0ld0", KeyAlias: "oc"}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateKey(ctx, Key{Token: "taken"}); err != nil {
		t.Fatal(err)
	}
	if err := s.InsertSpendLogs(ctx, []SpendLog{mkLog("r1", "old", 1.5, t0), mkLog("r2", "old", 0.5, t0)}); err != nil {
		t.Fatal(err)
	}
	if err := s.RegenerateKey(ctx, "old", "taken", "x"); !errors.Is(err, ErrKeyExists) {
		t.Fatalf("regenerate onto an existing token: %v", err)
	}
	if err := s.RegenerateKey(ctx, "missing", "new2", "x"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("regenerate a missing key: %v", err)
	}
	if err := s.RegenerateKey(ctx, "old", "new", "sk-...n3w0"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetKey(ctx, "old"); !errors.Is(err, ErrNotFound) {
		t.Errorf("old token still valid: %v", err)
	}
	k, err := s.GetKey(ctx, "new")
	if err != nil {
		t.Fatal(err)
	}
	if k.Spend != 2 || k.KeyAlias != "oc" || k.KeyName != "sk-...n3w0" {
		t.Errorf("regenerated key = %+v", k)
	}
	if v, _ := s.KeySpendSince(ctx, "new", time.Time{}); v != 2 {
		t.Errorf("logs under the new token sum to %v, want 2", v)
	}
}
