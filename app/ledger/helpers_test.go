package ledger

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clawgate/clawgate/internal/fakeupstream"
	"github.com/clawgate/clawgate/proxy"
	"github.com/clawgate/clawgate/proxy/config"
)

const masterKey = "sk-master-0123456789abcdef"

// The "exact" model is priced so that costs are exact binary fractions: 2^-14 USD per input
// token and 2^-10 per output token. The fake upstream reports 19 prompt and 10 completion
// tokens, so a call costs 19×2^-14 + 10×2^-10 = 179/16384 = 0.01092529296875 USD, and a swap of
// the two counts would cost 10×2^-14 + 19×2^-10 instead.
//
// What the gate reserves is deliberately NOT the cost, so that a ledger charging the reservation
// instead of the real usage shows. exactChat asks for max_tokens 4: whatever rule computes the
// reservation (it never counts more output than max_tokens), it holds a prompt estimate plus at
// most 4 output tokens, well under half the real cost. That keeps the budget tests' call counts
// independent of the reservation rule: with spend below the limit, a call always fits.
// roomyChat asks for max_tokens 4000 and reserves far more than it costs.
const (
	callCost  = 13.0/16384 + 10.0/1024
	exactChat = `{"model":"exact","max_tokens":4,"messages":[{"role":"user","content":"hi"}]}`
	roomyChat = `{"model":"exact","max_tokens":4000,"messages":[{"role":"user","content":"hi"}]}`
)

const testConfig = `
model_list:
  - model_name: gpt-4o-mini
    litellm_params: {model: openai/gpt-4o-mini, api_base: "{{UP}}", api_key: sk-upstream}
  - model_name: exact
    litellm_params: {model: openai/gpt-4o-mini, api_base: "{{UP}}", api_key: sk-upstream}
    model_info: {input_cost_per_token: 0.00006103515625, output_cost_per_token: 0.0009765625, cache_read_input_token_cost: 0, cache_creation_input_token_cost: 0}
  - model_name: exact-out
    litellm_params: {model: openai/gpt-4o-mini, api_base: "{{UP}}", api_key: sk-upstream}
    model_info: {input_cost_per_token: 0, output_cost_per_token: 0.0009765625, cache_read_input_token_cost: 0, cache_creation_input_token_cost: 0}
  - model_name: tail
    litellm_params: {model: openai/agent-model, api_base: "{{UP}}", api_key: sk-upstream}
    model_info: {input_cost_per_token: 0.0000025, output_cost_per_token: 0.00001, max_output_tokens: 64000}
  - model_name: claude-sonnet
    litellm_params: {model: openai/claude-sonnet-4-5, api_base: "{{UP}}", api_key: sk-upstream}
    model_info: {base_model: anthropic/claude-sonnet-4-5}
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, api_base: "{{UP}}", api_key: sk-upstream}
  - model_name: unpriced
    litellm_params: {model: openai/my-private-model, api_base: "{{UP}}", api_key: sk-upstream}
  - model_name: same-id
    litellm_params:
      model: openai/gpt-4o-mini
      api_base: "{{UP}}"
      api_key: sk-upstream
      extra_headers: {x-fake-id: chatcmpl-same}
    model_info: {input_cost_per_token: 0.00006103515625, output_cost_per_token: 0.0009765625, cache_read_input_token_cost: 0, cache_creation_input_token_cost: 0}
  - model_name: broken
    litellm_params:
      model: openai/gpt-4o-mini
      api_base: "{{UP}}"
      api_key: sk-upstream
      extra_headers: {x-fake-status: "400"}
general_settings:
  master_key: ` + masterKey + `
`

// clock is a settable clock for the ledger (the gateway keeps its own).
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(t time.Time) *clock { return &clock{t: t} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// events records what OnEvent hears.
type events struct {
	mu  sync.Mutex
	all []Event
}

func (e *events) add(ev Event) { e.mu.Lock(); e.all = append(e.all, ev); e.mu.Unlock() }

func (e *events) of(kind EventKind, budget string) []Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []Event
	for _, ev := range e.all {
		if ev.Kind == kind && (budget == "" || ev.Budget == budget) {
			out = append(out, ev)
		}
	}
	return out
}

// env is a gateway with the ledger as its keys, gate, usage sink and admin, in front of a fake
// OpenAI upstream, with a real SQLite database in a temporary folder.
type env struct {
	t      *testing.T
	dir    string
	up     *fakeupstream.Server
	upSrv  *httptest.Server
	cfg    *config.Config
	opts   Options
	l      *Ledger
	gw     *proxy.Server
	srv    *httptest.Server
	events *events
	noGate bool
	// upstream serves in place of up when set (withUpstream).
	upstream http.Handler
}

