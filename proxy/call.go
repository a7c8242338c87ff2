package proxy

import (
	"context"
	"net/http"
	"time"

	"github.com/clawgate/clawgate/proxy/route"
)

// call is one request on its way through the steps every model endpoint shares (chat, text
// completions, embeddings): the key, the body, the model's group and the key's right to it, a
// price for budgeted keys, the gate, then routing with the key's model list and the body's
// routing options. Each endpoint does only its own parsing and its own upstream call.
type call struct {
	st   *state
	p    *Principal
	body []byte // as the client sent it
	opts callOptions
	u    Usage
}

// open authenticates the caller and reads the body. On failure it has answered.
func (s *Server) open(w http.ResponseWriter, r *http.Request, callType string) (*call, bool) {
	start := time.Now()
	st := s.state.Load()
	callID := newCallID()
	h := w.Header()
	h[hdrCallID] = []string{callID}
	p, err := s.authenticate(r, st)
	if err != nil {
		s.writeAuthError(w, err)
		return nil, false
	}
	setKeyHeaders(h, p)
	body, err := readBody(w, r, st.maxBody)
	if err != nil {
		status, msg := bodyError(err, st.maxBody)
		writeError(w, status, newAPIError(status, typeInvalidRequest, msg), 0)
		return nil, false
	}
	if ct, ok := r.Context().Value(callTypeKey{}).(string); ok && ct != "" {
		callType = ct
	}
	c := &call{st: st, p: p, body: body}
	c.u = Usage{CallID: callID, CallType: callType, Principal: p, Start: start, RequestBody: body}
	return c, true
}

// takeOptions reads and removes LiteLLM's routing fields from the body (see options.go). On
// failure it has answered.
func (c *call) takeOptions(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, o, err := takeOptions(c.body, r.Header)
	if err != nil {
		writeError(w, http.StatusBadRequest, newAPIError(http.StatusBadRequest, typeInvalidRequest, err.Error()), 0)
		return nil, false
	}
	c.opts = o
	c.u.Mock = o.mock != nil
	return body, true
}

// admit takes model (a key alias resolved) to its group and lets the request in: the key must
// be allowed the group, a budgeted key needs a priced route, and the gate must admit the
// expected cost, which est gives for the group. On refusal it has answered (and logged the
// refusal as a failed call). It returns the model group asked for.
func (s *Server) admit(ctx context.Context, w http.ResponseWriter, c *call, model string, est func(group string) estimate) (string, bool) {
	model = c.p.resolve(model) // before the lookup: an alias routes, and is checked, as its group
	c.u.ModelGroup = model
	group, ok := c.st.router.Lookup(model)
	if !ok {
		s.writeUnknownModel(w, c.st, model)
		return "", false
	}
	if !modelAllowed(c.p.Models, model, group) {
		msg := notAllowed(c.p.Models, model)
		writeError(w, http.StatusForbidden, newAPIError(http.StatusForbidden, typeModelDenied, msg).withParam("model"), 0)
		c.u.Status, c.u.Refusal, c.u.Error = http.StatusForbidden, typeModelDenied, msg
		s.record(&c.u) // logged as a failure, like every refusal
		return "", false
	}
	if err := s.refuseUnpriced(c.p, c.st.deps, group, model); err != nil {
		s.refuse(w, err, &c.u)
		return "", false
	}
	if s.gate != nil {
		e := est(group)
		if c.u.Mock {
			e = estimate{} // a mock costs nothing; the key's limits still count it
		}
		adm, err := s.gate.Admit(ctx, c.p, model, e.cost, e.tokens)
		if err != nil {
			s.refuse(w, err, &c.u)
			return "", false
		}
		c.u.adm = adm
	}
	return model, true
}

// route serves the admitted model through the router: the key's model list bounds every group
// reached, fallbacks included, and the body's fallbacks and num_retries replace the config's.
func (c *call) route(ctx context.Context, attempt func(ctx context.Context, d *route.Deployment, model string) error) (route.Result, error) {
	o := route.Options{Fallbacks: c.opts.fallbacks, NumRetries: c.opts.numRetries}
	if c.opts.fallbacks != nil {
		// A key alias means the same in "fallbacks" as in "model".
		fb := make([]string, len(c.opts.fallbacks))
		for i, f := range c.opts.fallbacks {
			fb[i] = c.p.resolve(f)
		}
		o.Fallbacks = fb
	}
	if len(c.p.Models) > 0 {
		models := c.p.Models
		o.Allow = func(model, group string) bool { return modelAllowed(models, model, group) }
	}
	return c.st.router.DoWith(ctx, c.u.ModelGroup, o, attempt)
}

// timeout is how long an attempt on d may stay silent: the request's own timeout (body
// "timeout" or x-litellm-timeout) when it set one, else the deployment's or the router's.
func (c *call) timeout(d *route.Deployment) time.Duration {
	if c.opts.timeout > 0 {
		return c.opts.timeout
	}
	return timeoutFor(d, c.st)
}
