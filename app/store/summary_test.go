package store

import (
	"context"
	"reflect"
	"testing"
	"time"
	_ "time/tzdata" // the DST cases need New York's rules wherever the tests run
)

func utc(day, hour, min int) time.Time { return time.Date(2026, 3, day, hour, min, 0, 0, time.UTC) }

// summaryFixture: six rows whose aggregates are worked out by hand in the test table.
func summaryFixture(t *testing.T, s *Store) *Store {
	t.Helper()
	row := func(id, key, alias, group, model, user, provider string, spend float64, start time.Time,
		prompt, completion, cacheRead, cacheWrite, reasoning int64) SpendLog {
		return SpendLog{RequestID: id, APIKey: key, KeyAlias: alias, ModelGroup: group, Model: model, User: user,
			Provider: provider, Spend: spend, StartTime: start, EndTime: start.Add(time.Second), Status: StatusSuccess,
			PromptTokens: prompt, CompletionTokens: completion, TotalTokens: prompt + completion,
			CacheReadTokens: cacheRead, CacheWriteTokens: cacheWrite, ReasoningTokens: reasoning}
	}
	logs := []SpendLog{
		row("a", "ka", "A", "gpt", "gpt-4o", "u1", "openai", 1.0, utc(1, 10, 0), 100, 50, 10, 0, 0),
		row("b", "ka", "A", "claude", "claude-sonnet-4-5", "u1", "anthropic", 0.5, utc(1, 23, 30), 200, 20, 0, 5, 3),
		row("c", "kb", "B", "gpt", "gpt-4o", "u2", "openai", 2.0, utc(2, 1, 0), 10, 0, 0, 0, 0),
		row("d", "kb", "B", "", "gemini-2.5-pro", "u2", "gemini", 0, utc(2, 12, 0), 40, 4, 0, 0, 0),
		row("e", "ka", "A", "claude", "claude-sonnet-4-5", "u1", "anthropic", 0.25, utc(3, 0, 0), 1, 1, 0, 0, 0),
		row("f", "ka", "A", "gpt", "gpt-4o", "u1", "openai", 8, time.Date(2026, 2, 28, 23, 59, 0, 0, time.UTC), 0, 0, 0, 0, 0),
	}
	logs[2].Status = StatusFailure
	logs[3].Unpriced = true
	if err := s.InsertSpendLogs(context.Background(), logs); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSpendSummary(t *testing.T) { onBoth(t, testSpendSummary) }

func testSpendSummary(t *testing.T, s *Store) {
	summaryFixture(t, s)
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	march := SummaryQuery{Start: utc(1, 0, 0), End: utc(4, 0, 0)}
	with := func(q SummaryQuery, f func(*SummaryQuery)) SummaryQuery { f(&q); return q }
	day1 := SpendGroup{Day: "2026-03-01", Spend: 1.5, Requests: 2, PromptTokens: 300, CompletionTokens: 70,
		TotalTokens: 370, CacheReadTokens: 10, CacheWriteTokens: 5, ReasoningTokens: 3}
	day2 := SpendGroup{Day: "2026-03-02", Spend: 2, Requests: 2, Failures: 1, Unpriced: 1, PromptTokens: 50,
		CompletionTokens: 4, TotalTokens: 54}
	day3 := SpendGroup{Day: "2026-03-03", Spend: 0.25, Requests: 1, PromptTokens: 1, CompletionTokens: 1, TotalTokens: 2}

	for _, c := range []struct {
		name string
		q    SummaryQuery
		want []SpendGroup
	}{
		{"total", march, []SpendGroup{{Spend: 3.75, Requests: 5, Failures: 1, Unpriced: 1, PromptTokens: 351,
			CompletionTokens: 75, TotalTokens: 426, CacheReadTokens: 10, CacheWriteTokens: 5, ReasoningTokens: 3}}},
		{"by day (UTC), row f before the range left out", with(march, func(q *SummaryQuery) { q.By = ByDay }),
			[]SpendGroup{day1, day2, day3}},
		{"by model, largest first; no model_group falls back to model", with(march, func(q *SummaryQuery) { q.By = ByModel }),
			[]SpendGroup{
				{Model: "gpt", Spend: 3, Requests: 2, Failures: 1, PromptTokens: 110, CompletionTokens: 50, TotalTokens: 160, CacheReadTokens: 10},
				{Model: "claude", Spend: 0.75, Requests: 2, PromptTokens: 201, CompletionTokens: 21, TotalTokens: 222, CacheWriteTokens: 5, ReasoningTokens: 3},
				{Model: "gemini-2.5-pro", Requests: 1, Unpriced: 1, PromptTokens: 40, CompletionTokens: 4, TotalTokens: 44},
			}},
		{"by key", with(march, func(q *SummaryQuery) { q.By = ByKey }), []SpendGroup{
			{APIKey: "kb", KeyAlias: "B", Spend: 2, Requests: 2, Failures: 1, Unpriced: 1, PromptTokens: 50, CompletionTokens: 4, TotalTokens: 54},
			{APIKey: "ka", KeyAlias: "A", Spend: 1.75, Requests: 3, PromptTokens: 301, CompletionTokens: 71, TotalTokens: 372, CacheReadTokens: 10, CacheWriteTokens: 5, ReasoningTokens: 3},
		}},
		{"by user and provider", with(march, func(q *SummaryQuery) { q.By = ByUser | ByProvider }), []SpendGroup{
			{User: "u2", Provider: "openai", Spend: 2, Requests: 1, Failures: 1, PromptTokens: 10, TotalTokens: 10},
			{User: "u1", Provider: "openai", Spend: 1, Requests: 1, PromptTokens: 100, CompletionTokens: 50, TotalTokens: 150, CacheReadTokens: 10},
			{User: "u1", Provider: "anthropic", Spend: 0.75, Requests: 2, PromptTokens: 201, CompletionTokens: 21, TotalTokens: 222, CacheWriteTokens: 5, ReasoningTokens: 3},
			{User: "u2", Provider: "gemini", Requests: 1, Unpriced: 1, PromptTokens: 40, CompletionTokens: 4, TotalTokens: 44},
		}},
		{"by day and model", with(march, func(q *SummaryQuery) { q.By = ByDay | ByModel }), []SpendGroup{
			{Day: "2026-03-01", Model: "gpt", Spend: 1, Requests: 1, PromptTokens: 100, CompletionTokens: 50, TotalTokens: 150, CacheReadTokens: 10},
			{Day: "2026-03-01", Model: "claude", Spend: 0.5, Requests: 1, PromptTokens: 200, CompletionTokens: 20, TotalTokens: 220, CacheWriteTokens: 5, ReasoningTokens: 3},
			{Day: "2026-03-02", Model: "gpt", Spend: 2, Requests: 1, Failures: 1, PromptTokens: 10, TotalTokens: 10},
			{Day: "2026-03-02", Model: "gemini-2.5-pro", Requests: 1, Unpriced: 1, PromptTokens: 40, CompletionTokens: 4, TotalTokens: 44},
			{Day: "2026-03-03", Model: "claude", Spend: 0.25, Requests: 1, PromptTokens: 1, CompletionTokens: 1, TotalTokens: 2},
		}},
		{"by day for one key", with(march, func(q *SummaryQuery) { q.By, q.APIKey = ByDay|ByKey, "ka" }), []SpendGroup{
			{Day: "2026-03-01", APIKey: "ka", KeyAlias: "A", Spend: 1.5, Requests: 2, PromptTokens: 300, CompletionTokens: 70, TotalTokens: 370, CacheReadTokens: 10, CacheWriteTokens: 5, ReasoningTokens: 3},
			{Day: "2026-03-03", APIKey: "ka", KeyAlias: "A", Spend: 0.25, Requests: 1, PromptTokens: 1, CompletionTokens: 1, TotalTokens: 2},
		}},
		{"by day for one user", with(march, func(q *SummaryQuery) { q.By, q.UserID = ByDay, "u2" }), []SpendGroup{day2}},
		// In New York (UTC-5 then) b, c fall on March 1 and e on March 2.
		{"by day in New York", with(march, func(q *SummaryQuery) { q.By, q.Location = ByDay, ny }), []SpendGroup{
			{Day: "2026-03-01", Spend: 3.5, Requests: 3, Failures: 1, PromptTokens: 310, CompletionTokens: 70, TotalTokens: 380, CacheReadTokens: 10, CacheWriteTokens: 5, ReasoningTokens: 3},
			{Day: "2026-03-02", Spend: 0.25, Requests: 2, Unpriced: 1, PromptTokens: 41, CompletionTokens: 5, TotalTokens: 46},
		}},
		{"zero bounds take every row", SummaryQuery{}, []SpendGroup{{Spend: 11.75, Requests: 6, Failures: 1, Unpriced: 1,
			PromptTokens: 351, CompletionTokens: 75, TotalTokens: 426, CacheReadTokens: 10, CacheWriteTokens: 5, ReasoningTokens: 3}}},
		{"zero bounds by day", SummaryQuery{By: ByDay, APIKey: "ka"}, []SpendGroup{
			{Day: "2026-02-28", Spend: 8, Requests: 1},
			{Day: "2026-03-01", Spend: 1.5, Requests: 2, PromptTokens: 300, CompletionTokens: 70, TotalTokens: 370, CacheReadTokens: 10, CacheWriteTokens: 5, ReasoningTokens: 3},
			{Day: "2026-03-03", Spend: 0.25, Requests: 1, PromptTokens: 1, CompletionTokens: 1, TotalTokens: 2},
		}},
		{"empty range", SummaryQuery{Start: utc(10, 0, 0), End: utc(11, 0, 0), By: ByDay | ByModel}, []SpendGroup{}},
		{"empty range, no grouping", SummaryQuery{Start: utc(10, 0, 0), End: utc(11, 0, 0)}, []SpendGroup{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := s.SpendSummary(context.Background(), c.q)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("\n got %+v\nwant %+v", got, c.want)
			}
		})
	}
}

