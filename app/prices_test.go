package app

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/clawgate/clawgate/proxy/pricing"
)

// priceServer serves testdata/price-map.json, or what body/status say when set.
type priceServer struct {
	mu     sync.Mutex
	status int
	body   []byte
	hits   int
}

func (s *priceServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hits++
	if s.status != 0 {
		w.WriteHeader(s.status)
	}
	w.Write(s.body)
}

func (s *priceServer) set(status int, body []byte) {
	s.mu.Lock()
	s.status, s.body = status, body
	s.mu.Unlock()
}

// logCount counts the log lines containing a phrase.
type logCount struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logCount) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logCount) count(phrase string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Count(l.buf.String(), phrase)
}

func acmePrice(t *testing.T) (pricing.Price, bool) {
	t.Helper()
	return pricing.Lookup("acme", "acme-chat-1")
}

func TestPriceRefresh(t *testing.T) {
	good, err := os.ReadFile("testdata/price-map.json")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { apply(nil) })
	srv := &priceServer{body: good}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	dir := t.TempDir()
	logs := &logCount{}
	r := newPriceRefresher(ts.URL+"/map.json", dir, slog.New(slog.NewTextHandler(logs, nil)))
	ctx := context.Background()

	if _, ok := acmePrice(t); ok {
		t.Fatal("acme-chat-1 priced before any refresh")
	}
	if err := r.refresh(ctx); err != nil {
		t.Fatal(err)
	}
	p, ok := acmePrice(t)
	if !ok || p.Origin != ts.URL+"/map.json" || *p.InputCostPerToken != 1.1e-6 || len(p.Tiers) != 1 {
		t.Fatalf("after refresh: ok=%v %+v", ok, p)
	}
	if _, ok := pricing.Lookup("acme", "acme-image-1"); ok {
		t.Error("an entry without a token price was loaded")
	}
	// The embedded table still answers for what the map lacks.
	if q, ok := pricing.Lookup("openai", "gpt-4o"); !ok || q.Origin != pricing.OriginEmbedded {
		t.Errorf("gpt-4o: ok=%v origin %q", ok, q.Origin)
	}

	// Bad answers keep the last good map and warn once, however many fail in a row.
	const warning = "price map not refreshed"
	for _, bad := range []struct {
		status int
		body   string
	}{{500, "oops"}, {200, "<html>not json</html>"}, {200, `{"sample_spec": {}}`}, {200, `{"acme/acme-chat-1": {"input_cost_per_tok`}} {
		srv.set(bad.status, []byte(bad.body))
		if err := r.refresh(ctx); err == nil {
			t.Fatalf("%d %q: no error", bad.status, bad.body)
		}
		if p, ok := acmePrice(t); !ok || *p.InputCostPerToken != 1.1e-6 {
			t.Fatalf("%d %q: last good map lost", bad.status, bad.body)
		}
	}
	ts.CloseClientConnections()
	if n := logs.count(warning); n != 1 {
		t.Errorf("%d warnings for 4 failures in a row, want 1", n)
	}

	// A success re-arms the warning.
	srv.set(0, good)
	if err := r.refresh(ctx); err != nil {
		t.Fatal(err)
	}
	srv.set(503, nil)
	_ = r.refresh(ctx)
	if n := logs.count(warning); n != 2 {
		t.Errorf("%d warnings, want 2 after success then failure", n)
	}

	// A restart with the server gone serves the cached copy.
	apply(nil)
	if _, ok := acmePrice(t); ok {
		t.Fatal("still priced after the map was dropped")
	}
	ts.Close()
	r2 := newPriceRefresher(ts.URL+"/map.json", dir, slog.New(slog.NewTextHandler(logs, nil)))
	if !r2.loadCache() {
		t.Fatal("no cached map")
	}
	if p, ok := acmePrice(t); !ok || *p.OutputCostPerToken != 4.4e-6 {
		t.Fatalf("from cache: ok=%v %+v", ok, p)
	}
	// Another URL never reads this cache.
	if newPriceRefresher("http://elsewhere.invalid/x.json", dir, slog.Default()).loadCache() {
		t.Error("another URL's cache was loaded")
	}
}

