package ledger

import (
	"context"
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/clawgate/clawgate/app/store"
	"github.com/clawgate/clawgate/internal/pgtest"
)

// cuttable forwards TCP connections to a PostgreSQL server until cut: then it drops every open
// connection and refuses new ones, as a database that went away does, until restored.
type cuttable struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	down   bool
	conns  []net.Conn
}

func newCuttable(t *testing.T, target string) *cuttable {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &cuttable{ln: ln, target: target}
	t.Cleanup(func() { ln.Close(); c.cut() })
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			c.mu.Lock()
			down := c.down
			c.mu.Unlock()
			if down {
				in.Close()
				continue
			}
			out, err := net.Dial("tcp", target)
			if err != nil {
				in.Close()
				continue
			}
			c.mu.Lock()
			c.conns = append(c.conns, in, out)
			c.mu.Unlock()
			go func() { io.Copy(out, in); out.Close() }()
			go func() { io.Copy(in, out); in.Close() }()
		}
	}()
	return c
}

func (c *cuttable) cut() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.down = true
	for _, conn := range c.conns {
		conn.Close()
	}
	c.conns = nil
}

func (c *cuttable) restore() {
	c.mu.Lock()
	c.down = false
	c.mu.Unlock()
}

// The database going away for a while: a budgeted key is refused with a clear 503 (never served
// unmetered), an unbudgeted one is served (nothing could refuse it), rows not yet written stay in
// memory, and once the database is back every answered request is logged and counted, and budgets
// work again.
func TestPostgresOutage(t *testing.T) {
	u, err := url.Parse(pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	db := newCuttable(t, u.Host)
	u.Host = db.ln.Addr().String()
	e := newEnv(t, withDatabase(u.String()))
	budgeted, token := e.generate(`{"max_budget": 5}`)
	free, freeToken := e.generate(`{}`)
	answered := map[string]int{}
	call := func(key, tok string) response {
		r := e.chat(key, exactChat)
		if r.status == 200 {
			answered[tok]++
		}
		return r
	}
	for _, k := range [][2]string{{budgeted, token}, {free, freeToken}} {
		if r := call(k[0], k[1]); r.status != 200 {
			t.Fatalf("before the outage: %d %s", r.status, r.body)
		}
	}

	db.cut()
	for range 3 {
		r := call(budgeted, token)
		if got := r.errOf(t, 503); got.Type != "budget_unavailable" {
			t.Errorf("refusal type %q (%s), want budget_unavailable", got.Type, got.Message)
		}
		// Nothing can refuse the unbudgeted key: it is served, its row kept until the database is back.
		if r = call(free, freeToken); r.status != 200 {
			t.Errorf("unbudgeted key with the database gone: %d %s, want 200", r.status, r.body)
		}
	}
	if err := e.l.Flush(context.Background()); err == nil {
		t.Error("Flush reports success with the database gone")
	}

	db.restore()
	seenWithin(t, "budgeted key served again", e.answers(budgeted, 200))
	answered[token]++ // the call that saw it answer
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := e.l.Flush(context.Background())
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the rows are not written after the database came back: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for tok, n := range answered {
		rows, count, err := e.l.Store().QuerySpendLogs(context.Background(), store.SpendQuery{APIKey: tok})
		if err != nil {
			t.Fatal(err)
		}
		ok := 0
		for _, r := range rows {
			if r.Status == store.StatusSuccess {
				ok++
			}
		}
		if ok != n {
			t.Errorf("key %.8s: %d answered, %d success rows (%d rows in all)", tok, n, ok, count)
		}
		k, err := e.l.Store().GetKey(context.Background(), tok)
		if err != nil {
			t.Fatal(err)
		}
		if !near(k.Spend, float64(n)*callCost) {
			t.Errorf("key %.8s: spend %v, want %v for %d answered", tok, k.Spend, float64(n)*callCost, n)
		}
	}
	t.Logf("answered: budgeted %d, unbudgeted %d", answered[token], answered[freeToken])
}
