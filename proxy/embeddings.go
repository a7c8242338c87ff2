package proxy

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/clawgate/clawgate/proxy/internal/wire"
	"github.com/clawgate/clawgate/proxy/provider"
	"github.com/clawgate/clawgate/proxy/route"
)

// embedder is a provider that serves OpenAI's embeddings API: the OpenAI-compatible ones pass
// the body through, Gemini, Vertex AI and Bedrock translate it.
type embedder interface {
	Embed(ctx context.Context, req *provider.Request) (*provider.Response, error)
}

// handleEmbeddings serves POST /v1/embeddings. It goes through the steps chat does (call.go):
// the key and its models, a price for budgeted keys, the gate, routing with retries and
// fallbacks; its spend row has call_type aembedding and the input tokens priced at the model's
// input price. The answer is given in the encoding_format asked for, whatever the upstream sent.
func (s *Server) handleEmbeddings(w http.ResponseWriter, r *http.Request) {
	c, ok := s.open(w, r, "aembedding")
	if !ok {
		return
	}
	body, ok := c.takeOptions(w, r)
	if !ok {
		return
	}
	bad := func(param, msg string) {
		writeError(w, http.StatusBadRequest, newAPIError(http.StatusBadRequest, typeInvalidRequest, msg).withParam(param), 0)
	}
	if c.opts.mock != nil {
		bad("mock_response", "mock_response is answered on /v1/chat/completions and /v1/completions; embeddings have no mock")
		return
	}
	var er wire.EmbeddingRequest
	if err := json.Unmarshal(body, &er); err != nil {
		bad("", "invalid embeddings request: "+cleanJSONErr(err).Error())
		return
	}
	if er.Model == "" {
		er.Model = r.PathValue("model")
	}
	if er.Model == "" {
		bad("model", `model is required: set "model" to one of the names GET /v1/models lists`)
		return
	}
	in, err := wire.ParseEmbeddingInput(er.Input)
	if err != nil {
		bad("input", err.Error())
		return
	}
	if f := er.EncodingFormat; f != "" && f != "float" && f != "base64" {
		bad("encoding_format", fmt.Sprintf("encoding_format must be float or base64, not %q", f))
		return
	}
	tokens := embeddingTokens(in)
	u := &c.u
	u.User = er.User
	_, ok = s.admit(r.Context(), w, c, er.Model, func(group string) estimate {
		return inputEstimateInGroup(c.st.deps, group, c.p.resolve(er.Model), tokens)
	})
	if !ok {
		return
	}
	var (
		resp     *provider.Response
		upstream time.Duration
	)
	res, err := c.route(r.Context(), func(ctx context.Context, d *route.Deployment, up string) error {
		em, ok := d.Provider.(embedder)
		if !ok {
			return &provider.Error{Status: http.StatusBadRequest, Type: typeInvalidRequest, Param: "model",
				Message: fmt.Sprintf("route %q (%s) does not serve embeddings: use an OpenAI-compatible, Azure, Gemini, Vertex AI or Bedrock (Titan, Cohere) embedding model", d.Group, upstreamName(d))}
		}
		if u.adm != nil {
			u.adm.Reprice(inputEstimate(d, up, tokens).cost)
		}
		t0 := time.Now()
		defer func() { upstream += time.Since(t0) }()
		actx, t := newIdleTimer(ctx, c.timeout(d))
		defer t.stop()
		out, err := em.Embed(actx, &provider.Request{Body: withModel(body, up), Model: up})
		if err != nil {
			return t.classify(err)
		}
		resp = out
		return nil
	})
	h := w.Header()
	setRouteHeaders(h, res)
	u.fill(res)
	if err != nil {
		s.writeRouteError(w, r, err, u)
		return
	}
	out, err := normalizeEmbeddings(resp.Body, er.EncodingFormat, tokens)
	if err != nil {
		pe := provider.AsError(err)
		msg := fmt.Sprintf("%s error from %s (model=%s): %s", u.Provider, u.APIBase, u.Model, pe.Message)
		writeError(w, http.StatusBadGateway, newAPIError(http.StatusBadGateway, typeServer, msg), 0)
		u.Status, u.Error = http.StatusBadGateway, msg
		s.record(u)
		return
	}
	// The answer is an OpenAI object with a usage: written, priced and recorded as chat's is.
	resp.Body = out
	s.writeCompletion(w, resp, u.Start, upstream, u)
}

// embeddingTokens is the local count of an input's tokens: token ids as given, text estimated.
// It prices the reservation, and the answer when the upstream reports no usage (Gemini).
func embeddingTokens(in wire.EmbeddingInputs) int {
	n := 0
	for _, t := range in.Texts {
		n += textTokens([]byte(t))
	}
	for _, ids := range in.Tokens {
		n += len(ids)
	}
	return n
}

// inputEstimate is the cost of tokens input tokens on d serving model (embeddings have no output).
func inputEstimate(d *route.Deployment, model string, tokens int) estimate {
	p := priceFor(d, model)
	var c float64
	if p.InputCostPerToken != nil {
		c = *p.InputCostPerToken * float64(tokens)
	}
	return estimate{cost: c, tokens: int64(tokens)}
}

// inputEstimateInGroup is the largest inputEstimate over group's deployments.
func inputEstimateInGroup(deps []*route.Deployment, group, model string, tokens int) estimate {
	var e estimate
	for _, d := range deps {
		if d.Group == group {
			e.cost = max(e.cost, inputEstimate(d, upstreamFor(d, model), tokens).cost)
			e.tokens = int64(tokens)
		}
	}
	return e
}

// withModel returns body with "model" set to model. Only used on bodies that are not chat's,
// whose sizes are modest; chat splices in place (request.go).
func withModel(body []byte, model string) []byte {
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		return body
	}
	m["model"], _ = json.Marshal(model)
	out, err := json.Marshal(m)
	if err != nil {
		return body
	}
	return out
}

// normalizeEmbeddings puts an upstream's embedding list in the encoding the client asked for
// (float when it named none) and fills in usage where the upstream reported none, from the local
// estimate. It returns the body to send, whose usage is what is billed.
func normalizeEmbeddings(body []byte, format string, estimated int) ([]byte, error) {
	var l wire.EmbeddingList
	if err := json.Unmarshal(body, &l); err != nil {
		return nil, wire.BadGateway("the upstream's embeddings answer is not an embedding list: %v", err)
	}
	if len(l.Data) == 0 {
		return nil, wire.BadGateway("the upstream's embeddings answer holds no embedding")
	}
	changed := false
	for i := range l.Data {
		if wire.IsString(l.Data[i].Embedding) == (format == "base64") {
			continue
		}
		raw, err := wire.ConvertEmbedding(l.Data[i].Embedding, format)
		if err != nil {
			return nil, wire.BadGateway("embedding %d: %v", i, err)
		}
		l.Data[i].Embedding, changed = raw, true
	}
	if l.Usage == nil {
		l.Usage, changed = &wire.EmbeddingUsage{PromptTokens: estimated, TotalTokens: estimated}, true
	}
	if l.Object == "" {
		l.Object, changed = "list", true
	}
	if !changed {
		return body, nil
	}
	return wire.Marshal(l)
}