type envOption func(*env)

func withClock(c *clock) envOption                { return func(e *env) { e.opts.Now = c.Now } }
func withSettings(s Settings) envOption           { return func(e *env) { e.opts.Settings = s } }
func withoutGate() envOption                      { return func(e *env) { e.noGate = true } }
func withDir(dir string) envOption                { return func(e *env) { e.dir = dir } }
func withUpstreamDelay(d time.Duration) envOption { return func(e *env) { e.up.Delay = d } }
func withUpstream(h http.Handler) envOption       { return func(e *env) { e.upstream = h } }

func newEnv(t *testing.T, opts ...envOption) *env {
	t.Helper()
	e := &env{t: t, dir: t.TempDir(), up: fakeupstream.New(), events: &events{}}
	for _, o := range opts {
		o(e)
	}
	if e.upstream == nil {
		e.upstream = e.up
	}
	e.upSrv = httptest.NewServer(e.upstream)
	t.Cleanup(e.upSrv.Close)
	cfg, _, err := config.Parse([]byte(strings.ReplaceAll(testConfig, "{{UP}}", e.upSrv.URL)), "config.yaml",
		func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	e.cfg = cfg
	e.opts.DataDir = e.dir
	e.opts.OnEvent = e.events.add
	e.opts.FlushInterval = 20 * time.Millisecond
	e.start()
	t.Cleanup(func() { e.stop() })
	return e
}

// start opens the ledger and the gateway in front of it.
func (e *env) start() {
	e.t.Helper()
	l, err := Open(context.Background(), e.opts)
	if err != nil {
		e.t.Fatalf("Open: %v", err)
	}
	e.l = l
	po := proxy.Options{Config: e.cfg, Keys: l, Usage: l, Admin: l}
	if !e.noGate {
		po.Gate = l
	}
	gw, err := proxy.New(po)
	if err != nil {
		e.t.Fatalf("proxy.New: %v", err)
	}
	e.gw = gw
	e.srv = httptest.NewServer(gw.Handler())
}

// stop closes the gateway, then the ledger (which writes every queued row).
func (e *env) stop() {
	e.t.Helper()
	if e.l == nil {
		return
	}
	e.srv.Close()
	// Bounded, so a test that failed with the database cut fails instead of hanging in Close.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := e.l.Close(ctx); err != nil {
		e.t.Errorf("Close: %v", err)
	}
	e.l = nil
}

func (e *env) restart() {
	e.t.Helper()
	e.stop()
	e.start()
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("status %d: not JSON: %v: %s", r.status, err, r.body)
	}
}

func (r response) obj(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	r.json(t, &m)
	return m
}

// apiErr is the error envelope's inner object.
type apiErr struct {
	Message string         `json:"message"`
	Type    string         `json:"type"`
	Code    string         `json:"code"`
	Details map[string]any `json:"details"`
}

// errOf checks the envelope and status and returns the error.
func (r response) errOf(t *testing.T, status int) apiErr {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	var env struct {
		Error *apiErr `json:"error"`
	}
	if err := json.Unmarshal(r.body, &env); err != nil || env.Error == nil {
		t.Fatalf("not an error envelope: %s", r.body)
	}
	if env.Error.Code != fmt.Sprint(status) || env.Error.Message == "" || env.Error.Type == "" {
		t.Errorf("envelope incomplete: %s", r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	return *env.Error
}

func (e *env) do(method, path, bearer, body string) response {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

func (e *env) master(method, path, body string) response {
	e.t.Helper()
	return e.do(method, path, masterKey, body)
}

func (e *env) chat(key, body string) response {
	e.t.Helper()
	return e.do("POST", "/v1/chat/completions", key, body)
}

// generate makes a key and returns it with its hash.
func (e *env) generate(body string) (key, token string) {
	e.t.Helper()
	r := e.master("POST", "/key/generate", body)
	if r.status != 200 {
		e.t.Fatalf("generate: %d %s", r.status, r.body)
	}
	m := r.obj(e.t)
	return m["key"].(string), m["token"].(string)
}

func (e *env) info(key string) map[string]any {
	e.t.Helper()
	r := e.master("GET", "/key/info?key="+key, "")
	if r.status != 200 {
		e.t.Fatalf("info: %d %s", r.status, r.body)
	}
	return r.obj(e.t)["info"].(map[string]any)
}

func (e *env) flush() {
	e.t.Helper()
	if err := e.l.Flush(context.Background()); err != nil {
		e.t.Fatal(err)
	}
}

func near(a, b float64) bool {
	d := a - b
	if d < 0 {
		d = -d
	}
	return d <= 1e-12
}
