package proxy

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// reply is one scripted upstream answer, replayed from a recorded file under testdata/openai.
type reply struct {
	status int
	file   string
	header map[string]string
	// gate, when set, is waited on after each SSE event, so a test can prove events are relayed one by one.
	gate chan struct{}
	// hold delays the end of a streamed body (the chunked terminator) after the last event.
	hold time.Duration
}

// upstream is an httptest OpenAI-compatible server that replays recorded payloads in order.
type upstream struct {
	t       *testing.T
	srv     *httptest.Server
	mu      sync.Mutex
	script  []reply
	repeat  *reply // used when the script is empty
	bodies  [][]byte
	headers []http.Header
	conns   atomic.Int32 // connections accepted
	closed  atomic.Int32 // connections closed
	served  atomic.Int32 // requests answered to the end
}

func newUpstream(t *testing.T, script ...reply) *upstream {
	t.Helper()
	u := &upstream{t: t, script: script}
	u.srv = httptest.NewUnstartedServer(http.HandlerFunc(u.serve))
	u.srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		switch s {
		case http.StateNew:
			u.conns.Add(1)
		case http.StateClosed, http.StateHijacked:
			u.closed.Add(1)
		}
	}
	u.srv.Start()
	t.Cleanup(u.srv.Close)
	return u
}

func (u *upstream) URL() string { return u.srv.URL + "/v1" }

func (u *upstream) always(r reply) *upstream { u.repeat = &r; return u }

func (u *upstream) calls() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.bodies)
}

func (u *upstream) body(i int) []byte {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.bodies[i]
}

func (u *upstream) serve(w http.ResponseWriter, r *http.Request) {
	defer u.served.Add(1)
	b, _ := io.ReadAll(r.Body)
	u.mu.Lock()
	u.bodies = append(u.bodies, b)
	u.headers = append(u.headers, r.Header.Clone())
	var rep reply
	switch {
	case len(u.script) > 0:
		rep, u.script = u.script[0], u.script[1:]
	case u.repeat != nil:
		rep = *u.repeat
	default:
		u.mu.Unlock()
		http.Error(w, "upstream script exhausted", http.StatusTeapot)
		return
	}
	u.mu.Unlock()
	if r.URL.Path != "/v1/chat/completions" {
		http.Error(w, "wrong path "+r.URL.Path, http.StatusNotFound)
		return
	}
	data := readTestdata(u.t, rep.file)
	for k, v := range rep.header {
		w.Header().Set(k, v)
	}
	if strings.HasSuffix(rep.file, ".sse") {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(statusOr(rep.status))
		fl := w.(http.Flusher)
		for _, ev := range bytes.SplitAfter(data, []byte("\n\n")) {
			if len(ev) == 0 {
				continue
			}
			w.Write(ev)
			fl.Flush()
			if rep.gate != nil {
				<-rep.gate
			}
		}
		time.Sleep(rep.hold)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(statusOr(rep.status))
	w.Write(data)
}

func statusOr(s int) int {
	if s == 0 {
		return http.StatusOK
	}
	return s
}

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	return readTestdataDir(t, "openai", name)
}

func readTestdataDir(t *testing.T, dir, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", dir, name))
	if err != nil {
		t.Fatalf("read testdata: %v", err)
	}
	return b
}

// sseEvents reads an SSE body into its data payloads.
func sseEvents(t *testing.T, r io.Reader) []string {
	t.Helper()
	var out []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 8<<20)
	for sc.Scan() {
		line := sc.Text()
		if p, ok := strings.CutPrefix(line, "data: "); ok {
			out = append(out, p)
		} else if line != "" {
			t.Fatalf("unexpected SSE line %q", line)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read SSE: %v", err)
	}
	return out
}
