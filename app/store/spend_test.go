package store

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"testing"
	"time"
)

func mkLog(id, key string, spend float64, start time.Time) SpendLog {
	return SpendLog{
		RequestID: id, CallType: "acompletion", APIKey: key, Spend: spend,
		PromptTokens: 10, CompletionTokens: 5, TotalTokens: 15,
		StartTime: start, EndTime: start.Add(time.Second),
		Model: "claude-sonnet-4-5-20250929", ModelGroup: "claude-sonnet", Provider: "anthropic",
		Status: StatusSuccess,
	}
}

func keySpend(t testing.TB, s *Store, token string) float64 {
	t.Helper()
	k, err := s.GetKey(context.Background(), token)
	if err != nil {
		t.Fatal(err)
	}
	return k.Spend
}

func countLogs(t testing.TB, s *Store) int {
	t.Helper()
	_, n, err := s.QuerySpendLogs(context.Background(), SpendQuery{PageSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestSpendLogRoundTrip(t *testing.T) { onBoth(t, testSpendLogRoundTrip) }

func testSpendLogRoundTrip(t *testing.T, s *Store) {
	ctx := context.Background()
	full := SpendLog{
		RequestID: "chatcmpl-abc", CallType: "acompletion", APIKey: "hash", KeyAlias: "openclaw",
		Spend: 0.0123, Unpriced: false,
		PromptTokens: 1200, CompletionTokens: 340, TotalTokens: 1540,
		CacheReadTokens: 1000, CacheWriteTokens: 100, ReasoningTokens: 200,
		StartTime: t0, EndTime: t0.Add(2500 * time.Millisecond), CompletionStartTime: ptr(t0.Add(400 * time.Millisecond)),
		Model: "claude-sonnet-4-5-20250929", ModelGroup: "claude", ModelID: "dep-1", Provider: "anthropic",
		APIBase: "https://api.anthropic.com", User: "ishaan", EndUser: "openclaw-agent",
		Status: StatusFailure, Error: "upstream 529 overloaded", Fallbacks: 1, Retries: 2,
		Messages: []byte(`[{"role":"user","content":"hi"}]`), Response: []byte(`{"id":"chatcmpl-abc"}`),
		Metadata: map[string]any{"user_api_key_alias": "openclaw", "usage_object": map[string]any{"prompt_tokens": 1200.0}},
	}
	bare := SpendLog{RequestID: "bare", StartTime: t0, EndTime: t0, Unpriced: true, Status: StatusSuccess}
	if err := s.InsertSpendLogs(ctx, []SpendLog{full, bare}); err != nil {
		t.Fatal(err)
	}
	wantBare := bare
	wantBare.Metadata = map[string]any{}
	for _, want := range []SpendLog{full, wantBare} {
		got, err := s.GetSpendLog(ctx, want.RequestID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("round trip:\n got %+v\nwant %+v", got, want)
		}
	}
	// Lists leave the bodies out unless asked.
	for _, include := range []bool{false, true} {
		logs, _, err := s.QuerySpendLogs(ctx, SpendQuery{RequestID: full.RequestID, IncludeBodies: include})
		if err != nil || len(logs) != 1 {
			t.Fatalf("query: %v %v", logs, err)
		}
		if hasBodies := logs[0].Messages != nil && logs[0].Response != nil; hasBodies != include {
			t.Errorf("IncludeBodies=%v: bodies present = %v", include, hasBodies)
		}
	}
	if _, err := s.GetSpendLog(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("GetSpendLog(missing) = %v", err)
	}
}

func TestInsertSpendLogsIdempotent(t *testing.T) { onBoth(t, testInsertSpendLogsIdempotent) }

func testInsertSpendLogsIdempotent(t *testing.T, s *Store) {
	ctx := context.Background()
	for _, tok := range []string{"ka", "kb"} {
		if err := s.CreateKey(ctx, Key{Token: tok}); err != nil {
			t.Fatal(err)
		}
	}
	batch := []SpendLog{
		mkLog("r1", "ka", 0.5, t0),
		mkLog("r2", "ka", 0.25, t0.Add(time.Minute)),
		mkLog("r3", "kb", 2, t0),
		mkLog("r4", "unknown-key", 7, t0), // stored, charged to nobody
		mkLog("r5", "", 3, t0),            // no key (auth off)
		mkLog("r1", "ka", 0.5, t0),        // a duplicate inside the batch
	}
	for range 2 {
		if err := s.InsertSpendLogs(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	// A replay mixed with a new row counts only the new one.
	if err := s.InsertSpendLogs(ctx, []SpendLog{mkLog("r2", "ka", 0.25, t0), mkLog("r6", "ka", 0.125, t0)}); err != nil {
		t.Fatal(err)
	}
	if got := keySpend(t, s, "ka"); got != 0.875 {
		t.Errorf("ka spend = %v, want 0.875", got)
	}
	if got := keySpend(t, s, "kb"); got != 2 {
		t.Errorf("kb spend = %v, want 2", got)
	}
	if got := countLogs(t, s); got != 6 {
		t.Errorf("rows = %d, want 6", got)
	}
	for _, tok := range []string{"ka", "kb"} {
		if v, _ := s.KeySpendSince(ctx, tok, time.Time{}); v != keySpend(t, s, tok) {
			t.Errorf("%s: logs sum to %v, key spend %v", tok, v, keySpend(t, s, tok))
		}
	}
	if err := s.InsertSpendLogs(ctx, nil); err != nil {
		t.Errorf("empty batch: %v", err)
	}
}

// The logs and the key's spend commit together or not at all.
func TestInsertSpendLogsOneTransaction(t *testing.T) { onBoth(t, testInsertSpendLogsOneTransaction) }

func testInsertSpendLogsOneTransaction(t *testing.T, s *Store) {
	ctx := context.Background()
	if err := s.CreateKey(ctx, Key{Token: "k"}); err != nil {
		t.Fatal(err)
	}
	// Make one row fail inside the transaction, after the rows before it were inserted.
	boom := `CREATE TRIGGER boom BEFORE INSERT ON spend_logs
		WHEN NEW.request_id = 'boom' BEGIN SELECT RAISE(ABORT, 'boom'); END`
	if _, ok := s.d.(postgresDialect); ok {
		boom = `CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'boom'; END $$;
			CREATE TRIGGER boom BEFORE INSERT ON spend_logs FOR EACH ROW WHEN (NEW.request_id = 'boom') EXECUTE FUNCTION boom()`
	}
	if _, err := s.w.ExecContext(ctx, boom); err != nil {
		t.Fatal(err)
	}
	err := s.InsertSpendLogs(ctx, []SpendLog{mkLog("ok-1", "k", 1, t0), mkLog("boom", "k", 1, t0), mkLog("ok-2", "k", 1, t0)})
	if err == nil {
		t.Fatal("batch with a failing row succeeded")
	}
	if n := countLogs(t, s); n != 0 {
		t.Errorf("%d rows stored from a failed batch", n)
	}
	if got := keySpend(t, s, "k"); got != 0 {
		t.Errorf("key spend = %v after a failed batch", got)
	}
}

func TestInsertSpendLogsRejectsInvalid(t *testing.T) { onBoth(t, testInsertSpendLogsRejectsInvalid) }

func testInsertSpendLogsRejectsInvalid(t *testing.T, s *Store) {
	for _, c := range []struct {
		name string
		log  SpendLog
	}{
		{"no request id", SpendLog{StartTime: t0}},
		{"no start time", SpendLog{RequestID: "x"}},
		{"NaN spend", SpendLog{RequestID: "x", StartTime: t0, Spend: math.NaN()}},
		{"infinite spend", SpendLog{RequestID: "x", StartTime: t0, Spend: math.Inf(1)}},
		{"metadata not JSON", SpendLog{RequestID: "x", StartTime: t0, Metadata: map[string]any{"f": math.NaN()}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := s.InsertSpendLogs(context.Background(), []SpendLog{mkLog("good", "", 1, t0), c.log})
			if !errors.Is(err, ErrInvalidLog) {
				t.Fatalf("err = %v, want ErrInvalidLog", err)
			}
			if n := countLogs(t, s); n != 0 {
				t.Fatalf("%d rows stored", n)
			}
		})
	}
}

func TestQuerySpendLogs(t *testing.T) { onBoth(t, testQuerySpendLogs) }

func testQuerySpendLogs(t *testing.T, s *Store) {
	ctx := context.Background()
	// Ten rows a minute apart: r0 oldest. Even rows are key ka / user u1 / model gpt, odd ones kb / u2 /
	// claude; r7 failed; spend of ri is i/8.
	var logs []SpendLog
	for i := range 10 {
		l := mkLog(fmt.Sprintf("r%d", i), "ka", float64(i)/8, t0.Add(time.Duration(i)*time.Minute))
		l.User, l.Model, l.ModelGroup = "u1", "gpt-4o-2024-08-06", "gpt"
		if i%2 == 1 {
			l.APIKey, l.User, l.Model, l.ModelGroup = "kb", "u2", "claude-sonnet-4-5", "claude"
		}
		if i == 7 {
			l.Status = StatusFailure
		}
		logs = append(logs, l)
	}
	if err := s.InsertSpendLogs(ctx, logs); err != nil {
		t.Fatal(err)
	}
	at := func(i int) *time.Time { return ptr(t0.Add(time.Duration(i) * time.Minute)) }
	for _, c := range []struct {
		name  string
		q     SpendQuery
		want  []string
		total int
	}{
		{"all, newest first", SpendQuery{}, []string{"r9", "r8", "r7", "r6", "r5", "r4", "r3", "r2", "r1", "r0"}, 10},
		{"page 1", SpendQuery{Page: 1, PageSize: 4}, []string{"r9", "r8", "r7", "r6"}, 10},
		{"page 3", SpendQuery{Page: 3, PageSize: 4}, []string{"r1", "r0"}, 10},
		{"api key", SpendQuery{APIKey: "kb"}, []string{"r9", "r7", "r5", "r3", "r1"}, 5},
		{"user", SpendQuery{UserID: "u1", PageSize: 2}, []string{"r8", "r6"}, 5},
		{"request id", SpendQuery{RequestID: "r4"}, []string{"r4"}, 1},
		{"model group", SpendQuery{Model: "claude"}, []string{"r9", "r7", "r5", "r3", "r1"}, 5},
		{"model name", SpendQuery{Model: "gpt-4o-2024-08-06", PageSize: 1, Page: 5}, []string{"r0"}, 5},
		{"status", SpendQuery{Status: StatusFailure}, []string{"r7"}, 1},
		{"range is [start, end)", SpendQuery{Start: at(2), End: at(5)}, []string{"r4", "r3", "r2"}, 3},
		{"since", SpendQuery{Start: at(8)}, []string{"r9", "r8"}, 2},
		{"spend bounds inclusive", SpendQuery{MinSpend: ptr(0.25), MaxSpend: ptr(0.5)}, []string{"r4", "r3", "r2"}, 3},
		{"combined", SpendQuery{APIKey: "ka", Start: at(3), MinSpend: ptr(0.6)}, []string{"r8", "r6"}, 2},
		{"nothing", SpendQuery{APIKey: "kc"}, []string{}, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, total, err := s.QuerySpendLogs(ctx, c.q)
			if err != nil {
				t.Fatal(err)
			}
			ids := []string{}
			for _, l := range got {
				ids = append(ids, l.RequestID)
			}
			if !reflect.DeepEqual(ids, c.want) || total != c.total {
				t.Fatalf("got %v total %d, want %v total %d", ids, total, c.want, c.total)
			}
		})
	}
}

func TestTotalAndKeySpend(t *testing.T) { onBoth(t, testTotalAndKeySpend) }

func testTotalAndKeySpend(t *testing.T, s *Store) {
	ctx := context.Background()
	if err := s.InsertSpendLogs(ctx, []SpendLog{
		mkLog("a", "k1", 1, t0), mkLog("b", "k1", 2, t0.Add(time.Hour)), mkLog("c", "k2", 4, t0.Add(2*time.Hour)),
	}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		token string
		since time.Time
		want  float64
	}{
		{"all", "", time.Time{}, 7},
		{"since the second row", "", t0.Add(time.Hour), 6},
		{"after everything", "", t0.Add(3 * time.Hour), 0},
		{"k1 all", "k1", time.Time{}, 3},
		{"k1 since", "k1", t0.Add(time.Minute), 2},
		{"unknown key", "k9", time.Time{}, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			var got float64
			var err error
			if c.token == "" {
				got, err = s.TotalSpend(ctx, c.since)
			} else {
				got, err = s.KeySpendSince(ctx, c.token, c.since)
			}
			if err != nil || got != c.want {
				t.Fatalf("got %v, %v; want %v", got, err, c.want)
			}
		})
	}
}

func TestPruneSpendLogs(t *testing.T) { onBoth(t, testPruneSpendLogs) }

func testPruneSpendLogs(t *testing.T, s *Store) {
	ctx := context.Background()
	if err := s.CreateKey(ctx, Key{Token: "k"}); err != nil {
		t.Fatal(err)
	}
	// More old rows than one delete chunk, so the loop runs more than once.
	old := pruneChunk*2 + 17
	var logs []SpendLog
	for i := range old + 3 {
		start := t0.Add(time.Duration(i) * time.Millisecond)
		if i >= old {
			start = t0.Add(48 * time.Hour)
		}
		logs = append(logs, mkLog(fmt.Sprintf("r%d", i), "k", 1.0/1024, start))
	}
	if err := s.InsertSpendLogs(ctx, logs); err != nil {
		t.Fatal(err)
	}
	spendBefore := keySpend(t, s, "k")
	n, err := s.PruneSpendLogs(ctx, t0.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(old) {
		t.Errorf("pruned %d, want %d", n, old)
	}
	if got := countLogs(t, s); got != 3 {
		t.Errorf("%d rows left, want 3", got)
	}
	if got := keySpend(t, s, "k"); got != spendBefore {
		t.Errorf("pruning changed key spend from %v to %v", spendBefore, got)
	}
}
