package proxy

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clawgate/clawgate/proxy/config"
)

const noKey = `
model_list:
  - model_name: gpt-4o-mini
    litellm_params: {model: openai/gpt-4o-mini, api_base: "{{A}}", api_key: sk-upstream}
`

// okAdmin answers every management call 200, so a refusal can only come from the gateway.
type okAdmin struct{}

func (okAdmin) ServeAdmin(w http.ResponseWriter, r *http.Request, p *Principal) {
	writeJSON(w, http.StatusOK, map[string]any{"key": "sk-minted"})
}

// TestNoMasterKeyRefusesWebPages: without a master key every caller is master, so every route
// refuses what a web page could send: cross-site Origin, a rebinding Host, text/plain bodies.
// With a master key the key is the protection and these pass through to auth.
func TestNoMasterKeyRefusesWebPages(t *testing.T) {
	up := newUpstream(t).always(reply{file: "chat_completion.json"})
	_, open := listening(t, noKey, Options{Admin: okAdmin{}}, up)
	_, keyed := listening(t, oneModel, Options{Admin: okAdmin{}}, up)
	port := open[strings.LastIndex(open, ":")+1:]
	chat := `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}`
	cases := []struct {
		name, method, path, body string
		header                   map[string]string
		want                     int // with no master key
	}{
		{"json chat", "POST", "/v1/chat/completions", chat, nil, 200},
		{"models", "GET", "/v1/models", "", nil, 200},
		{"own origin", "POST", "/v1/chat/completions", chat, map[string]string{"Origin": "http://127.0.0.1:" + port}, 200},
		{"localhost host", "GET", "/v1/models", "", map[string]string{"Host": "localhost:" + port}, 200},
		{"ipv6 loopback host", "GET", "/health/readiness", "", map[string]string{"Host": "[::1]:" + port}, 200},
		{"typed in the address bar", "GET", "/health/readiness", "", map[string]string{"Sec-Fetch-Site": "none"}, 200},
		{"json with charset", "POST", "/key/generate", `{}`, map[string]string{"Content-Type": "application/json; charset=utf-8"}, 200},

		{"form post chat", "POST", "/v1/chat/completions", chat, map[string]string{"Content-Type": "text/plain", "Origin": "http://evil.example"}, 403},
		{"form post key/generate", "POST", "/key/generate", `{}`, map[string]string{"Content-Type": "text/plain"}, 415},
		{"form post messages", "POST", "/v1/messages", `{}`, map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, 415},
		{"no content type", "POST", "/v1/chat/completions", chat, map[string]string{"Content-Type": ""}, 415},
		{"cross-site origin with json", "POST", "/v1/chat/completions", chat, map[string]string{"Origin": "http://evil.example"}, 403},
		{"null origin", "POST", "/key/generate", `{}`, map[string]string{"Origin": "null"}, 403},
		{"another local port", "GET", "/key/list", "", map[string]string{"Origin": "http://localhost:3000"}, 403},
		{"https origin", "GET", "/v1/models", "", map[string]string{"Origin": "https://127.0.0.1:" + port}, 403},
		{"rebinding host", "POST", "/key/generate", `{}`, map[string]string{"Host": "rebind.evil.example:" + port}, 403},
		{"rebinding host get", "GET", "/v1/models", "", map[string]string{"Host": "rebind.evil.example:" + port}, 403},
		{"host on another port", "GET", "/health/liveliness", "", map[string]string{"Host": "127.0.0.1:1"}, 403},
		{"host without port", "GET", "/v1/models", "", map[string]string{"Host": "localhost"}, 403},
		{"cross-site fetch", "GET", "/key/list", "", map[string]string{"Sec-Fetch-Site": "cross-site"}, 403},
		{"same-site fetch", "GET", "/v1/models", "", map[string]string{"Sec-Fetch-Site": "same-site"}, 403},
	}
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	do := func(base string, c struct {
		name, method, path, body string
		header                   map[string]string
		want                     int
	}, key string) (int, string) {
		req, _ := http.NewRequest(c.method, base+c.path, strings.NewReader(c.body))
		if c.body == "" {
			req.Body = http.NoBody
		}
		if c.method != "GET" {
			req.Header.Set("Content-Type", "application/json")
		}
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		for k, v := range c.header {
			switch {
			case k == "Host":
				req.Host = v
			case v == "":
				req.Header.Del(k)
			default:
				req.Header.Set(k, v)
			}
		}
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, body := do(open, c, "")
			if code != c.want {
				t.Errorf("no master key: %d %s, want %d", code, body, c.want)
			}
			if c.want != 200 && !strings.Contains(body, `"error"`) {
				t.Errorf("refusal without the error envelope: %s", body)
			}
			// With a master key: the key decides, whatever the page headers say.
			if code, body := do(keyed, c, ""); code != 401 && !strings.HasPrefix(c.path, "/health") {
				t.Errorf("master key, no key sent: %d %s, want 401", code, body)
			}
			if strings.HasPrefix(c.path, "/v1/messages") {
				return // the empty Messages body is a 400 whatever the guard says
			}
			if code, body := do(keyed, c, masterKey); code != 200 {
				t.Errorf("master key sent: %d %s, want 200", code, body)
			}
		})
	}
}

