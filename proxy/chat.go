package proxy

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/clawgate/clawgate/proxy/provider"
	"github.com/clawgate/clawgate/proxy/route"
)

// handleChat serves POST /v1/chat/completions (and its aliases).
func (s *Server) handleChat(w http.ResponseWriter, r *http.Request) { s.serveText(w, r, chatAPI) }

// textAPI is one of the two APIs served by serveText: chat completions, and the legacy text
// completions (completions.go), which differ only in their body and their upstream call.
type textAPI struct {
	callType string
	parse    func(body []byte, pathModel string) (*chatRequest, error)
	// send makes one upstream call on prov, d's provider or the mock standing in for it.
	send func(ctx context.Context, d *route.Deployment, prov provider.Provider, req *provider.Request) (*provider.Response, error)
}

var chatAPI = textAPI{callType: "acompletion", parse: parseChat,
	send: func(ctx context.Context, _ *route.Deployment, prov provider.Provider, req *provider.Request) (*provider.Response, error) {
		return prov.Chat(ctx, req)
	}}

// serveText serves one request of api, streamed or not.
func (s *Server) serveText(w http.ResponseWriter, r *http.Request, api textAPI) {
	c, ok := s.open(w, r, api.callType)
	if !ok {
		return
	}
	body, ok := c.takeOptions(w, r)
	if !ok {
		return
	}
	req, err := api.parse(body, r.PathValue("model"))
	if err != nil {
		writeError(w, http.StatusBadRequest, newAPIError(http.StatusBadRequest, typeInvalidRequest, err.Error()), 0)
		return
	}
	st, p, h, start, u := c.st, c.p, w.Header(), c.u.Start, &c.u
	u.User, u.Stream, u.n = req.User, req.Stream, req.N
	in := inputTokens(body)
	if req.Model, ok = s.admit(r.Context(), w, c, req.Model, func(group string) estimate {
		return s.outputs.expectedInGroup(st.deps, group, p.resolve(req.Model), in, req.N, req.MaxTokens)
	}); !ok {
		return
	}
	var (
		resp     *provider.Response
		first    []byte
		timer    *idleTimer
		upstream time.Duration
	)
	ctx, detach, release := upstreamContext(r, s.drain.forOr())
	handedOff := false // relay releases the context once the stream is drained
	defer func() {
		if !handedOff {
			release()
		}
	}()
	// The router stops making attempts when the client goes; an attempt in flight runs on ctx,
	// which outlives the client for a while, so that the call is still read for its usage. The
	// key's model list holds for every group the request can reach, fallbacks included.
	res, err := c.route(r.Context(), func(_ context.Context, d *route.Deployment, model string) error {
		t0 := time.Now()
		defer func() { upstream += time.Since(t0) }()
		if u.adm != nil && !u.Mock { // reserve at the prices of the deployment actually called
			u.adm.Reprice(s.outputs.expected(d, model, in, req.N, req.MaxTokens).cost)
		}
		actx, t := newIdleTimer(ctx, c.timeout(d))
		pr := &provider.Request{Body: req.upstreamBody(model), Model: model, Stream: req.Stream}
		var prov provider.Provider = d.Provider
		if c.opts.mock != nil {
			prov = mockProvider{text: *c.opts.mock, id: u.CallID}
		}
		out, err := api.send(actx, d, prov, pr)
		if err == nil && req.Stream {
			// Read the first event before committing, so a stream that fails at once can still be retried.
			first, err = out.Stream.Next()
			if err != nil {
				out.Stream.Close()
				if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
					err = &provider.Error{Status: http.StatusBadGateway, Message: "upstream stream ended before its first chunk", Type: "api_connection_error", Transport: true}
				}
			}
		}
		if err != nil {
			t.stop()
			return t.classify(err)
		}
		if !req.Stream {
			t.stop()
		}
		resp, timer = out, t
		return nil
	})
	setRouteHeaders(h, res)
	u.fill(res)
	if err != nil {
		s.writeRouteError(w, r, err, u)
		return
	}
	if req.Stream {
		h[hdrDuration] = []string{msString(time.Since(start))}
		h[hdrOverhead] = []string{msString(time.Since(start) - upstream)}
		handedOff = true
		s.relay(r.Context(), w, req, resp, first, timer, u, detach, release)
		return
	}
	s.writeCompletion(w, resp, start, upstream, u)
}

