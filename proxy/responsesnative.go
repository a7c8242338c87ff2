package proxy

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/clawgate/clawgate/proxy/provider"
	"github.com/clawgate/clawgate/proxy/responses"
	"github.com/clawgate/clawgate/proxy/route"
)

// The Responses API passed through: on a route whose every deployment is OpenAI or Azure, a
// /v1/responses body goes to the deployment's own /responses endpoint with only "model" spliced
// in, through serveText as a chat body would (auth, budgets, key model limits, retries, usage),
// and its answer comes back as it was sent, metered from the Responses usage shape. Built-in
// tools, reasoning items and previous_response_id then work as OpenAI serves them.

// responder is a provider that serves the Responses API itself (openai.Provider).
type responder interface {
	Responses(ctx context.Context, req *provider.Request) (*provider.Response, error)
}

// responsesAPI is serveText's API for a Responses body passed through: one attempt is a call to
// the deployment's /responses, which a deployment reached by a fallback may not serve (a 400 the
// router does not retry).
var responsesAPI = textAPI{callType: "aresponses",
	parse: func(body []byte, _ string) (*chatRequest, error) { return passThroughRequest(body) },
	send: func(ctx context.Context, d *route.Deployment, prov provider.Provider, req *provider.Request) (*provider.Response, error) {
		if rp, ok := prov.(responder); ok && nativeResponses(d) {
			return rp.Responses(ctx, req)
		}
		return nil, &provider.Error{Status: http.StatusBadRequest, Type: typeInvalidRequest, Param: "model",
			Message: fmt.Sprintf("deployment %s (%s) cannot serve a Responses API request passed through to OpenAI; a fallback to it is not possible for this request", d.ID, d.ProviderName)}
	}}

// nativeResponses reports whether d serves the Responses API itself.
func nativeResponses(d *route.Deployment) bool {
	return d.ProviderName == "openai" || d.ProviderName == "azure"
}

// responsesNative reports whether every deployment of model's group serves the Responses API.
func responsesNative(st *state, model string) bool {
	group, ok := st.router.Lookup(model)
	if !ok {
		return false
	}
	seen := false
	for _, d := range st.deps {
		if d.Group == group {
			if _, ok := d.Provider.(responder); !ok || !nativeResponses(d) {
				return false
			}
			seen = true
		}
	}
	return seen
}

// passThroughRequest reads a Responses body for serveText. Usage is always in a Responses
// stream's last event, so nothing is added to the body but the model.
func passThroughRequest(body []byte) (*chatRequest, error) {
	if !json.Valid(body) {
		return nil, fmt.Errorf("the request body is not valid JSON")
	}
	req, err := scanObject(body)
	if err != nil {
		return nil, err
	}
	req.responses, req.IncludeUsage = true, true
	var mo struct {
		MaxOutputTokens *int `json:"max_output_tokens"`
	}
	if json.Unmarshal(body, &mo) == nil && mo.MaxOutputTokens != nil {
		req.MaxTokens = *mo.MaxOutputTokens
	}
	return req, nil
}

// eventLine is the "event:" line of a Responses event: its type.
func eventLine(payload []byte) []byte {
	typ := eventType(payload)
	if typ == "" {
		typ = "message"
	}
	return []byte("event: " + typ + "\n")
}

var typeFirst = []byte(`{"type":"`)

// eventType is a Responses event's top-level type. OpenAI writes it first, where it is read
// without decoding; an upstream that does not is decoded (items inside have types too).
func eventType(p []byte) string {
	if bytes.HasPrefix(p, typeFirst) {
		if v, ok := valueAfterKey(p, `"type"`, false); ok {
			return jsonString(v)
		}
	}
	var ev struct {
		Type string `json:"type"`
	}
	_ = json.Unmarshal(p, &ev)
	return ev.Type
}