// Days follow the time zone's rules: New York's 2026-03-08 is 23 hours long and 2026-11-01 is 25.
func TestSpendSummaryDST(t *testing.T) { onBoth(t, testSpendSummaryDST) }

func testSpendSummaryDST(t *testing.T, s *Store) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	logs := []SpendLog{
		mkLog("sat-late", "k", 1, utc(8, 4, 59)),                                 // 03-07 23:59 EST
		mkLog("sun-early", "k", 2, utc(8, 5, 0)),                                 // 03-08 00:00 EST
		mkLog("sun-late", "k", 4, utc(9, 3, 59)),                                 // 03-08 23:59 EDT
		mkLog("mon-early", "k", 8, utc(9, 4, 30)),                                // 03-09 00:30 EDT; a fixed -5h offset would say 03-08
		mkLog("nov-edt", "k", 16, time.Date(2026, 11, 1, 5, 30, 0, 0, time.UTC)), // 11-01 01:30 EDT
		mkLog("nov-est", "k", 32, time.Date(2026, 11, 2, 4, 30, 0, 0, time.UTC)), // 11-01 23:30 EST; -4h would say 11-02
	}
	if err := s.InsertSpendLogs(context.Background(), logs); err != nil {
		t.Fatal(err)
	}
	got, err := s.SpendSummary(context.Background(), SummaryQuery{
		Start: time.Date(2026, 1, 1, 0, 0, 0, 0, ny), End: time.Date(2027, 1, 1, 0, 0, 0, 0, ny), By: ByDay, Location: ny})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{"2026-03-07": 1, "2026-03-08": 6, "2026-03-09": 8, "2026-11-01": 48}
	gotm := map[string]float64{}
	for _, g := range got {
		gotm[g.Day] = g.Spend
	}
	if !reflect.DeepEqual(gotm, want) {
		t.Fatalf("by day = %v, want %v", gotm, want)
	}
}