// writeCompletion writes a non-streamed chat.completion and records its usage.
func (s *Server) writeCompletion(w http.ResponseWriter, resp *provider.Response, start time.Time, upstream time.Duration, u *Usage) {
	u.ResponseID, u.UsageKnown = completionMeta(resp.Body, u)
	u.ResponseBody = resp.Body
	u.price(u.dep)
	h := w.Header()
	if u.UsageKnown {
		h[hdrCost] = []string{costString(u.Cost)}
	}
	copyUpstreamHeaders(h, resp.Header)
	h["Content-Type"] = valJSON
	h["Content-Length"] = []string{strconv.Itoa(len(resp.Body))}
	total := time.Since(start)
	h[hdrDuration] = []string{msString(total)}
	h[hdrOverhead] = []string{msString(total - upstream)}
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(resp.Body)
	u.Status = http.StatusOK
	if err != nil {
		u.Status, u.Error = 499, "client went away: "+err.Error()
	}
	s.record(u)
}

func (s *Server) record(u *Usage) {
	u.End = time.Now()
	if u.UsageKnown && !u.Priced && u.Cost == 0 {
		u.price(u.dep)
	}
	if u.adm != nil {
		u.adm.Done(u)
		u.adm = nil
	}
	if u.UsageKnown && u.Status == http.StatusOK && u.Error == "" && !u.Mock {
		s.outputs.observe(u.dep, u.Model, u.CompletionTokens/max(u.n, 1))
	}
	if s.usage != nil {
		s.usage.Record(*u)
	}
	if s.log.Enabled(context.Background(), slog.LevelDebug) {
		s.log.Debug("request", "call_id", u.CallID, "model", u.ModelGroup, "deployment", u.ModelID, "stream", u.Stream,
			"status", u.Status, "prompt_tokens", u.PromptTokens, "completion_tokens", u.CompletionTokens, "cost", u.Cost,
			"retries", u.Retries, "fallbacks", u.Fallbacks, "ms", u.End.Sub(u.Start).Milliseconds(), "error", u.Error)
	}
}

func (s *Server) writeAuthError(w http.ResponseWriter, err error) {
	var ae *authError
	if errors.As(err, &ae) {
		writeError(w, http.StatusUnauthorized, newAPIError(http.StatusUnauthorized, typeAuth, ae.msg).withParam("None"), 0)
		return
	}
	// A KeySource refusing a key it knows (blocked, expired) says how to answer.
	var he HTTPError
	if errors.As(err, &he) {
		writeHTTPError(w, he)
		return
	}
	s.log.Error("key lookup failed", "err", err)
	writeError(w, http.StatusInternalServerError, newAPIError(http.StatusInternalServerError, typeServer, "could not check the key: the key store failed"), 0)
}

func (s *Server) writeUnknownModel(w http.ResponseWriter, st *state, model string) {
	groups := st.router.Groups()
	msg := fmt.Sprintf("Invalid model name passed in model=%s. Call `/v1/models` to view available models for your key. Available models: %s",
		model, strings.Join(groups, ", "))
	if len(groups) == 0 {
		msg = fmt.Sprintf("Invalid model name passed in model=%s. No models are configured: add one to model_list in config.yaml.", model)
	}
	e := newAPIError(http.StatusBadRequest, typeInvalidRequest, msg).withParam("model")
	e.Details = map[string]any{"available_models": groups}
	writeError(w, http.StatusBadRequest, e, 0)
}

// writeRouteError answers a request that no deployment could serve.
func (s *Server) writeRouteError(w http.ResponseWriter, r *http.Request, err error, u *Usage) {
	var unknown *route.UnknownModelError
	var cool *route.CooldownError
	var refused *route.NotAllowedError
	note := "" // fallbacks the key may not use, when some were skipped
	if errors.As(err, &refused) {
		if refused.Err == nil {
			msg := fmt.Sprintf("key not allowed to access model. This key can only access models=%v. %s", u.Principal.Models, refused.Error())
			writeError(w, http.StatusForbidden, newAPIError(http.StatusForbidden, typeModelDenied, msg).withParam("model"), 0)
			u.Status, u.Error = http.StatusForbidden, msg
			s.record(u)
			return
		}
		note = " (fallbacks " + refused.Note() + ")"
	}
	switch {
	case errors.As(err, &unknown):
		s.writeUnknownModel(w, s.state.Load(), unknown.Model)
		u.Status, u.Error = http.StatusBadRequest, err.Error()
	case errors.As(err, &cool):
		msg := fmt.Sprintf("No deployments available for selected model: every deployment of %s is cooling down after failures. Try again in %s. Passed model=%s%s",
			cool.Group, cool.RetryAfter.Round(time.Second), u.ModelGroup, note)
		writeError(w, http.StatusTooManyRequests, newAPIError(http.StatusTooManyRequests, typeRateLimit, msg), cool.RetryAfter)
		u.Status, u.Error = http.StatusTooManyRequests, msg
	case r.Context().Err() != nil:
		u.Status, u.Error = 499, "client closed the request before the upstream answered"
		u.estimateCut(err)
	default:
		pe := provider.AsError(err)
		status := pe.Status
		if status < 400 || status > 599 {
			status = http.StatusBadGateway
		}
		typ := pe.Type
		if typ == "" {
			typ = typeForStatus(status)
		}
		msg := pe.Message
		if msg == "" {
			msg = http.StatusText(status)
		}
		if u.Provider != "" {
			msg = fmt.Sprintf("%s error from %s (model=%s): %s", u.Provider, u.APIBase, u.Model, msg)
		}
		msg += note
		e := newAPIError(status, typ, msg)
		if pe.Code != "" {
			e.Code = pe.Code
		}
		if pe.Param != "" {
			e = e.withParam(pe.Param)
		}
		var ra time.Duration
		if status == http.StatusTooManyRequests {
			ra = pe.RetryAfter
		}
		writeError(w, status, e, ra)
		u.Status, u.Error = status, msg
	}
	s.record(u)
}

