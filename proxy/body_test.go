package proxy

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clawgate/clawgate/proxy/config"
)

// listening starts a gateway on a real listener (so its connection hooks run) and returns its base URL.
func listening(t *testing.T, yaml string, opts Options, ups ...*upstream) (*Server, string) {
	t.Helper()
	for i, u := range ups {
		yaml = strings.ReplaceAll(yaml, fmt.Sprintf("{{%c}}", 'A'+i), u.URL())
	}
	cfg, _, err := config.Parse([]byte(yaml), "config.yaml", func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	opts.Config = cfg
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); s.Serve(l) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
		<-done
	})
	return s, "http://" + l.Addr().String()
}

// xReader yields n bytes of 'x' without holding them.
type xReader struct{ n int64 }

func (x *xReader) Read(p []byte) (int, error) {
	if x.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > x.n {
		p = p[:x.n]
	}
	for i := range p {
		p[i] = 'x'
	}
	x.n -= int64(len(p))
	return len(p), nil
}

// TestUnauthenticatedBodiesAreNotRead sends 31 MB bodies without a valid key to every route that
// takes a body: the gateway must answer 401 without reading (or translating) them, so what it
// allocates meanwhile stays far below even one body.
func TestUnauthenticatedBodiesAreNotRead(t *testing.T) {
	up := newUpstream(t).always(reply{file: "chat_completion.json"})
	_, base := listening(t, oneModel, Options{}, up)
	const size = 31 << 20
	head := `{"model":"gpt-4o-mini","max_tokens":1,"messages":[{"role":"user","content":"`
	tail := `"}]}`
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	send := func(path string, header ...string) (int, error) {
		body := io.MultiReader(strings.NewReader(head), &xReader{size - int64(len(head)+len(tail))}, strings.NewReader(tail))
		req, _ := http.NewRequest("POST", base+path, body)
		req.ContentLength = size
		req.Header.Set("Content-Type", "application/json")
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := tr.RoundTrip(req)
		if err != nil {
			return 0, err // the gateway may close while the client still writes: fine
		}
		defer resp.Body.Close()
		io.Copy(io.Discard, resp.Body)
		return resp.StatusCode, nil
	}
	cases := []struct {
		path   string
		header []string
	}{
		{"/v1/messages", []string{"x-api-key", "sk-wrong"}},
		{"/v1/messages", nil},
		{"/anthropic/v1/messages", []string{"Authorization", "Bearer sk-wrong"}},
		{"/v1/messages/count_tokens", nil},
		{"/v1/chat/completions", nil},
		{"/chat/completions", []string{"Authorization", "Bearer sk-wrong"}},
		{"/key/generate", nil},
		{"/v1/messages", []string{"x-api-key", "sk-also-wrong"}},
	}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	var wg sync.WaitGroup
	codes := make([]string, len(cases))
	for i, c := range cases {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, err := send(c.path, c.header...)
			codes[i] = fmt.Sprint(code, err)
			if err == nil && code != http.StatusUnauthorized {
				t.Errorf("%s %v: status %d, want 401", c.path, c.header, code)
			}
		}()
	}
	wg.Wait()
	runtime.ReadMemStats(&after)
	allocated := after.TotalAlloc - before.TotalAlloc
	t.Logf("8 x 31 MB unauthenticated: %d KB allocated in the process; answers %v", allocated>>10, codes)
	if allocated > 16<<20 {
		t.Errorf("%d MB allocated while refusing 8 unauthenticated 31 MB bodies: they were read", allocated>>20)
	}
}

// trickle opens a connection, sends headers announcing a body and then a byte at a time, and
// returns the status line the gateway answers with (or the error that ended the wait).
func trickle(base, path, key string, stop <-chan struct{}) (string, error) {
	c, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		return "", err
	}
	defer c.Close()
	fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n", path, strings.TrimPrefix(base, "http://"))
	if key != "" {
		fmt.Fprintf(c, "Authorization: Bearer %s\r\n", key)
	}
	fmt.Fprint(c, "\r\n{")
	go func() {
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				if _, err := c.Write([]byte(" ")); err != nil {
					return
				}
			}
		}
	}()
	// A generous upper bound: the gateway's grace in this test is 300 ms.
	c.SetReadDeadline(time.Now().Add(15 * time.Second))
	return bufio.NewReader(c).ReadString('\n')
}

// TestTrickledBodiesAreCutOff trickles bodies a byte at a time, with and without a key, while
// legitimate requests run: the trickles end soon after the grace period (408 for the authenticated,
// 401 for the others) and the legitimate requests are all served.
func TestTrickledBodiesAreCutOff(t *testing.T) {
	up := newUpstream(t).always(reply{file: "chat_completion.json"})
	_, base := listening(t, oneModel, Options{BodyGrace: 300 * time.Millisecond}, up)
	stop := make(chan struct{})
	defer close(stop)
	const n = 40
	var wg sync.WaitGroup
	lines := make([]string, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := masterKey
			if i%2 == 1 {
				key = ""
			}
			line, err := trickle(base, "/v1/chat/completions", key, stop)
			lines[i] = strings.TrimSpace(line)
			want := "HTTP/1.1 408"
			if key == "" {
				want = "HTTP/1.1 401"
			}
			if !strings.HasPrefix(line, want) {
				t.Errorf("trickle %d (key %v): got %q, %v; want %s", i, key != "", line, err, want)
			}
		}()
	}
	// Legitimate requests, meanwhile.
	client := &http.Client{Transport: &http.Transport{}, Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()
	for i := range 20 {
		req, _ := http.NewRequest("POST", base+"/v1/chat/completions", strings.NewReader(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}`))
		req.Header.Set("Authorization", "Bearer "+masterKey)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("legitimate request %d: %v", i, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("legitimate request %d: %d", i, resp.StatusCode)
		}
	}
	wg.Wait()
	t.Logf("trickles ended with %q ...", lines[:2])
}

// TestAnswerOutlivesBodyDeadline: the read deadline ends with the body, so an answer that takes
// longer than the grace period is still delivered (a deadline left armed would fire in the
// server's background read and cancel the request, and with it the upstream call).
func TestAnswerOutlivesBodyDeadline(t *testing.T) {
	const grace = 100 * time.Millisecond
	release := make(chan struct{})
	answer := readTestdata(t, "chat_completion.json")
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(answer)
	}))
	defer up.Close()
	_, base := listening(t, strings.ReplaceAll(oneModel, "{{A}}", up.URL+"/v1"), Options{BodyGrace: grace})
	{
		req, _ := http.NewRequest("POST", base+"/v1/chat/completions", strings.NewReader(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}`))
		req.Header.Set("Authorization", "Bearer "+masterKey)
		req.Header.Set("Content-Type", "application/json")
		tr := &http.Transport{}
		done := make(chan struct{})
		go func() {
			defer close(done)
			resp, err := tr.RoundTrip(req)
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 200 || !strings.Contains(string(b), "Hello") {
				t.Errorf("%d %s", resp.StatusCode, b)
			}
		}()
		// The upstream answers well past the deadline the body had.
		<-time.After(5 * grace)
		select {
		case release <- struct{}{}:
		case <-done: // the call ended before the upstream answered
		}
		<-done
		tr.CloseIdleConnections()
	}
}
