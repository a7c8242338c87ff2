package store

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// requestRows stores twelve rows: r00..r11, a minute apart except r04/r05/r06 which share one
// start time (ties broken by request_id). Rows alternate model gpt/claude and key ka/kb; every
// third fails; r07 carries a tag and r09 an end user.
func requestRows(t *testing.T, s *Store) *Store {
	t.Helper()
	var logs []SpendLog
	for i := range 12 {
		at := t0.Add(time.Duration(i) * time.Minute)
		if i == 5 || i == 6 {
			at = t0.Add(4 * time.Minute)
		}
		l := mkLog(fmt.Sprintf("r%02d", i), "", 0.01, at)
		l.KeyAlias, l.ModelGroup, l.Model = "ka", "gpt", "gpt-4o-2024"
		if i%2 == 1 {
			l.KeyAlias, l.ModelGroup, l.Model = "kb", "claude", "claude-sonnet-x"
		}
		if i%3 == 0 {
			l.Status, l.Error = StatusFailure, fmt.Sprintf("upstream 50%d overloaded", i%10)
		}
		if i == 7 {
			l.Metadata = map[string]any{"tags": []any{"Nightly_Batch"}}
		}
		if i == 9 {
			l.EndUser = "alice@example.com"
		}
		logs = append(logs, l)
	}
	if err := s.InsertSpendLogs(context.Background(), logs); err != nil {
		t.Fatal(err)
	}
	return s
}

func ids(logs []SpendLog) []string {
	out := []string{}
	for _, l := range logs {
		out = append(out, l.RequestID)
	}
	return out
}

func TestPageSpendLogsFilters(t *testing.T) { onBoth(t, testPageSpendLogsFilters) }

func testPageSpendLogsFilters(t *testing.T, s *Store) {
	requestRows(t, s)
	tests := []struct {
		name string
		q    RequestQuery
		want string
	}{
		{"all, newest first, ties by id", RequestQuery{}, "r11 r10 r09 r08 r07 r06 r05 r04 r03 r02 r01 r00"},
		{"model group", RequestQuery{Model: "claude"}, "r11 r09 r07 r05 r03 r01"},
		{"upstream model", RequestQuery{Model: "gpt-4o-2024"}, "r10 r08 r06 r04 r02 r00"},
		{"key", RequestQuery{KeyAlias: "ka", Status: StatusFailure}, "r06 r00"},
		{"status", RequestQuery{Status: StatusFailure}, "r09 r06 r03 r00"},
		{"date range half open", RequestQuery{Since: t0.Add(2 * time.Minute), Until: t0.Add(4 * time.Minute)}, "r03 r02"},
		{"range over a tie", RequestQuery{Since: t0.Add(4 * time.Minute), Until: t0.Add(5 * time.Minute)}, "r06 r05 r04"},
		{"text in request id", RequestQuery{Text: "r1"}, "r11 r10"},
		{"text in error, any case", RequestQuery{Text: "OVERLOADED", KeyAlias: "kb"}, "r09 r03"},
		{"text in upstream model", RequestQuery{Text: "sonnet-x", Since: t0.Add(9 * time.Minute)}, "r11 r09"},
		{"text in tags", RequestQuery{Text: "nightly_b"}, "r07"},
		{"text in end user", RequestQuery{Text: "alice"}, "r09"},
		{"text in key alias", RequestQuery{Text: "KB", Since: t0.Add(8 * time.Minute)}, "r11 r09"},
		{"LIKE wildcards are literal", RequestQuery{Text: "r_1"}, ""},
		{"percent is literal", RequestQuery{Text: "%"}, ""},
		{"nothing matches", RequestQuery{Model: "nope"}, ""},
		{"quotes in the text", RequestQuery{Text: `he said "r0"`}, ""},
		{"text split over two columns is no match", RequestQuery{Text: "gptgpt-4o"}, ""},
		{"limit", RequestQuery{Limit: 2, Status: StatusSuccess}, "r11 r10"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.PageSpendLogs(context.Background(), tt.q)
			if err != nil {
				t.Fatal(err)
			}
			if g := strings.Join(ids(got), " "); g != tt.want {
				t.Errorf("got %q, want %q", g, tt.want)
			}
		})
	}
}

// TestPageSpendLogsKeyset walks every page forward then back with pages that split the tied
// rows, and checks that each row appears exactly once and the pages past either end are empty.
func TestPageSpendLogsKeyset(t *testing.T) { onBoth(t, testPageSpendLogsKeyset) }

