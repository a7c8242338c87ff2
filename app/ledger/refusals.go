package ledger

import (
	"sync"
	"time"

	"github.com/clawgate/clawgate/app/store"
)

// refusalWindow is how long identical refusals of one key fold into one spend-log row: a client
// stuck in a retry loop writes a row per window, not a row per request.
const refusalWindow = 5 * time.Second

// maxPendingRefusals bounds the rows held open; past it, refusals are written one by one.
const maxPendingRefusals = 10_000

// refusals folds identical refusals (same key, model, kind of refusal and status) into one
// failure row with a count (metadata "count"), written when its window ends or at Flush.
type refusals struct {
	window time.Duration
	write  func(store.SpendLog)

	mu      sync.Mutex
	pending map[refusalKey]*pendingRefusal
}

type refusalKey struct {
	key, model, kind string
	status           any
}

type pendingRefusal struct {
	row   store.SpendLog
	count int
	timer *time.Timer
}

func newRefusals(window time.Duration, write func(store.SpendLog)) *refusals {
	return &refusals{window: window, write: write, pending: map[refusalKey]*pendingRefusal{}}
}

// add counts a refusal: the first of its kind opens a row, the next ones within the window
// add to its count and move its end time.
func (r *refusals) add(row store.SpendLog) {
	k := refusalKey{key: row.APIKey, model: row.ModelGroup, kind: row.Error, status: row.Metadata["status_code"]}
	if kind, _ := row.Metadata["refusal"].(string); kind != "" {
		k.kind = kind // budget messages carry amounts that change; the kind of refusal does not
	}
	r.mu.Lock()
	if p := r.pending[k]; p != nil {
		p.count++
		p.row.EndTime, p.row.Error = row.EndTime, row.Error
		r.mu.Unlock()
		return
	}
	if len(r.pending) >= maxPendingRefusals {
		r.mu.Unlock()
		r.write(counted(row, 1))
		return
	}
	p := &pendingRefusal{row: row, count: 1}
	r.pending[k] = p
	p.timer = time.AfterFunc(r.window, func() { r.close(k, p) })
	r.mu.Unlock()
}

// close writes one pending row, once.
func (r *refusals) close(k refusalKey, p *pendingRefusal) {
	r.mu.Lock()
	if r.pending[k] != p {
		r.mu.Unlock()
		return
	}
	delete(r.pending, k)
	row := counted(p.row, p.count)
	r.mu.Unlock()
	r.write(row)
}

// flush writes every pending row now (Flush, Close).
func (r *refusals) flush() {
	r.mu.Lock()
	rows := make([]store.SpendLog, 0, len(r.pending))
	for k, p := range r.pending {
		p.timer.Stop()
		rows = append(rows, counted(p.row, p.count))
		delete(r.pending, k)
	}
	r.mu.Unlock()
	for _, row := range rows {
		r.write(row)
	}
}

func counted(row store.SpendLog, n int) store.SpendLog {
	md := make(map[string]any, len(row.Metadata)+1)
	for k, v := range row.Metadata {
		md[k] = v
	}
	md["count"] = n
	row.Metadata = md
	return row
}

// newID is the row id of a refusal the gateway gave no call id (a key refused at auth).
func newID() string { return randomID("refused-") }
