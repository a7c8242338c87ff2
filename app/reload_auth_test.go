package app

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clawgate/clawgate/internal/fakeupstream"
)

// syncBuffer is a log sink the gateway's goroutines and the test share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// TestReloadNeverWeakensAuth flips a running gateway's config.yaml to what an editor or a careless
// edit leaves behind (the master key commented out, an empty file, comments only, broken YAML, a
// half-written file) while clients hammer it, with and without the key. Every flip must be
// refused: no unauthenticated request may succeed, and no authenticated one may fail.
func TestReloadNeverWeakensAuth(t *testing.T) {
	t.Setenv("LITELLM_MASTER_KEY", "")
	up := httptest.NewServer(fakeupstream.New())
	defer up.Close()
	const master = "sk-master-reload-0123456789"
	good := func(gen int) string {
		return "model_list:\n" +
			"  - model_name: m\n    litellm_params: {model: openai/gpt-4o-mini, api_base: \"" + up.URL + "/v1\", api_key: sk-up}\n" +
			"  - model_name: gen-" + strconv.Itoa(gen) + "\n    litellm_params: {model: openai/gpt-4o, api_base: \"" + up.URL + "/v1\", api_key: sk-up}\n" +
			"general_settings:\n  master_key: " + master + "\n"
	}
	flips := []struct {
		name, text string
		want       string // in the refusal
		alert      bool
	}{
		{"master key commented out", strings.Replace(good(99), "  master_key:", "  # master_key:", 1), "master key", true},
		{"empty file", "", "empty", false},
		{"comments only", "# saving...\n", "empty", false},
		{"broken yaml", "model_list: [\n", "config.yaml", false},
		{"half written", good(99)[:strings.Index(good(99), "general_settings")], "master key", true},
		{"no models", "model_list: []\ngeneral_settings:\n  master_key: " + master + "\n", "no models", false},
	}
	for _, host := range []string{"0.0.0.0", "127.0.0.1"} {
		t.Run(host, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "config.yaml")
			if err := os.WriteFile(path, []byte(good(0)), 0o600); err != nil {
				t.Fatal(err)
			}
			logs := &syncBuffer{}
			a, err := New(Options{ConfigPath: path, DataDir: dir, Host: host, Port: freePort(t), NoKeychain: true,
				Logger: slog.New(slog.NewTextHandler(logs, nil))})
			if err != nil {
				t.Fatal(err)
			}
			if err := a.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				a.Stop(ctx)
			})
			base := "http://127.0.0.1:" + strconv.Itoa(a.opts.Port)
			events, cancel := a.Subscribe()
			defer cancel()

			load := startLoad(base, master)
			alerts := 0
			wait := func(what string, ok func(Status) bool) bool {
				t.Helper()
				deadline := time.After(10 * time.Second)
				for {
					select {
					case e := <-events:
						if e.Kind == EventAlert && e.Alert != nil && e.Alert.Title == "Config change not applied" {
							alerts++
						}
						if e.Kind == EventStatus && ok(e.Status) {
							return true
						}
					case <-deadline:
						t.Errorf("%s: not seen in 10 s; status now %+v", what, a.Status())
						return false
					}
				}
			}
			for i, f := range flips {
				before := alerts
				if err := os.WriteFile(path, []byte(f.text), 0o600); err != nil {
					t.Fatal(err)
				}
				if wait(f.name+" refused", func(s Status) bool { return s.Err != nil }) {
					if msg := a.Status().Err.Error(); !strings.Contains(msg, f.want) || !strings.Contains(msg, "previous one stays in force") {
						t.Errorf("%s: refusal says %q, want it to name %q", f.name, msg, f.want)
					}
				}
				gen := i + 1
				if err := os.WriteFile(path, []byte(good(gen)), 0o600); err != nil {
					t.Fatal(err)
				}
				wait(f.name+": the good config back in force", func(s Status) bool {
					return s.Err == nil && len(s.Models) == 2 && s.Models[1] == "gen-"+strconv.Itoa(gen)
				})
				if f.alert {
					// The alert follows the refusal's status event; the next status event proves it was sent.
					if alerts == before {
						t.Errorf("%s: no alert for the tray", f.name)
					}
				}
			}
			unauthOK, authFailed := load.stop()
			if unauthOK != "" || authFailed != "" {
				t.Errorf("under %d requests: unauthenticated successes: %s; authenticated failures: %s", load.n.Load(), unauthOK, authFailed)
			}
			t.Logf("%d requests during the flips", load.n.Load())
			if load.n.Load() < 50 {
				t.Errorf("only %d requests ran during the flips", load.n.Load())
			}
			if got := a.Status(); got.Auth != "config" || a.MasterKey() != master {
				t.Errorf("auth now %q", got.Auth)
			}
			if l := logs.String(); !strings.Contains(l, "config reload refused") || !strings.Contains(l, "master key") {
				t.Errorf("the log does not say why:\n%s", l)
			}
		})
	}
}

// load runs clients against a gateway until stop: some without a key (or with a wrong one), some
// with the master key.
type load struct {
	n        atomic.Int64
	done     chan struct{}
	wg       sync.WaitGroup
	mu       sync.Mutex
	unauthOK []string
	authBad  []string
	tr       *http.Transport
}

func startLoad(base, master string) *load {
	l := &load{done: make(chan struct{}), tr: &http.Transport{MaxIdleConnsPerHost: 8}}
	client := &http.Client{Transport: l.tr, Timeout: 10 * time.Second}
	chat := `{"model":"m","messages":[{"role":"user","content":"hi"}]}`
	call := func(method, path, key, body string) (int, string) {
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	unauth := []struct{ method, path, key, body string }{
		{"POST", "/v1/chat/completions", "", chat},
		{"POST", "/v1/chat/completions", "sk-wrong", chat},
		{"GET", "/key/list", "", ""},
		{"POST", "/key/generate", "", `{}`},
		{"GET", "/v1/models", "", ""},
	}
	run := func(f func(i int)) {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for i := 0; ; i++ {
				select {
				case <-l.done:
					return
				default:
				}
				f(i)
				l.n.Add(1)
			}
		}()
	}
	for g := 0; g < 2; g++ {
		run(func(i int) {
			c := unauth[i%len(unauth)]
			if code, body := call(c.method, c.path, c.key, c.body); code > 0 && code < 300 {
				l.note(&l.unauthOK, fmt.Sprintf("%s %s key=%q: %d %.80s", c.method, c.path, c.key, code, body))
			}
		})
		run(func(int) {
			if code, body := call("POST", "/v1/chat/completions", master, chat); code != 200 {
				l.note(&l.authBad, fmt.Sprintf("%d %.120s", code, body))
			}
		})
	}
	return l
}

func (l *load) note(to *[]string, s string) {
	l.mu.Lock()
	*to = append(*to, s)
	l.mu.Unlock()
}

// stop ends the load and summarises what went wrong ("" for nothing): a count and the first case.
func (l *load) stop() (unauthOK, authFailed string) {
	close(l.done)
	l.wg.Wait()
	l.tr.CloseIdleConnections()
	sum := func(s []string) string {
		if len(s) == 0 {
			return ""
		}
		return fmt.Sprintf("%d, first %s", len(s), s[0])
	}
	return sum(l.unauthOK), sum(l.authBad)
}
