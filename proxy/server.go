// Package proxy is the gateway: an HTTP server that speaks the OpenAI API and the LiteLLM proxy's
// API, authenticates callers, routes each request to a deployment and relays the answer, streams
// chunk by chunk. It imports nothing from app/ or ui/: what it needs from them it states as small
// interfaces (KeySource, UsageSink).
package proxy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/clawgate/clawgate/proxy/config"
	"github.com/clawgate/clawgate/proxy/responses"
	"github.com/clawgate/clawgate/proxy/route"
)

// DefaultMaxBody is the request body limit when general_settings.max_request_size_mb is unset.
// OpenClaw's first turn is ~70 KB and images make it several MB.
const DefaultMaxBody = 32 << 20

// Options configure a Server.
type Options struct {
	Config *config.Config
	// MasterKey overrides general_settings.master_key (e.g. from LITELLM_MASTER_KEY).
	MasterKey string
	Keys      KeySource
	Usage     UsageSink
	Logger    *slog.Logger
	// Factory builds providers; nil uses the built-in providers.
	Factory route.Factory
	// Gate admits requests (budgets, rate limits); nil admits all.
	Gate Gate
	// Admin serves the management API; nil answers it with 501.
	Admin Admin
	// BodyGrace is how long a request body may take before it must keep up a minimum rate
	// (default DefaultBodyGrace; see body.go).
	BodyGrace time.Duration
	// UnauthConns bounds the not-yet-authenticated connections per client address (default
	// DefaultUnauthConns; see conns.go).
	UnauthConns int
}

// ErrAuthOff is returned by SetConfig for a config without a master key while one is in force,
// and by Serve for a listener beyond loopback with no master key: auth never weakens while the
// gateway runs.
var ErrAuthOff = errors.New("auth would be off")

// Server is the gateway. Its config can be swapped while it serves.
type Server struct {
	log   *slog.Logger
	usage UsageSink
	keys  KeySource
	fact  route.Factory
	gate  Gate
	admin Admin
	state atomic.Pointer[state]
	// outputs learns each deployment's output lengths, for expected costs.
	outputs outputStats
	// keepStreams makes relays keep the chunks they send, for stored prompts.
	keepStreams atomic.Bool
	mux         *http.ServeMux
	handler     http.Handler
	http        *http.Server
	bodyGrace   time.Duration

	// drain bounds the reading of a stream whose client left (zero: the defaults; tests shrink it).
	drain drainLimits

	// respStore keeps stored Responses API responses (responsesapi.go), made on first use.
	respOnce  sync.Once
	respStore *responses.Store
	// health runs GET /health's checks, one run at a time, results cached (health_check.go).
	health healthChecks
	// leaving is set by Leave: /health/readiness fails so a load balancer stops sending requests
	// before the server stops taking them.
	leaving atomic.Bool
}

// state is everything derived from one config; swapped atomically on reload.
type state struct {
	cfg       *config.Config
	router    *route.Router
	deps      []*route.Deployment
	auth      *authenticator
	maxBody   int64
	loadedAt  time.Time
	masterKey string
	cors      []string // origins allowed to call from a browser (cors.go); empty without a master key
}

// New builds a Server from a config.
func New(opts Options) (*Server, error) {
	s := &Server{log: opts.Logger, usage: opts.Usage, keys: opts.Keys, fact: opts.Factory, gate: opts.Gate, admin: opts.Admin}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.fact == nil {
		s.fact = withMessages(NewProvider)
	}
	if err := s.SetConfig(opts.Config, opts.MasterKey); err != nil {
		return nil, err
	}
	s.bodyGrace = opts.BodyGrace
	if s.bodyGrace <= 0 {
		s.bodyGrace = DefaultBodyGrace
	}
	limit := opts.UnauthConns
	if limit <= 0 {
		limit = DefaultUnauthConns
	}
	guard := newConnGuard(limit, func(addr string) {
		s.log.Warn("too many connections that have not authenticated; closing new ones from this address", "addr", addr, "limit", limit)
	})
	s.routes()
	s.handler = http.HandlerFunc(s.serveHTTP)
	s.http = &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       5 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
		ConnContext:       guard.connContext,
		ConnState:         guard.connState,
	}
	return s, nil
}