func testPageSpendLogsKeyset(t *testing.T, s *Store) {
	requestRows(t, s)
	ctx := context.Background()
	for _, size := range []int{1, 2, 5, 12, 20} {
		t.Run(fmt.Sprint("size ", size), func(t *testing.T) {
			var pages [][]string
			q := RequestQuery{Limit: size}
			for {
				p, err := s.PageSpendLogs(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				if len(p) == 0 {
					break
				}
				pages = append(pages, ids(p))
				q.After, q.Before = CursorOf(p[len(p)-1]), nil
			}
			var all []string
			for _, p := range pages {
				all = append(all, p...)
			}
			if g := strings.Join(all, " "); g != "r11 r10 r09 r08 r07 r06 r05 r04 r03 r02 r01 r00" {
				t.Fatalf("forward: %q", g)
			}
			// Back from the last page: Before the first row of page i gives page i-1.
			for i := len(pages) - 1; i > 0; i-- {
				p, err := s.PageSpendLogs(ctx, RequestQuery{Limit: size, Before: &Cursor{RequestID: pages[i][0],
					Start: startOf(t, s, pages[i][0])}})
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(ids(p), pages[i-1]) {
					t.Errorf("back from page %d: %v, want %v", i, ids(p), pages[i-1])
				}
			}
			p, err := s.PageSpendLogs(ctx, RequestQuery{Limit: size, Before: &Cursor{RequestID: "r11", Start: startOf(t, s, "r11")}})
			if err != nil || len(p) != 0 {
				t.Errorf("before the newest row: %v, %v; want an empty page", ids(p), err)
			}
		})
	}
}

func startOf(t *testing.T, s *Store, id string) time.Time {
	t.Helper()
	l, err := s.GetSpendLog(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return l.StartTime
}

func TestEachSpendLogStopsOnError(t *testing.T) { onBoth(t, testEachSpendLogStopsOnError) }

func testEachSpendLogStopsOnError(t *testing.T, s *Store) {
	requestRows(t, s)
	stop := fmt.Errorf("enough")
	n := 0
	err := s.EachSpendLog(context.Background(), RequestQuery{}, func(SpendLog) error {
		n++
		if n == 3 {
			return stop
		}
		return nil
	})
	if err != stop || n != 3 {
		t.Errorf("err %v after %d rows; want the callback's error after 3", err, n)
	}
}

// TestRollupMatchesRows checks that the Overview's rollup answers what the rows do, through
// inserts, a key regeneration (rows re-keyed) and pruning.
func TestRollupMatchesRows(t *testing.T) { onBoth(t, testRollupMatchesRows) }

func testRollupMatchesRows(t *testing.T, s *Store) {
	ctx := context.Background()
	if err := s.CreateKey(ctx, Key{Token: "old", KeyAlias: "oc"}); err != nil {
		t.Fatal(err)
	}
	var logs []SpendLog
	for i := range 200 {
		l := mkLog(fmt.Sprintf("r%d", i), []string{"old", "", "other"}[i%3], float64(i%7)/100, t0.Add(time.Duration(i)*7*time.Minute))
		if i%5 == 0 {
			l.ModelGroup = ""
			l.Status = StatusFailure
		}
		logs = append(logs, l)
	}
	if err := s.InsertSpendLogs(ctx, logs); err != nil {
		t.Fatal(err)
	}
	compare := func(step string) {
		t.Helper()
		for _, zone := range []string{"UTC", "Asia/Kolkata", "America/New_York", "Asia/Kathmandu"} {
			loc, err := time.LoadLocation(zone)
			if err != nil {
				t.Fatal(err)
			}
			compareIn(t, s, step, time.Date(2026, 3, 13, 0, 0, 0, 0, loc))
		}
	}
	compare("after insert")
	if err := s.RegenerateKey(ctx, "old", "new", "sk-...new"); err != nil {
		t.Fatal(err)
	}
	compare("after regenerate")
	if _, err := s.PruneSpendLogs(ctx, t0.Add(5*time.Hour)); err != nil {
		t.Fatal(err)
	}
	compare("after prune")
}

// compareIn checks the rollup against the rows over three local days from day.
func compareIn(t *testing.T, s *Store, step string, day time.Time) {
	t.Helper()
	ctx := context.Background()
	for _, by := range []GroupBy{ByDay | ByModel, ByKey, ByDay | ByKey, ByModel, ByDay, 0} {
		q := SummaryQuery{Start: day, End: day.AddDate(0, 0, 3), By: by, Location: day.Location()}
		// A zone at :45 has its midnights off the buckets' edges: the rows answer, as they must.
		if served := rollupServes(q, q.Start, q.End); served != (day.Location().String() != "Asia/Kathmandu") {
			t.Fatalf("%v: rollup used: %v", day.Location(), served)
		}
		fromRollup, err := s.SpendSummary(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		q.End = q.End.Add(time.Microsecond) // off a bucket edge: read from the rows
		fromRows, err := s.SpendSummary(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if len(fromRows) == 0 || !reflect.DeepEqual(round(fromRollup), round(fromRows)) {
			t.Errorf("%s, %v, by %b: rollup %+v\nrows %+v", step, day.Location(), by, fromRollup, fromRows)
		}
	}
}

// round cuts float noise from summing in another order.
func round(gs []SpendGroup) []SpendGroup {
	out := append([]SpendGroup(nil), gs...)
	for i := range out {
		out[i].Spend = float64(int64(out[i].Spend*1e9+0.5)) / 1e9
	}
	return out
}

// A text search's page is the same whether the newest rows fill it (the LIKE window) or the
// trigram index has to be asked, with cursors too.
func TestTextSearchWindowAndIndex(t *testing.T) { onBoth(t, testTextSearchWindowAndIndex) }

func testTextSearchWindowAndIndex(t *testing.T, s *Store) {
	requestRows(t, s)
	for _, window := range []int{1, 3, 5000} {
		prev := textWindow
		textWindow = window
		t.Cleanup(func() { textWindow = prev })
		for _, tt := range []struct {
			q    RequestQuery
			want string
		}{
			{RequestQuery{Text: "overloaded", Limit: 2}, "r09 r06"},
			{RequestQuery{Text: "overloaded", Limit: 2, After: &Cursor{Start: t0.Add(4 * time.Minute), RequestID: "r06"}}, "r03 r00"},
			{RequestQuery{Text: "overloaded", Limit: 2, Before: &Cursor{Start: t0.Add(3 * time.Minute), RequestID: "r03"}}, "r09 r06"},
			{RequestQuery{Text: "claude", KeyAlias: "kb", Limit: 4}, "r11 r09 r07 r05"},
			{RequestQuery{Text: "nightly", Limit: 5}, "r07"},
		} {
			got, err := s.PageSpendLogs(context.Background(), tt.q)
			if err != nil {
				t.Fatal(err)
			}
			if g := strings.Join(ids(got), " "); g != tt.want {
				t.Errorf("window %d, %+v: %q, want %q", window, tt.q, g, tt.want)
			}
		}
	}
}
