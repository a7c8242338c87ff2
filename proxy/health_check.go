package proxy

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/clawgate/clawgate/proxy/provider"
	"github.com/clawgate/clawgate/proxy/route"
)

// LiteLLM's GET /health: a real, tiny call to every deployment. Each costs a few tokens upstream,
// so the endpoint is the master key's, a run is bounded (a timeout per check, a few checks at
// once), runs never overlap, and a result is reused for healthCacheTTL.
const (
	healthCheckTimeout = 15 * time.Second
	healthCacheTTL     = 30 * time.Second
	healthParallel     = 4
)

// healthChecks keeps the last results and lets one run happen at a time.
type healthChecks struct {
	mu    sync.Mutex // held for a whole run: callers meanwhile wait, then read its result
	last  map[string]healthResult
	ttl   time.Duration // 0: healthCacheTTL (tests shorten it)
	limit time.Duration // per check; 0: healthCheckTimeout
}

type healthResult struct {
	at   time.Time
	body map[string]any
	st   *state // the config it was made for: a reload makes it stale
}

// handleHealth serves GET /health (?model= checks one model group).
func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	st := s.state.Load()
	p, err := s.authenticate(r, st)
	if err != nil {
		s.writeAuthError(w, err)
		return
	}
	if !p.Master {
		writeError(w, http.StatusForbidden, newAPIError(http.StatusForbidden, typeAuth,
			"/health calls every deployment upstream, which costs money: it needs the master key"), 0)
		return
	}
	model := r.URL.Query().Get("model")
	if model != "" {
		if _, ok := st.router.Lookup(model); !ok {
			s.writeUnknownModel(w, st, model)
			return
		}
	}
	writeJSON(w, http.StatusOK, s.health.run(r.Context(), st, model))
}

func (h *healthChecks) run(ctx context.Context, st *state, model string) map[string]any {
	h.mu.Lock()
	defer h.mu.Unlock()
	ttl := h.ttl
	if ttl <= 0 {
		ttl = healthCacheTTL
	}
	if c, ok := h.last[model]; ok && c.st == st && time.Since(c.at) < ttl {
		return c.body
	}
	var deps []*route.Deployment
	group, _ := st.router.Lookup(model)
	for _, d := range st.deps {
		if model == "" || d.Group == group {
			deps = append(deps, d)
		}
	}
	limit := h.limit
	if limit <= 0 {
		limit = healthCheckTimeout
	}
	errs := make([]error, len(deps))
	sem := make(chan struct{}, healthParallel)
	var wg sync.WaitGroup
	for i, d := range deps {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), min(limit, timeoutFor(d, st)))
			defer cancel()
			errs[i] = checkDeployment(cctx, d, model)
		}()
	}
	wg.Wait()
	healthy, unhealthy := []map[string]any{}, []map[string]any{}
	for i, d := range deps {
		e := map[string]any{"model": d.Config.Params.Model, "model_name": d.Group, "model_id": d.ID, "api_base": route.ShownBase(d.APIBase)}
		if errs[i] == nil {
			healthy = append(healthy, e)
			continue
		}
		e["error"] = healthError(errs[i])
		unhealthy = append(unhealthy, e)
	}
	body := map[string]any{"healthy_endpoints": healthy, "unhealthy_endpoints": unhealthy,
		"healthy_count": len(healthy), "unhealthy_count": len(unhealthy)}
	if h.last == nil {
		h.last = map[string]healthResult{}
	}
	h.last[model] = healthResult{at: time.Now(), body: body, st: st}
	return body
}

// healthError is the reason a check failed, without URL queries: a transport error quotes the
// URL it called, and an api_base may carry a key there (?key=, ?api-key=).
func healthError(err error) string {
	if errors.Is(err, context.DeadlineExceeded) {
		return "no answer within the health check's timeout"
	}
	pe := provider.AsError(err)
	if pe.Status == http.StatusGatewayTimeout {
		return "no answer within the health check's timeout"
	}
	msg := pe.Message
	if msg == "" {
		msg = err.Error()
	}
	return urlQuery.ReplaceAllString(msg, "")
}

// urlQuery matches the query of a URL quoted in an error message.
var urlQuery = regexp.MustCompile(`\?[^\s"'<>]*`)

// checkDeployment makes the tiny call: an embedding for embedding models (model_info.mode, or
// the price table's), a one-token chat otherwise. A wildcard deployment is checked with its
// health_check_model (model_info, or litellm_params), as in LiteLLM.
func checkDeployment(ctx context.Context, d *route.Deployment, requested string) error {
	model := d.Model
	if model == "" || strings.Contains(model, "*") {
		hc := healthCheckModel(d)
		if hc == "" {
			return errors.New("a wildcard route is checked only with model_info.health_check_model set (e.g. openai/gpt-4o-mini)")
		}
		model = strings.TrimPrefix(hc, d.ProviderName+"/")
	}
	if mode, _ := d.Config.Info.Extra["mode"].(string); mode == "embedding" || (mode == "" && priceFor(d, model).Mode == "embedding") {
		em, ok := d.Provider.(embedder)
		if !ok {
			return errors.New("this route does not serve embeddings")
		}
		_, err := em.Embed(ctx, &provider.Request{Body: withModel([]byte(`{"input":"health check"}`), model), Model: model})
		return err
	}
	body := withModel([]byte(`{"messages":[{"role":"user","content":"ping"}],"max_tokens":1}`), model)
	resp, err := d.Provider.Chat(ctx, &provider.Request{Body: body, Model: model})
	if err == nil && resp.Stream != nil {
		resp.Stream.Close()
	}
	return err
}

func healthCheckModel(d *route.Deployment) string {
	if m, ok := d.Config.Info.Extra["health_check_model"].(string); ok && m != "" {
		return m
	}
	m, _ := d.Config.Params.Extra["health_check_model"].(string)
	return m
}
