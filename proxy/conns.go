package proxy

import (
	"context"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultUnauthConns bounds the connections one client address may hold open before any request
// on them has authenticated. Authenticated connections are not bounded: agents, load balancers and
// tests send everything from one address. A connection counts from its accept until a request on
// it passes auth, or until it closes. A client that opens more new connections than this at the
// same instant may see some of the newest closed before their first request is read; the bound is
// set well above what agents and SDK connection pools open.
const DefaultUnauthConns = 256

// connGuard closes a client's new connections while it holds too many that have not authenticated,
// so idle or trickling sockets from one address cannot use up the process's file descriptors.
type connGuard struct {
	limit  int
	log    func(addr string)
	mu     sync.Mutex
	open   map[string]int        // unauthenticated connections per client address
	conns  map[net.Conn]*connTag // every connection counted, to release at close
	logged atomic.Int64          // unix seconds of the last warning
}

// connTag is what the request context knows of its connection.
type connTag struct {
	g       *connGuard
	addr    string
	authed  atomic.Bool
	counted bool // guarded by g.mu
}

type connTagKey struct{}

func newConnGuard(limit int, warn func(addr string)) *connGuard {
	return &connGuard{limit: limit, log: warn, open: map[string]int{}, conns: map[net.Conn]*connTag{}}
}

// connContext is http.Server.ConnContext: it counts the new connection, or closes it when its
// address is at the bound.
func (g *connGuard) connContext(ctx context.Context, c net.Conn) context.Context {
	addr := c.RemoteAddr().String()
	if h, _, err := net.SplitHostPort(addr); err == nil {
		addr = h
	}
	g.mu.Lock()
	if g.open[addr] >= g.limit {
		g.mu.Unlock()
		g.warn(addr)
		c.Close() // the server's read fails at once and the connection ends
		return ctx
	}
	t := &connTag{g: g, addr: addr, counted: true}
	g.open[addr]++
	g.conns[c] = t
	g.mu.Unlock()
	return context.WithValue(ctx, connTagKey{}, t)
}

// connState is http.Server.ConnState: a closed connection no longer counts.
func (g *connGuard) connState(c net.Conn, st http.ConnState) {
	if st != http.StateClosed && st != http.StateHijacked {
		return
	}
	g.mu.Lock()
	if t := g.conns[c]; t != nil {
		delete(g.conns, c)
		t.releaseLocked()
	}
	g.mu.Unlock()
}

func (t *connTag) releaseLocked() {
	if !t.counted {
		return
	}
	t.counted = false
	if t.g.open[t.addr]--; t.g.open[t.addr] <= 0 {
		delete(t.g.open, t.addr)
	}
}

// warn logs a refusal at most once a minute.
func (g *connGuard) warn(addr string) {
	now := time.Now().Unix()
	if last := g.logged.Load(); now-last >= 60 && g.logged.CompareAndSwap(last, now) && g.log != nil {
		g.log(addr)
	}
}

// markAuthenticated takes the request's connection out of its address's unauthenticated count.
func markAuthenticated(ctx context.Context) {
	t, _ := ctx.Value(connTagKey{}).(*connTag)
	if t == nil || t.authed.Load() {
		return
	}
	t.g.mu.Lock()
	if !t.authed.Load() {
		t.authed.Store(true)
		t.releaseLocked()
	}
	t.g.mu.Unlock()
}