func typeForStatus(status int) string {
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return typeAuth
	case status == http.StatusNotFound:
		return typeNotFound
	case status == http.StatusTooManyRequests:
		return typeRateLimit
	case status >= 500:
		return typeServer
	}
	return typeInvalidRequest
}

// fill copies what routing decided into the usage record.
func (u *Usage) fill(res route.Result) {
	u.Retries, u.Fallbacks = res.Retries, res.Fallbacks
	u.dep = res.Deployment
	if d := res.Deployment; d != nil {
		u.Model, u.ModelID, u.Provider, u.APIBase = res.UpstreamModel, d.ID, d.ProviderName, d.APIBase
	}
}

// setKeyHeaders sets the version and, for a virtual key, its spend before this request and its
// max budget, as LiteLLM does (a header it has no value for is left out).
func setKeyHeaders(h http.Header, p *Principal) {
	h[hdrVersion] = []string{Version}
	if p.KeyHash == "" || p.Master {
		return
	}
	h[hdrKeySpend] = []string{strconv.FormatFloat(p.Spend, 'f', -1, 64)}
	if p.MaxBudget != nil {
		h[hdrKeyMaxBudget] = []string{strconv.FormatFloat(*p.MaxBudget, 'f', -1, 64)}
	}
}

func setRouteHeaders(h http.Header, res route.Result) {
	// One backing array for the values, and canonical keys set directly: this runs on every call.
	v := make([]string, 0, 5)
	add := func(k, val string) {
		v = append(v, val)
		h[k] = v[len(v)-1 : len(v) : len(v)]
	}
	if d := res.Deployment; d != nil {
		add(hdrModelID, d.ID)
		add(hdrAPIBase, d.APIBase)
	}
	if res.Group != "" {
		add(hdrGroup, res.Group)
	} else if res.RequestedGroup != "" {
		add(hdrGroup, res.RequestedGroup)
	}
	add(hdrRetries, strconv.Itoa(res.Retries))
	add(hdrFallbacks, strconv.Itoa(res.Fallbacks))
}

// The x-litellm-* response headers, in net/http's canonical form.
const (
	hdrCallID       = "X-Litellm-Call-Id"
	hdrModelID      = "X-Litellm-Model-Id"
	hdrAPIBase      = "X-Litellm-Model-Api-Base"
	hdrGroup        = "X-Litellm-Model-Group"
	hdrRetries      = "X-Litellm-Attempted-Retries"
	hdrFallbacks    = "X-Litellm-Attempted-Fallbacks"
	hdrDuration     = "X-Litellm-Response-Duration-Ms"
	hdrOverhead     = "X-Litellm-Overhead-Duration-Ms"
	hdrCost         = "X-Litellm-Response-Cost"
	hdrVersion      = "X-Litellm-Version"
	hdrKeySpend     = "X-Litellm-Key-Spend"
	hdrKeyMaxBudget = "X-Litellm-Key-Max-Budget"
)

// Constant header values, shared: net/http only reads them.
var (
	valJSON     = []string{"application/json"}
	valSSE      = []string{"text/event-stream"}
	valNoCache  = []string{"no-cache"}
	valKeepOpen = []string{"keep-alive"}
	valNo       = []string{"no"}
)

// copyUpstreamHeaders passes on the upstream's rate-limit and request-id headers.
func copyUpstreamHeaders(dst, src http.Header) {
	for k, v := range src {
		lk := strings.ToLower(k)
		if strings.HasPrefix(lk, "x-ratelimit-") || lk == "x-request-id" || lk == "openai-processing-ms" {
			dst[k] = v
		}
	}
}

func timeoutFor(d *route.Deployment, st *state) time.Duration {
	if t := d.Config.Params.Timeout; t > 0 {
		return t
	}
	if t := st.cfg.Router.Timeout; t > 0 {
		return t
	}
	return 600 * time.Second
}