// serveHTTP is what every request goes through first: its body gets a read deadline, and with no
// master key a request a web page could have made is refused (guard.go).
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	withBodyDeadline(w, r, s.bodyGrace)
	st := s.state.Load()
	if !st.auth.hasMaster && refuseWeb(w, r) {
		return
	}
	if cors(w, r, st.cors) {
		return
	}
	s.mux.ServeHTTP(w, r)
}

// SetConfig swaps in a new config; on error the old one stays in force.
func (s *Server) SetConfig(cfg *config.Config, masterKey string) error {
	if cfg == nil {
		cfg = &config.Config{Router: config.Default()}
	}
	deps, err := route.Build(cfg, s.fact)
	if err != nil {
		return err
	}
	for _, d := range deps {
		if d.APIBase == "" {
			// Show where calls really go (headers, /model/info, errors), not an empty base.
			d.APIBase = defaultBase(d.ProviderName)
		}
	}
	if masterKey == "" {
		masterKey = cfg.General.MasterKey
	}
	if old := s.state.Load(); old != nil && old.auth.hasMaster && masterKey == "" {
		return fmt.Errorf("%w: the new config has no master key and the running one has; restart to run without one", ErrAuthOff)
	}
	st := &state{
		cfg:       cfg,
		deps:      deps,
		router:    route.New(deps, route.SettingsFrom(cfg.Router)),
		auth:      newAuthenticator(masterKey, s.keys),
		maxBody:   DefaultMaxBody,
		loadedAt:  time.Now(),
		masterKey: masterKey,
	}
	if mb := cfg.General.MaxRequestSizeMB; mb > 0 {
		st.maxBody = int64(mb * (1 << 20))
	}
	if o := cfg.General.CORSAllowOrigins; len(o) > 0 {
		if masterKey == "" {
			s.log.Warn("general_settings.cors_allow_origins is ignored: without a master key every caller is master, so web pages stay refused", "origins", o)
		} else {
			st.cors = o
		}
	}
	s.state.Store(st)
	return nil
}

// KeepStreamBodies turns on (or off) keeping each streamed answer's chunks in Usage.ResponseBody,
// which costs a copy of every chunk; non-streamed bodies are handed over at no cost either way.
func (s *Server) KeepStreamBodies(on bool) { s.keepStreams.Store(on) }

// MasterKey returns the master key in force ("" when auth is off).
func (s *Server) MasterKey() string { return s.state.Load().masterKey }

// HasMasterKey reports whether auth is on.
func (s *Server) HasMasterKey() bool { return s.state.Load().auth.hasMaster }

// Models returns the public model names served, in config order.
func (s *Server) Models() []string { return s.state.Load().router.Groups() }

// Handler returns the gateway's HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

func (s *Server) routes() {
	m := http.NewServeMux()
	// The OpenAI-shaped endpoints, each under every prefix OpenAI's and Azure's clients use and
	// with the model in the path (Azure deployments, the old engines form).
	for _, e := range []struct {
		path string
		h    http.HandlerFunc
	}{{"/chat/completions", s.handleChat}, {"/embeddings", s.handleEmbeddings}, {"/completions", s.handleCompletions}} {
		for _, p := range []string{"", "/v1", "/openai", "/openai/v1", "/openai/deployments/{model}", "/engines/{model}"} {
			m.HandleFunc("POST "+p+e.path, e.h)
		}
	}
	for _, p := range []string{"/v1/responses", "/responses", "/openai/v1/responses"} {
		m.HandleFunc("POST "+p, s.handleResponses)
		m.HandleFunc("GET "+p+"/{id}", s.handleResponseGet)
		m.HandleFunc("DELETE "+p+"/{id}", s.handleResponseGet)
		m.HandleFunc("GET "+p+"/{id}/{items}", s.handleResponseGet)
	}
	for _, p := range []string{"/v1/messages", "/anthropic/v1/messages"} {
		m.HandleFunc("POST "+p, s.handleMessages)
		m.HandleFunc("POST "+p+"/count_tokens", s.handleCountTokens)
	}
	m.HandleFunc("GET /v1/models", s.handleModels)
	m.HandleFunc("GET /models", s.handleModels)
	m.HandleFunc("GET /v1/models/{model...}", s.handleModel)
	m.HandleFunc("GET /models/{model...}", s.handleModel)
	m.HandleFunc("GET /model/info", s.handleModelInfo)
	m.HandleFunc("GET /v1/model/info", s.handleModelInfo)
	m.HandleFunc("GET /health/liveliness", s.handleLiveliness)
	m.HandleFunc("GET /health/liveness", s.handleLiveliness)
	m.HandleFunc("GET /health/readiness", s.handleReadiness)
	for _, p := range []string{"/key/", "/spend/", "/global/", "/user/", "/team/", "/organization/", "/budget/", "/v1/key/", "/v1/spend/"} {
		m.HandleFunc(p, s.handleAdmin)
	}
	// LiteLLM's operational endpoints (endpoints.go).
	m.HandleFunc("GET /health", s.handleHealth)
	m.HandleFunc("GET /model_group/info", s.handleModelGroupInfo)
	m.HandleFunc("GET /v1/model_group/info", s.handleModelGroupInfo)
	m.HandleFunc("GET /routes", s.handleRoutes)
	m.HandleFunc("/", s.handleNotFound)
	s.mux = m
}

