package store

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// fixtureKey is the key in testdata/v1.db; see testdata/README.md for how the file was made.
const fixtureKey = "5e0f2b1c9d8a7f6e5d4c3b2a1908f7e6d5c4b3a29180f7e6d5c4b3a291807f6e"

// openFixture copies a committed database into a temporary folder and opens it there.
func openFixture(t *testing.T, name string) (*Store, string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), FileName)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatalf("open a database from version 1: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

// TestUpgradeFromV1: a data folder written by the release before response ids got their own
// column opens, migrates, and keeps every row, its spend and the key's spend. Rows are re-keyed
// by the call id version 1 kept in metadata; the upstream's id moves to response_id.
func TestUpgradeFromV1(t *testing.T) {
	s, path := openFixture(t, "v1.db")
	ctx := context.Background()
	if v := versions(t, rawDB(t, path)); len(v) != SchemaVersion() || v[len(v)-1] != SchemaVersion() {
		t.Fatalf("versions %v, want up to %d", v, SchemaVersion())
	}
	rows, total, err := s.QuerySpendLogs(ctx, SpendQuery{IncludeBodies: true})
	if err != nil || total != 5 {
		t.Fatalf("%d rows after the upgrade, want the fixture's 5 (%v)", total, err)
	}
	want := map[string]struct {
		response string
		spend    float64
	}{
		"11111111-1111-4111-8111-111111111111": {"chatcmpl-aaa", 0.25},
		"22222222-2222-4222-8222-222222222222": {"", 0},
		"33333333-3333-4333-8333-333333333333": {"chatcmpl-bbb", 0.5},
		"44444444-4444-4444-8444-444444444444": {"chatcmpl-ccc", 0.125},
		"clawgate-0a1b2c3d4e5f":                {"", 0.0625}, // no call id kept: left as it was
	}
	var keySum float64
	for _, r := range rows {
		w, ok := want[r.RequestID]
		if !ok || r.ResponseID != w.response || r.Spend != w.spend {
			t.Errorf("row %s (response %q, spend %v) not as expected %+v", r.RequestID, r.ResponseID, r.Spend, w)
		}
		if r.APIKey == fixtureKey {
			keySum += r.Spend
		}
		if r.RequestID == "33333333-3333-4333-8333-333333333333" && (string(r.Messages) != `[{"role":"user","content":"hi"}]` || r.Metadata["stream"] != true) {
			t.Errorf("row bodies or metadata lost: %s %v", r.Messages, r.Metadata)
		}
	}
	k, err := s.GetKey(ctx, fixtureKey)
	if err != nil || k.Spend != keySum || keySum != 0.8125 || k.KeyAlias != "openclaw" || k.MaxBudget == nil || *k.MaxBudget != 5 {
		t.Errorf("key after the upgrade: %+v, %v; its rows sum to %v", k, err, keySum)
	}
	if v, ok, err := s.GetSetting(ctx, "budget.global"); !ok || err != nil || v != `{"max_budget":10}` {
		t.Errorf("setting: %q %v %v", v, ok, err)
	}
	// The upstream's id still finds its row, as it did before.
	if got, n, err := s.QuerySpendLogs(ctx, SpendQuery{RequestID: "chatcmpl-bbb"}); err != nil || n != 1 || got[0].RequestID != "33333333-3333-4333-8333-333333333333" {
		t.Errorf("by response id: %d rows %v", n, err)
	}
	// New rows go in beside the old ones, and count.
	at := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	l := mkLog("55555555-5555-4555-8555-555555555555", fixtureKey, 0.03125, at)
	l.ResponseID = "chatcmpl-aaa" // an upstream that repeats its ids
	if err := s.InsertSpendLogs(ctx, []SpendLog{l}); err != nil {
		t.Fatal(err)
	}
	if got := keySpend(t, s, fixtureKey); got != 0.84375 || countLogs(t, s) != 6 {
		t.Errorf("after a new row: key spend %v, %d rows", got, countLogs(t, s))
	}
}

// TestRepeatedResponseIDs: rows are told apart by their call id, so an upstream repeating its
// response ids loses none, and the key's spend is the sum of its rows, across a reopen.
func TestRepeatedResponseIDs(t *testing.T) { onBoth(t, testRepeatedResponseIDs) }

func testRepeatedResponseIDs(t *testing.T, s *Store) {
	ctx := context.Background()
	if err := s.CreateKey(ctx, Key{Token: "k", KeyName: "sk-...k", CreatedAt: t0, UpdatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	const calls = 40
	var logs []SpendLog
	for i := range calls {
		l := mkLog(newID(i), "k", 0.0028, t0.Add(time.Duration(i)*time.Second))
		l.ResponseID = "chatcmpl-same"
		logs = append(logs, l)
	}
	if err := s.InsertSpendLogs(ctx, logs[:calls/2]); err != nil {
		t.Fatal(err)
	}
	for _, l := range logs[calls/2:] { // one at a time too, as a slow trickle is written
		if err := s.InsertSpendLogs(ctx, []SpendLog{l}); err != nil {
			t.Fatal(err)
		}
	}
	// A replayed batch (a retried write) is still counted once.
	if err := s.InsertSpendLogs(ctx, logs[:3]); err != nil {
		t.Fatal(err)
	}
	path := s.Path()
	s.Close()
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sum, err := s.KeySpendSince(ctx, "k", time.Time{})
	if n := countLogs(t, s); n != calls || err != nil {
		t.Fatalf("%d rows for %d calls (%v)", n, calls, err)
	}
	if got := keySpend(t, s, "k"); !nearly(got, sum) || !nearly(sum, calls*0.0028) {
		t.Errorf("key spend %v, its rows %v, want %v", got, sum, calls*0.0028)
	}
	if _, n, _ := s.QuerySpendLogs(ctx, SpendQuery{RequestID: "chatcmpl-same"}); n != calls {
		t.Errorf("rows by the repeated response id: %d", n)
	}
}

func newID(i int) string { return "call-" + time.Duration(i).String() }

func nearly(a, b float64) bool { return a-b < 1e-12 && b-a < 1e-12 }
