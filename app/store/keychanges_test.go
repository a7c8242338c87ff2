package store

import (
	"context"
	"slices"
	"testing"
	"time"
)

// Every write to a key, through any of the store's writers, appends the tokens it touched to
// key_changes, in order; reads change nothing; pruning keeps seq counting. On PostgreSQL a
// spend log's spend alone is not a change (its gateways read budgets from the database).
func TestKeyChanges(t *testing.T) {
	eachEngine(t, func(t *testing.T, e engine) { testKeyChanges(t, e.open(t), e == postgresEngine) })
}

func testKeyChanges(t *testing.T, s *Store, spendSilent bool) {
	ctx := context.Background()
	logged := func(tokens ...string) []string {
		if spendSilent {
			return nil
		}
		return tokens
	}
	k := fullKey()
	k.KeyAlias = ""
	other := Key{Token: "other", KeyName: "sk-...othr"}
	steps := []struct {
		name  string
		write func() error
		want  []string // tokens appended
	}{
		{"create", func() error { return s.CreateKey(ctx, k) }, []string{k.Token}},
		{"create another", func() error { return s.CreateKey(ctx, other) }, []string{"other"}},
		{"read", func() error { _, err := s.GetKey(ctx, k.Token); return err }, nil},
		{"update", func() error { k.Blocked = false; return s.UpdateKey(ctx, k) }, []string{k.Token}},
		{"spend log", func() error {
			return s.InsertSpendLogs(ctx, []SpendLog{{RequestID: "r1", APIKey: k.Token, Spend: 0.5, StartTime: t0, EndTime: t0, Status: StatusSuccess}})
		}, logged(k.Token)},
		{"set spend", func() error { return s.SetKeySpend(ctx, k.Token, 0) }, []string{k.Token}},
		{"reset spend", func() error { _, err := s.ResetKeySpend(ctx, k.Token, t0, nil); return err }, []string{k.Token}},
		{"regenerate", func() error { return s.RegenerateKey(ctx, k.Token, "new", "sk-...new0") }, []string{k.Token, "new"}},
		{"delete", func() error { _, err := s.DeleteKeys(ctx, []string{"new", "other"}); return err }, []string{"new", "other"}},
		{"delete nothing", func() error { _, err := s.DeleteKeys(ctx, []string{"absent"}); return err }, nil},
	}
	seq, err := s.LastKeyChange(ctx)
	if err != nil || seq != 0 {
		t.Fatalf("LastKeyChange on a new store = %d, %v", seq, err)
	}
	for _, st := range steps {
		if err := st.write(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		got, err := s.KeyChanges(ctx, seq, 100)
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		var tokens []string
		for i, c := range got {
			if c.Seq != seq+int64(i)+1 {
				t.Errorf("%s: seq %d, want %d", st.name, c.Seq, seq+int64(i)+1)
			}
			tokens = append(tokens, c.Token)
		}
		if !slices.Equal(tokens, st.want) {
			t.Errorf("%s: changes %q, want %q", st.name, tokens, st.want)
		}
		if len(got) > 0 {
			seq = got[len(got)-1].Seq
		}
		if last, err := s.LastKeyChange(ctx); err != nil || last != seq {
			t.Errorf("%s: LastKeyChange = %d, %v; want %d", st.name, last, err, seq)
		}
	}
	if got, err := s.KeyChanges(ctx, 0, 3); err != nil || len(got) != 3 || got[0].Seq != 1 {
		t.Errorf("KeyChanges limit 3 = %v, %v", got, err)
	}
	n, err := s.PruneKeyChanges(ctx, time.Now().Add(time.Minute))
	if err != nil || n != seq-1 {
		t.Fatalf("PruneKeyChanges = %d, %v; want %d (all but the latest)", n, err, seq-1)
	}
	// A reader that had not seen them finds a gap before the latest.
	if got, err := s.KeyChanges(ctx, 0, 10); err != nil || len(got) != 1 || got[0].Seq != seq {
		t.Errorf("after pruning: %v, %v; want only the change at %d", got, err, seq)
	}
	if err := s.CreateKey(ctx, other); err != nil {
		t.Fatal(err)
	}
	// The next change follows on: a reader that was up to date sees no gap.
	if got, err := s.KeyChanges(ctx, seq, 10); err != nil || len(got) != 1 || got[0].Seq != seq+1 {
		t.Errorf("after pruning: %v, %v; want one change at %d", got, err, seq+1)
	}
}

// A row logged under a regenerated key's old token, by a process that had not seen the change,
// counts towards the key and is filed under its current token, through any number of renames.
func TestSpendLogUnderOldToken(t *testing.T) { onBoth(t, testSpendLogUnderOldToken) }

func testSpendLogUnderOldToken(t *testing.T, s *Store) {
	ctx := context.Background()
	if err := s.CreateKey(ctx, Key{Token: "a", KeyName: "sk-...aaaa"}); err != nil {
		t.Fatal(err)
	}
	row := func(id, token string) SpendLog {
		return SpendLog{RequestID: id, APIKey: token, Spend: 0.25, StartTime: t0, EndTime: t0, Status: StatusSuccess}
	}
	steps := []struct {
		name         string
		regenerate   [2]string // old, new; empty: none
		log          SpendLog
		wantToken    string
		key          string // the key's token now
		wantKeySpend float64
	}{
		{"current token", [2]string{}, row("r1", "a"), "a", "a", 0.25},
		{"after one regenerate", [2]string{"a", "b"}, row("r2", "a"), "b", "b", 0.5},
		{"after two, under the first", [2]string{"b", "c"}, row("r3", "a"), "c", "c", 0.75},
		{"after two, under the second", [2]string{}, row("r4", "b"), "c", "c", 1},
		{"unknown token", [2]string{}, row("r5", "zz"), "zz", "c", 1},
	}
	for _, st := range steps {
		if st.regenerate[0] != "" {
			if err := s.RegenerateKey(ctx, st.regenerate[0], st.regenerate[1], "sk-..."+st.regenerate[1]); err != nil {
				t.Fatalf("%s: %v", st.name, err)
			}
		}
		if err := s.InsertSpendLogs(ctx, []SpendLog{st.log}); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		got, err := s.GetSpendLog(ctx, st.log.RequestID)
		if err != nil || got.APIKey != st.wantToken {
			t.Errorf("%s: row filed under %q (%v), want %q", st.name, got.APIKey, err, st.wantToken)
		}
		k, err := s.GetKey(ctx, st.key)
		if err != nil || k.Spend != st.wantKeySpend {
			t.Errorf("%s: key spend %v (%v), want %v", st.name, k.Spend, err, st.wantKeySpend)
		}
	}
}

// A Store tells its own changes from those another Store (another process) made to the same file.
func TestKeyChangesOwn(t *testing.T) { eachEngine(t, testKeyChangesOwn) }

func testKeyChangesOwn(t *testing.T, e engine) {
	ctx := context.Background()
	path := e.target(t)
	open := func() *Store {
		s, err := Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	a, b := open(), open()
	steps := []struct {
		name  string
		write func() error
		by    *Store
		// spendOnly: a change of spend alone, which PostgreSQL does not log (its gateways read
		// budgets from the database; logging each settled request would serialise them).
		spendOnly bool
	}{
		{"a creates", func() error { return a.CreateKey(ctx, Key{Token: "k1"}) }, a, false},
		{"b creates", func() error { return b.CreateKey(ctx, Key{Token: "k2"}) }, b, false},
		{"a again", func() error { return a.SetKeySpend(ctx, "k2", 1) }, a, false},
		{"a logs spend", func() error {
			return a.InsertSpendLogs(ctx, []SpendLog{{RequestID: "r", APIKey: "k1", Spend: 1, StartTime: t0, EndTime: t0, Status: StatusSuccess}})
		}, a, true},
		{"b deletes", func() error { _, err := b.DeleteKeys(ctx, []string{"k1"}); return err }, b, false},
	}
	var seqA, seqB int64
	for _, st := range steps {
		if err := st.write(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		for _, r := range []struct {
			s   *Store
			seq *int64
		}{{a, &seqA}, {b, &seqB}} {
			got, err := r.s.KeyChanges(ctx, *r.seq, 10)
			if st.spendOnly && e == postgresEngine {
				if err != nil || len(got) != 0 {
					t.Fatalf("%s: %v, %v; want no change on PostgreSQL", st.name, got, err)
				}
				continue
			}
			if err != nil || len(got) != 1 {
				t.Fatalf("%s: %v, %v; want one change", st.name, got, err)
			}
			if want := r.s == st.by; got[0].Own != want {
				t.Errorf("%s: Own = %v for the %s store", st.name, got[0].Own, map[bool]string{true: "writing", false: "other"}[want])
			}
			*r.seq = got[0].Seq
		}
	}
}