// Serve serves on l until Shutdown. It refuses a listener beyond loopback while there is no
// master key.
func (s *Server) Serve(l net.Listener) error {
	if tcp, ok := l.Addr().(*net.TCPAddr); ok && !tcp.IP.IsLoopback() && !s.HasMasterKey() {
		return fmt.Errorf("%w: refusing to serve on %s with no master key", ErrAuthOff, l.Addr())
	}
	err := s.http.Serve(l)
	if err == http.ErrServerClosed {
		return nil
	}
	return err
}

// Shutdown stops accepting requests and waits for in-flight ones (streams included) until ctx
// ends; then it closes what is left.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.http.Shutdown(ctx)
	if err != nil {
		_ = s.http.Close()
		return fmt.Errorf("drain in-flight requests: %w", err)
	}
	return nil
}

// Route is one public model name and what first serves it, for clients that mirror the routes.
type Route struct {
	Name, Provider, Model string
}

// RouteState is one deployment as a status view shows it.
type RouteState struct {
	Name, Provider, Model, APIBase, ID string
	// CoolingUntil is the end of its cooldown while it is cooling down, else zero.
	CoolingUntil   time.Time
	RecentFailures int // in the last minute
	// InputPerMTok and OutputPerMTok are USD per million tokens; nil when no price is known.
	InputPerMTok, OutputPerMTok *float64
	ContextWindow               int // 0 when unknown
}

// RouteStates lists every deployment, in config order, with its health and price.
func (s *Server) RouteStates() []RouteState {
	st := s.state.Load()
	var out []RouteState
	for _, h := range st.router.Health() {
		d := h.Deployment
		rs := RouteState{Name: d.Group, Provider: d.ProviderName, Model: d.Model, APIBase: d.APIBase, ID: d.ID,
			CoolingUntil: h.CoolingUntil, RecentFailures: h.RecentFailures}
		if rs.APIBase == "" {
			rs.APIBase = defaultBase(d.ProviderName)
		}
		if !strings.Contains(d.Model, "*") {
			p := priceFor(d, d.Model)
			rs.InputPerMTok, rs.OutputPerMTok = perMTok(p.InputCostPerToken), perMTok(p.OutputCostPerToken)
			if p.MaxInputTokens != nil {
				rs.ContextWindow = *p.MaxInputTokens
			}
		}
		out = append(out, rs)
	}
	return out
}

func perMTok(perToken *float64) *float64 {
	if perToken == nil {
		return nil
	}
	v := math.Round(*perToken*1e6*1e6) / 1e6 // per million, without float noise
	return &v
}

// Routes lists the model groups served, in config order, with their first deployment's provider
// and model as priced (model_info.base_model when set, else the upstream model).
func (s *Server) Routes() []Route {
	st := s.state.Load()
	var out []Route
	seen := map[string]bool{}
	for _, d := range st.deps {
		if seen[d.Group] {
			continue
		}
		seen[d.Group] = true
		provider, model := pricedModel(d, d.Model)
		out = append(out, Route{Name: d.Group, Provider: provider, Model: model})
	}
	return out
}
