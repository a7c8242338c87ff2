package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/clawgate/clawgate/proxy"
	"github.com/clawgate/clawgate/proxy/config"
	"github.com/clawgate/clawgate/proxy/pricing"
)

// PriceMapKey is the general_settings key naming a cost map in LiteLLM's format (LiteLLM's own
// published model_prices_and_context_window.json works as is). Empty, the default: the embedded
// table alone, and nothing is fetched.
const PriceMapKey = "price_map_url"

// priceRefreshEvery is how often a configured cost map is fetched again.
const priceRefreshEvery = 24 * time.Hour

// maxPriceMap bounds a download: LiteLLM's map is a few MB.
const maxPriceMap = 64 << 20

// priceMapURL reads general_settings.price_map_url.
func priceMapURL(cfg *config.Config) string {
	s, _ := cfg.General.Extra[PriceMapKey].(string)
	return s
}

// priceRefresher keeps a fetched cost map in force: loaded from its cache in the data folder at
// start, fetched at start and daily; a bad or unreachable file keeps the last good one and warns
// once until a fetch succeeds again.
type priceRefresher struct {
	url    string
	cache  string // the cached copy, named after the URL so another URL never reads it
	client *http.Client
	log    *slog.Logger

	mu     sync.Mutex
	warned bool
}

func newPriceRefresher(url, dataDir string, log *slog.Logger) *priceRefresher {
	sum := sha256.Sum256([]byte(url))
	return &priceRefresher{
		url:    url,
		cache:  filepath.Join(dataDir, "price-map-"+hex.EncodeToString(sum[:6])+".json"),
		client: &http.Client{Timeout: time.Minute},
		log:    log,
	}
}

// apply puts a parsed map in force.
func apply(m *pricing.CostMap) {
	pricing.SetCostMap(m)
	proxy.ResetPriceCache()
}

// loadCache puts the cached copy in force, if there is a good one; it reports whether it did.
func (r *priceRefresher) loadCache() bool {
	data, err := os.ReadFile(r.cache)
	if err != nil {
		return false
	}
	m, err := pricing.ParseCostMap(data, r.url)
	if err != nil {
		r.log.Warn("ignoring the cached price map", "path", r.cache, "err", err)
		return false
	}
	apply(m)
	return true
}

// refresh fetches the map once. On success it is in force and cached; on failure the last good
// map stays in force and the first failure in a row is logged.
func (r *priceRefresher) refresh(ctx context.Context) error {
	m, data, err := r.fetch(ctx)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		if !r.warned {
			r.warned = true
			r.log.Warn("price map not refreshed; the last good prices stay in force", "url", r.url, "err", err)
		}
		return err
	}
	r.warned = false
	apply(m)
	if err := writeFileAtomic(r.cache, data); err != nil {
		r.log.Warn("price map not cached", "path", r.cache, "err", err)
	}
	r.log.Info("price map refreshed", "url", r.url, "models", m.Len())
	return nil
}

func (r *priceRefresher) fetch(ctx context.Context) (*pricing.CostMap, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.url, nil)
	if err != nil {
		return nil, nil, err
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, nil, fmt.Errorf("HTTP %s", resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxPriceMap+1))
	if err != nil {
		return nil, nil, err
	}
	if len(data) > maxPriceMap {
		return nil, nil, fmt.Errorf("larger than %d MB", maxPriceMap>>20)
	}
	m, err := pricing.ParseCostMap(data, r.url)
	if err != nil {
		return nil, nil, fmt.Errorf("not a LiteLLM cost map: %w", err)
	}
	return m, data, nil
}

// priceRefreshed, when set (by tests), is told the outcome of each refresh the loop makes.
var priceRefreshed func(error)

// run refreshes now and then every period until ctx ends.
func (r *priceRefresher) run(ctx context.Context, every time.Duration) {
	once := func() {
		err := r.refresh(ctx)
		if priceRefreshed != nil {
			priceRefreshed(err)
		}
	}
	once()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			once()
		}
	}
}

// writeFileAtomic writes a temp file beside path and renames it over path.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// startPriceRefresh puts the cached map in force and starts the refresh loop, when the config
// names a map; stopPriceRefresh ends the loop; reloadPriceMap follows a changed URL.
func (a *App) startPriceRefresh() {
	a.priceMu.Lock()
	defer a.priceMu.Unlock()
	a.startPricesLocked()
}

func (a *App) startPricesLocked() {
	if a.priceURL == "" || a.stopPrices != nil {
		return
	}
	r := newPriceRefresher(a.priceURL, a.opts.DataDir, a.log)
	r.loadCache()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	a.stopPrices = func() { cancel(); <-done }
	go func() {
		defer close(done)
		r.run(ctx, priceRefreshEvery)
	}()
}

func (a *App) stopPriceRefresh() {
	a.priceMu.Lock()
	defer a.priceMu.Unlock()
	a.stopPricesLocked()
}

func (a *App) stopPricesLocked() {
	if a.stopPrices != nil {
		a.stopPrices()
		a.stopPrices = nil
	}
}

// reloadPriceMap applies a reloaded config's price_map_url: a new URL restarts the refresh
// (its own cache, then a fetch); none drops the map, so the embedded table alone answers.
// Reloads happen only while the gateway serves, when the loop should run.
func (a *App) reloadPriceMap(url string) {
	a.priceMu.Lock()
	defer a.priceMu.Unlock()
	if url == a.priceURL {
		return
	}
	a.stopPricesLocked()
	a.priceURL = url
	if url == "" {
		apply(nil)
		return
	}
	a.startPricesLocked()
}

// warnUnpriced logs each route of the config in force that has no price, and returns the list
// for Status.
func (a *App) warnUnpriced() []string {
	ws := a.srv.UnpricedRoutes()
	for _, w := range ws {
		a.log.Warn(w)
	}
	return ws
}
