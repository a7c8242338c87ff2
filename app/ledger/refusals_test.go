package ledger

import (
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/clawgate/clawgate/app/store"
)

// Identical refusals of a key within the window are one row with a count; another key, model or
// kind of refusal is another row; a row is written when its window ends or at flush.
func TestRefusalsFold(t *testing.T) {
	rows := make(chan store.SpendLog, 100)
	r := newRefusals(50*time.Millisecond, func(row store.SpendLog) { rows <- row })
	refusal := func(key, model, kind, msg string) store.SpendLog {
		return store.SpendLog{RequestID: "r-" + msg, APIKey: key, ModelGroup: model, Error: msg, Status: store.StatusFailure,
			Metadata: map[string]any{"status_code": 429, "refusal": kind}}
	}
	for i := range 5 {
		// Budget messages change with the amounts; the kind of refusal is what is compared.
		r.add(refusal("k1", "m", "budget_exceeded", fmt.Sprint("spent ", i)))
	}
	r.add(refusal("k1", "other", "budget_exceeded", "x"))
	r.add(refusal("k2", "m", "budget_exceeded", "x"))
	r.add(refusal("k1", "m", "rate_limit_error", "x"))
	r.flush()
	var got []string
	for range 4 {
		row := <-rows
		got = append(got, fmt.Sprintf("%s/%s/%v=%v %s", row.APIKey, row.ModelGroup, row.Metadata["refusal"], row.Metadata["count"], row.Error))
	}
	sort.Strings(got)
	want := "[k1/m/budget_exceeded=5 spent 4 k1/m/rate_limit_error=1 x k1/other/budget_exceeded=1 x k2/m/budget_exceeded=1 x]"
	if fmt.Sprint(got) != want {
		t.Errorf("rows %v\nwant %v", got, want)
	}
	// Without a flush, the window's end writes the row; the next refusal opens a new one.
	r.add(refusal("k1", "m", "budget_exceeded", "a"))
	r.add(refusal("k1", "m", "budget_exceeded", "b"))
	select {
	case row := <-rows:
		if row.Metadata["count"] != 2 {
			t.Errorf("count %v, want 2", row.Metadata["count"])
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the row was not written when its window ended")
	}
	r.add(refusal("k1", "m", "budget_exceeded", "c"))
	r.flush()
	if row := <-rows; row.Metadata["count"] != 1 || row.Error != "c" {
		t.Errorf("after the window: %+v", row)
	}
	r.mu.Lock()
	pending := len(r.pending)
	r.mu.Unlock()
	if len(rows) != 0 || pending != 0 {
		t.Errorf("%d rows and %d pending left", len(rows), pending)
	}
}