// inspectResponses follows a passed-through Responses stream: the response id from its first
// event, the usage from its terminal one. Every event is forwarded as it came.
func (ss *streamState) inspectResponses(p []byte) ([]byte, bool) {
	ss.events++
	if !ss.firstParsed {
		if v, ok := valueAfterKey(p, `"id"`, false); ok {
			ss.id, ss.firstParsed = jsonString(v), true
		}
	}
	switch eventType(p) {
	case "response.completed", "response.incomplete", "response.failed":
		ss.finished = true
		if usage, ok := valueAfterKey(p, `"usage"`, true); ok && len(usage) > 0 && usage[0] == '{' {
			ss.usageRaw = append(ss.usageRaw[:0], usage...)
		}
	}
	return p, true
}

// responsesErrorEvent is the Responses API's error event, for a stream that broke.
func responsesErrorEvent(e apiError, seq int) []byte {
	b, _ := json.Marshal(map[string]any{"type": "error", "code": e.Type, "message": e.Message, "param": e.Param, "sequence_number": seq})
	return b
}

// passThrough serves a Responses request on a route that speaks the API itself.
func (s *Server) passThrough(w http.ResponseWriter, r *http.Request, p *Principal, body []byte, stored bool) {
	r2 := r.Clone(context.WithValue(r.Context(), principalKey{}, p))
	r2.ContentLength = int64(len(body)) // read again by serveText, for the estimate and stored prompts
	r2.Body = readCloser{bytes.NewReader(body)}
	sn := &idSniffer{ResponseWriter: w}
	s.serveText(sn, r2, responsesAPI)
	// A response OpenAI keeps is remembered with the deployment that keeps it, for GET and DELETE.
	if id := sn.id(); id != "" && stored {
		owner := p.KeyHash
		if p.Master {
			owner = ""
		}
		s.responseStore(s.state.Load()).Put(id, responses.Entry{Owner: owner, Upstream: w.Header().Get(hdrModelID)})
	}
}

// idSniffer passes a pass-through's answer on as it is, keeping its first bytes, where the
// response id is (the body's first member, or the first event's response's).
type idSniffer struct {
	http.ResponseWriter
	status int
	head   []byte
}

func (s *idSniffer) WriteHeader(status int) {
	if s.status == 0 {
		s.status = status
	}
	s.ResponseWriter.WriteHeader(status)
}

func (s *idSniffer) Write(p []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	if len(s.head) < 1024 {
		s.head = append(s.head, p[:min(len(p), 1024-len(s.head))]...)
	}
	return s.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the connection (flushes, deadlines).
func (s *idSniffer) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func (s *idSniffer) id() string {
	if s.status != http.StatusOK {
		return ""
	}
	v, ok := valueAfterKey(s.head, `"id"`, false)
	if !ok || !bytes.HasPrefix(v, []byte(`"resp_`)) {
		return ""
	}
	return jsonString(v)
}

// storedResponder is a provider that can read and delete the responses it keeps (openai.Provider).
type storedResponder interface {
	StoredResponse(ctx context.Context, method, rest, query string) ([]byte, error)
}

// forwardStored answers GET or DELETE on a response kept upstream by the deployment that made it.
func (s *Server) forwardStored(w http.ResponseWriter, r *http.Request, st *state, id, depID string) {
	for _, d := range st.deps {
		sr, ok := d.Provider.(storedResponder)
		if d.ID != depID || !ok {
			continue
		}
		rest, query := id, ""
		if r.PathValue("items") != "" {
			rest, query = id+"/"+r.PathValue("items"), r.URL.RawQuery
		}
		out, err := sr.StoredResponse(r.Context(), r.Method, rest, query)
		if err != nil {
			pe := provider.AsError(err)
			e := newAPIError(pe.Status, pe.Type, pe.Message)
			if e.Type == "" {
				e.Type = typeForStatus(pe.Status)
			}
			writeError(w, pe.Status, e, 0)
			return
		}
		if r.Method == http.MethodDelete {
			s.responseStore(st).Delete(id)
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(out)
		return
	}
	writeError(w, http.StatusNotFound, newAPIError(http.StatusNotFound, typeInvalidRequest,
		"Response with id '"+id+"' was kept by a deployment that is no longer configured.").withParam("response_id"), 0)
}