// With no price_map_url nothing is fetched and nothing runs.
func TestPriceRefreshOff(t *testing.T) {
	a := &App{log: slog.Default()}
	a.startPriceRefresh()
	if a.stopPrices != nil {
		t.Fatal("a refresh loop started without a URL")
	}
	a.stopPriceRefresh()
}

// servePriceMap serves testdata/price-map.json and reports each refresh the loop makes; the map
// and the hook are dropped when the test ends.
func servePriceMap(t *testing.T) (url string, refreshed <-chan error) {
	t.Helper()
	good, err := os.ReadFile("testdata/price-map.json")
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(good) }))
	ch := make(chan error, 1)
	priceRefreshed = func(err error) {
		select {
		case ch <- err:
		default:
		}
	}
	t.Cleanup(func() {
		ts.Close()
		priceRefreshed = nil
		apply(nil)
	})
	return ts.URL, ch
}

// The loop fetches at start and stops with the app.
func TestPriceRefreshLoop(t *testing.T) {
	url, refreshed := servePriceMap(t)
	a := &App{log: slog.Default(), priceURL: url, opts: Options{DataDir: t.TempDir()}}
	a.startPriceRefresh()
	if err := <-refreshed; err != nil {
		t.Fatal(err)
	}
	a.stopPriceRefresh()
	if a.stopPrices != nil {
		t.Error("loop still marked running")
	}
	if _, ok := acmePrice(t); !ok {
		t.Fatal("not priced after the start fetch")
	}
}

// A route without a price is listed in Status (and logged) at load, and the list follows reloads.
func TestUnpricedRoutesInStatus(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	const routes = `model_list:
  - model_name: mini
    litellm_params: {model: openai/gpt-4o-mini, api_key: sk-x}
  - model_name: mine
    litellm_params: {model: openai/my-private-model, api_base: "http://127.0.0.1:1/v1", api_key: sk-x}
`
	if err := os.WriteFile(cfg, []byte(routes), 0o600); err != nil {
		t.Fatal(err)
	}
	a := startApp(t, Options{ConfigPath: cfg, DataDir: dir})
	if u := a.Status().Unpriced; len(u) != 1 || !strings.Contains(u[0], `"mine"`) {
		t.Fatalf("unpriced = %q", u)
	}
	free := routes + "    model_info: {input_cost_per_token: 0, output_cost_per_token: 0}\n"
	if err := os.WriteFile(cfg, []byte(free), 0o600); err != nil {
		t.Fatal(err)
	}
	a.reload()
	if u := a.Status().Unpriced; len(u) != 0 {
		t.Fatalf("after declaring it free: %q", u)
	}
}

// The first-run config prices every route it serves.
func TestFirstRunConfigPriced(t *testing.T) {
	dir := t.TempDir()
	a := startApp(t, Options{ConfigPath: filepath.Join(dir, "config.yaml"), DataDir: dir})
	if st := a.Status(); !st.FirstRun || len(st.Unpriced) != 0 {
		t.Fatalf("first run %v, unpriced %q", st.FirstRun, st.Unpriced)
	}
}

// A reload that sets, changes or removes price_map_url takes effect without a restart.
func TestPriceMapFollowsReload(t *testing.T) {
	url, refreshed := servePriceMap(t)

	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	const routes = "model_list:\n  - model_name: mini\n    litellm_params: {model: openai/gpt-4o-mini, api_key: sk-x}\n"
	write := func(s string) {
		t.Helper()
		if err := os.WriteFile(cfg, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(routes)
	a := startApp(t, Options{ConfigPath: cfg, DataDir: dir})
	if a.stopPrices != nil {
		t.Fatal("a refresh loop runs without a URL")
	}
	write(routes + "general_settings:\n  price_map_url: " + url + "\n")
	a.reload()
	if err := <-refreshed; err != nil {
		t.Fatal(err)
	}
	if _, ok := acmePrice(t); !ok {
		t.Fatal("the map set by a reload is not in force")
	}
	write(routes)
	a.reload()
	if _, ok := acmePrice(t); ok {
		t.Fatal("the map removed by a reload is still in force")
	}
	a.priceMu.Lock()
	running := a.stopPrices != nil
	a.priceMu.Unlock()
	if running {
		t.Error("the refresh loop still runs")
	}
}
