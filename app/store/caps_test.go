package store

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestClipString(t *testing.T) {
	tests := []struct {
		name string
		in   string
		n    int
	}{
		{"short", "ana", 512},
		{"exact", strings.Repeat("a", 512), 512},
		{"long", strings.Repeat("a", 5<<20), 512},
		{"multibyte", strings.Repeat("é", 1000), 512},
		{"tiny cap", strings.Repeat("x", 100), 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := clipString(tt.in, tt.n)
			if len(tt.in) <= tt.n {
				if got != tt.in {
					t.Errorf("changed a string within the cap: %q", got)
				}
				return
			}
			if len(got) > tt.n+32 || !utf8.ValidString(got) || !strings.Contains(got, "bytes cut]") {
				t.Errorf("clipped to %d bytes (valid UTF-8 %v): %.80q", len(got), utf8.ValidString(got), got)
			}
		})
	}
}

func TestClipMetadata(t *testing.T) {
	small := map[string]any{"call_id": "c", "status_code": 200.0, "stream": true}
	if got := clipMetadata(small, maxMetadata); len(got) != 3 {
		t.Errorf("small metadata changed: %v", got)
	}
	big := map[string]any{"call_id": "c", "status_code": 200.0, "huge": strings.Repeat("x", 1<<20), "tags": []any{strings.Repeat("y", 40<<10)}}
	got := clipMetadata(big, maxMetadata)
	b, _ := json.Marshal(got)
	if len(b) > maxMetadata || got["call_id"] != "c" || got["status_code"] != 200.0 || got["huge"] != nil || got["tags"] != nil ||
		!strings.Contains(got["clawgate_dropped"].(string), "huge") {
		t.Errorf("clipped metadata (%d bytes): %.300s", len(b), b)
	}
}

// TestOversizedFieldsCapped: a row with a 5 MB user, model name, error and metadata takes a few
// kilobytes on disk, and says what was cut.
func TestOversizedFieldsCapped(t *testing.T) { onBoth(t, testOversizedFieldsCapped) }

func testOversizedFieldsCapped(t *testing.T, s *Store) {
	ctx := context.Background()
	huge := strings.Repeat("u", 5<<20)
	var logs []SpendLog
	for i := range 6 {
		l := mkLog(newID(i), "", 0, t0)
		l.EndUser, l.User, l.Model, l.ModelGroup, l.Error, l.ResponseID = huge, huge, huge, huge, huge, huge
		l.Metadata = map[string]any{"spend_logs_metadata": huge, "call_id": newID(i)}
		logs = append(logs, l)
	}
	if err := s.InsertSpendLogs(ctx, logs); err != nil {
		t.Fatal(err)
	}
	var stored int64
	if err := s.r.QueryRowContext(ctx, `SELECT SUM(length(end_user) + length(user_id) + length(model) + length(model_group)
		+ length(error) + length(response_id) + length(metadata)) FROM spend_logs`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if stored > 6*(6*(maxNameLen+32)+maxErrorLen+maxMetadata) {
		t.Errorf("6 rows store %d bytes of capped fields", stored)
	}
	l, err := s.GetSpendLog(ctx, newID(0))
	if err != nil || !strings.HasPrefix(l.EndUser, "uuu") || !strings.Contains(l.EndUser, "bytes cut]") || l.Metadata["call_id"] != newID(0) {
		t.Errorf("row: end_user %.40q… metadata %v, %v", l.EndUser, l.Metadata, err)
	}
}