// idleTimer cancels an upstream call that stays silent too long: before the answer, and between
// stream chunks. It tells a timeout apart from the client going away.
type idleTimer struct {
	d      time.Duration
	t      *time.Timer
	fired  atomic.Bool
	cancel context.CancelFunc
}

func newIdleTimer(parent context.Context, d time.Duration) (context.Context, *idleTimer) {
	ctx, cancel := context.WithCancel(parent)
	it := &idleTimer{d: d, cancel: cancel}
	it.t = time.AfterFunc(d, func() { it.fired.Store(true); cancel() })
	return ctx, it
}

func (it *idleTimer) reset() { it.t.Reset(it.d) }

func (it *idleTimer) stop() { it.t.Stop(); it.cancel() }

// classify turns the cancellation the timer caused into a retryable 504.
func (it *idleTimer) classify(err error) error {
	if it.fired.Load() {
		return &provider.Error{Status: http.StatusGatewayTimeout, Type: "timeout",
			Message: fmt.Sprintf("upstream did not answer within %s (timeout)", it.d), Transport: true, Err: err}
	}
	return err
}

func newCallID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	x := hex.EncodeToString(b[:])
	return x[:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:]
}

func msString(d time.Duration) string {
	return strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 3, 64)
}

func sizeString(n int64) string {
	if n%(1<<20) == 0 {
		return fmt.Sprintf("%d MB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

// modelAllowed checks a key's model list: exact names, "provider/*" style patterns, "*".
// notAllowed is LiteLLM's message for a model outside a key's list.
func notAllowed(models []string, requested string) string {
	return fmt.Sprintf("key not allowed to access model. This key can only access models=%v. Tried to access %s.", models, requested)
}

func modelAllowed(models []string, requested, group string) bool {
	if len(models) == 0 {
		return true
	}
	for _, m := range models {
		if m == "*" || m == requested || m == group || m == "all-proxy-models" {
			return true
		}
		if strings.HasSuffix(m, "*") && strings.HasPrefix(requested, strings.TrimSuffix(m, "*")) {
			return true
		}
	}
	return false
}

// completionMeta reads the id and usage of a chat.completion without decoding the whole body:
// both are top-level keys, found by scanning (a key's quotes are never escaped, while the same
// text inside a string value is), then decoded alone. A body it cannot read that way is decoded whole.
func completionMeta(body []byte, u *Usage) (id string, usageKnown bool) {
	if v, ok := valueAfterKey(body, `"id"`, false); ok && len(v) >= 2 && v[0] == '"' {
		if bytes.IndexByte(v, '\\') < 0 {
			id = string(v[1 : len(v)-1])
		} else if json.Unmarshal(v, &id) != nil {
			id = ""
		}
		if v, ok := valueAfterKey(body, `"usage"`, true); ok {
			u.setUsage(v)
			return id, u.UsageKnown
		}
	}
	var meta struct {
		ID    string          `json:"id"`
		Usage json.RawMessage `json:"usage"`
	}
	_ = json.Unmarshal(body, &meta)
	u.setUsage(meta.Usage)
	return meta.ID, u.UsageKnown
}

// valueAfterKey returns the JSON value that follows key (and a colon) in p: the first occurrence,
// or the last one when last is set. The value is delimited, not validated; its decoder checks it.
func valueAfterKey(p []byte, key string, last bool) ([]byte, bool) {
	var i int
	if last {
		i = bytes.LastIndex(p, []byte(key))
	} else {
		i = bytes.Index(p, []byte(key))
	}
	if i < 0 {
		return nil, false
	}
	rest := bytes.TrimLeft(p[i+len(key):], " \t\r\n")
	if len(rest) == 0 || rest[0] != ':' {
		return nil, false
	}
	rest = bytes.TrimLeft(rest[1:], " \t\r\n")
	n := valueEnd(rest)
	if n <= 0 {
		return nil, false
	}
	return rest[:n], true
}

// valueEnd returns the length of the JSON value at the start of p (0 if it does not end in p).
func valueEnd(p []byte) int {
	if len(p) == 0 {
		return 0
	}
	switch p[0] {
	case '"':
		for i := 1; i < len(p); i++ {
			switch p[i] {
			case '\\':
				i++
			case '"':
				return i + 1
			}
		}
		return 0
	case '{', '[':
		depth := 0
		for i := 0; i < len(p); i++ {
			switch p[i] {
			case '"':
				n := valueEnd(p[i:])
				if n == 0 {
					return 0
				}
				i += n - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
		}
		return 0
	}
	for i, c := range p {
		if c == ',' || c == '}' || c == ']' || c == ' ' || c == '\n' || c == '\r' || c == '\t' {
			return i
		}
	}
	return len(p)
}
