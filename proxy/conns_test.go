package proxy

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// dialFrom opens a connection to base from a given loopback address (127.0.0.0/8 is all loopback
// on Linux, so one machine can play several clients).
func dialFrom(t *testing.T, from, base string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	c, err := d.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// clientFrom is an HTTP client whose connections come from address from.
func clientFrom(from string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 16}, Timeout: 10 * time.Second}
}

// closedByServer reports whether the server closed c (rather than leaving it open) within a
// generous bound.
func closedByServer(c net.Conn) bool {
	c.SetReadDeadline(time.Now().Add(time.Second)) // it closes at accept, or not at all
	_, err := c.Read(make([]byte, 1))
	return err == io.EOF || err != nil && !isTimeout(err)
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// getModels answers the status of an authenticated GET /v1/models, 0 when the call failed.
func getModels(c *http.Client, base string) int {
	req, _ := http.NewRequest("GET", base+"/v1/models", nil)
	req.Header.Set("Authorization", "Bearer "+masterKey)
	resp, err := c.Do(req)
	if err != nil {
		return 0
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// TestUnauthenticatedConnsBoundedPerAddress: one address may hold only so many connections that
// have not authenticated; beyond that its new connections are closed at once. Its authenticated
// connections are not bounded, and other addresses are served as before.
func TestUnauthenticatedConnsBoundedPerAddress(t *testing.T) {
	const limit = 4
	_, base := listening(t, oneModel, Options{UnauthConns: limit, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, newUpstream(t))

	// 8 authenticated keep-alive connections from the attacker's address too: not bounded.
	var agents []*http.Client
	for range 2 * limit {
		c := clientFrom("127.0.0.2")
		defer c.CloseIdleConnections()
		agents = append(agents, c)
	}
	// Opened one after the other: a burst of more new connections than the bound, all at once,
	// would see some refused before their first request authenticates (see DefaultUnauthConns).
	for _, c := range agents {
		if code := getModels(c, base); code != 200 {
			t.Fatalf("authenticated request: %d", code)
		}
	}

	// Idle sockets that never authenticate: limit of them stay open, the next is closed.
	var held []net.Conn
	for range limit {
		held = append(held, dialFrom(t, "127.0.0.2", base))
	}
	over := dialFrom(t, "127.0.0.2", base)
	if !closedByServer(over) {
		t.Fatalf("connection %d from one address without auth was kept open", limit+1)
	}
	if closedByServer(held[0]) {
		t.Fatal("a connection within the bound was closed")
	}
	// Meanwhile another address is served, and the same address's authenticated connections too.
	other := clientFrom("127.0.0.3")
	defer other.CloseIdleConnections()
	if code := getModels(other, base); code != 200 {
		t.Errorf("another address: %d", code)
	}
	done := make(chan int)
	for _, c := range agents {
		go func() { done <- getModels(c, base) }()
	}
	for range agents {
		if code := <-done; code != 200 {
			t.Errorf("keep-alive authenticated connection during the flood: %d", code)
		}
	}

	// A held connection that authenticates frees its slot.
	if _, err := held[1].Write([]byte("GET /v1/models HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + masterKey + "\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 12)
	held[1].SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(held[1], buf); err != nil || string(buf) != "HTTP/1.1 200" {
		t.Fatalf("authenticating a held connection: %q %v", buf, err)
	}
	if again := dialFrom(t, "127.0.0.2", base); closedByServer(again) {
		t.Error("the slot an authenticated connection left was not given back")
	}
}