// TestNoMasterKeyOnlyLoopbackClients: without a master key a client beyond loopback is refused,
// even if the listener somehow reached it; in-process calls (the app's own) are not network calls.
func TestNoMasterKeyOnlyLoopbackClients(t *testing.T) {
	g := newGateway(t, noKey, newUpstream(t))
	local := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 4000}
	req := httptest.NewRequest("GET", "http://127.0.0.1:4000/v1/models", nil)
	req = req.WithContext(context.WithValue(req.Context(), http.LocalAddrContextKey, net.Addr(local)))
	req.RemoteAddr = "192.0.2.7:50000"
	rec := httptest.NewRecorder()
	g.gw.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "only this machine") {
		t.Errorf("remote client: %d %s", rec.Code, rec.Body)
	}
	rec = httptest.NewRecorder()
	g.gw.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/v1/models", nil))
	if rec.Code != http.StatusOK {
		t.Errorf("in-process call: %d %s", rec.Code, rec.Body)
	}
}

// scopedKeys knows one virtual key, limited to model zzz, and one blocked key.
type scopedKeys struct{}

func (scopedKeys) Authenticate(_ context.Context, key string) (*Principal, error) {
	switch key {
	case "sk-scoped":
		return &Principal{KeyHash: HashKey(key), KeyAlias: "scoped", Models: []string{"zzz"}}, nil
	case "sk-blocked":
		return nil, &authError{"Authentication Error - Key is blocked."}
	}
	return nil, ErrInvalidKey
}

// seenGate records who the gate was asked about, and refuses.
type seenGate struct {
	mu     sync.Mutex
	hashes []string
}

func (g *seenGate) Admit(_ context.Context, p *Principal, _ string, _ float64, _ int64) (Admission, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.hashes = append(g.hashes, p.KeyHash)
	return nil, &authError{"refused by the gate"}
}

func (g *seenGate) seen() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.hashes...)
}

// TestNoMasterKeyStillChecksVirtualKeys: without a master key a virtual key that is sent keeps its
// model list, its budget (the gate sees the key, not the master) and its blocked state; a client
// that sends an unknown key or none is master, as in LiteLLM.
func TestNoMasterKeyStillChecksVirtualKeys(t *testing.T) {
	up := newUpstream(t).always(reply{file: "chat_completion.json"})
	yaml := noKey + "  - model_name: zzz\n    litellm_params: {model: openai/gpt-4o-mini, api_base: \"{{A}}\", api_key: sk-upstream}\n"
	cfg, _, err := config.Parse([]byte(strings.ReplaceAll(yaml, "{{A}}", up.URL())), "config.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	gate := &seenGate{}
	s, err := New(Options{Config: cfg, Keys: scopedKeys{}, Gate: gate})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s.Handler())
	defer hs.Close()
	g := &gateway{t: t, srv: hs, gw: s}
	chat := `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}`

	if resp := g.do("POST", "/v1/chat/completions", chat, "Authorization", "Bearer sk-scoped"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("scoped key on another model: %d %s", resp.StatusCode, readAll(t, resp.Body))
	}
	if resp := g.do("GET", "/v1/models", "", "Authorization", "Bearer sk-scoped"); strings.Contains(string(readAll(t, resp.Body)), `gpt-4o-mini`) {
		t.Error("the scoped key lists models it may not use")
	}
	if resp := g.do("POST", "/v1/chat/completions", chat, "Authorization", "Bearer sk-blocked"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("blocked key: %d", resp.StatusCode)
	}
	if n := len(gate.seen()); n != 0 {
		t.Fatalf("refused keys reached the gate %d times", n)
	}
	g.do("POST", "/v1/chat/completions", strings.Replace(chat, "gpt-4o-mini", "zzz", 1), "Authorization", "Bearer sk-scoped")
	for _, key := range []string{"Bearer sk-anything", ""} {
		g.do("POST", "/v1/chat/completions", chat, "Authorization", key)
	}
	// The scoped key is admitted (or not) on its own budget; the unknown key and no key are master.
	if got, want := gate.seen(), []string{HashKey("sk-scoped"), "", ""}; !slices.Equal(got, want) {
		t.Errorf("the gate saw keys %q, want %q", got, want)
	}
}

// TestAuthNeverTurnsOff: once a gateway has a master key, no config takes it away; and it does not
// serve beyond loopback without one.
func TestAuthNeverTurnsOff(t *testing.T) {
	s, err := New(Options{Config: &config.Config{}})
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	errc := make(chan error, 1)
	go func() { errc <- s.Serve(l) }()
	select {
	case err := <-errc:
		if !errors.Is(err, ErrAuthOff) {
			t.Errorf("serving 0.0.0.0 with no master key: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Error("it serves 0.0.0.0 with no master key")
		s.Shutdown(context.Background())
	}
	if err := s.SetConfig(&config.Config{}, "sk-new-master"); err != nil || !s.HasMasterKey() {
		t.Fatalf("a key can always be added: %v", err)
	}
	if err := s.SetConfig(&config.Config{}, ""); !errors.Is(err, ErrAuthOff) {
		t.Errorf("dropping the master key: %v", err)
	}
	if s.MasterKey() != "sk-new-master" {
		t.Error("the refused config changed the key in force")
	}
	if err := s.SetConfig(&config.Config{}, "sk-other-master"); err != nil || s.MasterKey() != "sk-other-master" {
		t.Errorf("changing the key: %v", err)
	}
}
