package proxy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/clawgate/clawgate/proxy/messages"
	"github.com/clawgate/clawgate/proxy/provider"
	"github.com/clawgate/clawgate/proxy/provider/claudeapi"
)

type callTypeKey struct{}

// handleMessages serves Anthropic's Messages API (POST /v1/messages) for any route, so Claude
// Code and the Anthropic SDKs can use the gateway. Where every deployment the call can reach
// speaks Messages itself (Claude on Anthropic, Vertex AI, Bedrock) it passes through untranslated
// (passMessages). Otherwise the request is translated to a chat
// completion and served by handleChat (auth, budgets, routing, retries, usage: all the same);
// its answer is translated back on the way out, chunk by chunk for streams.
//
// The key is checked before the body is read: an unauthenticated caller must not make the gateway
// hold or translate megabytes.
func (s *Server) handleMessages(w http.ResponseWriter, r *http.Request) {
	st := s.state.Load()
	p, err := s.authenticate(r, st)
	if err != nil {
		aw := &anthropicWriter{w: w, header: http.Header{}}
		s.writeAuthError(aw, err)
		aw.finish()
		return
	}
	body, err := readBody(w, r, st.maxBody)
	if err != nil {
		status, msg := bodyError(err, st.maxBody)
		writeAnthropicError(w, status, msg)
		return
	}
	var head struct {
		Model string `json:"model"`
	}
	_ = json.Unmarshal(body, &head)
	head.Model = p.resolve(head.Model)
	if s.nativeRoute(st, head.Model) {
		s.passMessages(w, r, st, p, body, head.Model)
		return
	}
	limit := maxOutputOf(st, head.Model)
	chat, info, err := messages.ToChat(body, messages.Options{Plain: !s.anthropicGroup(st, head.Model), MaxTokens: limit})
	if err != nil {
		status, b := messages.ErrorFrom(err)
		writeAnthropicBody(w, status, b)
		return
	}
	if info.Lowered > 0 {
		w.Header().Set(hdrMaxTokensLowered, strconv.Itoa(info.Lowered)+"->"+strconv.Itoa(limit))
	}
	ctx := context.WithValue(context.WithValue(r.Context(), callTypeKey{}, "anthropic_messages"), principalKey{}, p)
	r2 := r.Clone(ctx)
	r2.Body = http.NoBody
	r2.ContentLength = int64(len(chat))
	r2.Body = readCloser{bytes.NewReader(chat)}
	aw := &anthropicWriter{w: w, info: info, header: http.Header{}}
	s.handleChat(aw, r2)
	aw.finish()
}

// handleCountTokens serves /v1/messages/count_tokens: the upstream's own count where a
// deployment can count (Claude on Anthropic's API or Vertex AI), else, or when that fails for a
// reason other than the request, a local estimate, said in X-Clawgate-Token-Count: never a 404.
//
// A key's model list and its request limits hold here as on every call: it is admitted by the
// gate with no cost (a spent budget refuses it like any request) and settled with no usage, so it
// takes a request from the key's rpm and writes no spend row.
func (s *Server) handleCountTokens(w http.ResponseWriter, r *http.Request) {
	st := s.state.Load()
	p, err := s.authenticate(r, st)
	if err != nil {
		writeAnthropicError(w, http.StatusUnauthorized, "invalid x-api-key")
		return
	}
	body, err := readBody(w, r, st.maxBody)
	if err != nil {
		status, msg := bodyError(err, st.maxBody)
		writeAnthropicError(w, status, msg)
		return
	}
	var head struct {
		Model string `json:"model"`
	}
	_ = json.Unmarshal(body, &head)
	if group, _ := st.router.Lookup(head.Model); !modelAllowed(p.Models, head.Model, group) {
		writeAnthropicError(w, http.StatusForbidden, notAllowed(p.Models, head.Model))
		return
	}
	if s.gate != nil {
		adm, err := s.gate.Admit(r.Context(), p, head.Model, 0, 0)
		if err != nil {
			aw := &anthropicWriter{w: w, header: http.Header{}}
			writeHTTPError(aw, err)
			aw.finish()
			return
		}
		defer adm.Done(nil)
	}
	if out, err := s.countUpstream(r, st, head.Model, body); err == nil {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(out)
		return
	} else if !canEstimate(err) {
		status, b := messages.ErrorFrom(err)
		writeAnthropicBody(w, status, b)
		return
	}
	w.Header().Set(hdrTokenCount, "estimate")
	n, err := messages.CountTokens(body)
	if err != nil {
		status, b := messages.ErrorFrom(err)
		writeAnthropicBody(w, status, b)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(messages.CountTokensBody(n))
}

// hdrTokenCount says how a count_tokens answer was made when it is not the upstream's own count.
const hdrTokenCount = "X-Clawgate-Token-Count"

// messagesCounter is a deployment that can count a Messages request's tokens upstream.
type messagesCounter interface {
	CountMessages(ctx context.Context, req *claudeapi.Request) ([]byte, error)
}

// errCannotCount is countUpstream's answer for a route with no deployment that can count.
var errCannotCount = errors.New("no deployment of the model can count tokens")

// countUpstream asks the first deployment of model's group that can count, with the client's
// anthropic-* headers.
func (s *Server) countUpstream(r *http.Request, st *state, model string, body []byte) ([]byte, error) {
	group, ok := st.router.Lookup(model)
	if !ok {
		return nil, errCannotCount
	}
	fwd := http.Header{}
	for _, k := range passedHeaders {
		if v := r.Header.Values(k); len(v) > 0 {
			fwd[k] = v
		}
	}
	for _, d := range st.deps {
		mc, ok := d.Provider.(messagesCounter)
		if d.Group != group || !ok {
			continue
		}
		return mc.CountMessages(r.Context(), &claudeapi.Request{Body: body, Model: upstreamFor(d, strings.TrimPrefix(model, d.ProviderName+"/")), Header: fwd})
	}
	return nil, errCannotCount
}

// canEstimate reports whether a failed upstream count may be answered with the local estimate:
// a client counts to decide when to compact, and an upstream that cannot count (no endpoint,
// 404, down) must not fail that. An answer about the request itself (400, 413) stands.
func canEstimate(err error) bool {
	var pe *provider.Error
	if !errors.As(err, &pe) {
		return true
	}
	return pe.Status != http.StatusBadRequest && pe.Status != http.StatusRequestEntityTooLarge
}

// anthropicGroup reports whether every deployment serving model speaks Anthropic's API, so the
// translated request may keep Anthropic-only fields (thinking, cache_control).
func (s *Server) anthropicGroup(st *state, model string) bool {
	group, ok := st.router.Lookup(model)
	if !ok {
		return false
	}
	seen := false
	for _, d := range st.deps {
		if d.Group == group {
			if d.ProviderName != "anthropic" {
				return false
			}
			seen = true
		}
	}
	return seen
}

type readCloser struct{ *bytes.Reader }

func (readCloser) Close() error { return nil }

// anthropicWriter sits between handleChat and the client: it passes headers through and turns
// the OpenAI answer (a completion, an SSE stream or an error envelope) into Anthropic's shapes.
type anthropicWriter struct {
	w      http.ResponseWriter
	info   messages.Info
	header http.Header
	status int
	stream *messages.StreamWriter
	buf    bytes.Buffer // non-stream bodies, and partial SSE lines
	closed bool
}

func (a *anthropicWriter) Header() http.Header { return a.header }

func (a *anthropicWriter) WriteHeader(status int) {
	if a.status != 0 {
		return
	}
	a.status = status
	dst := a.w.Header()
	for k, v := range a.header {
		if k == "Content-Length" {
			continue
		}
		dst[k] = v
	}
	if status == http.StatusOK && a.header.Get("Content-Type") == "text/event-stream" {
		a.stream = messages.NewStreamWriter(a.w, a.info)
		a.w.WriteHeader(status)
	}
}

func (a *anthropicWriter) Write(p []byte) (int, error) {
	if a.status == 0 {
		a.WriteHeader(http.StatusOK)
	}
	a.buf.Write(p)
	if a.stream == nil {
		return len(p), nil
	}
	// Feed every complete SSE event to the translator.
	for {
		b := a.buf.Bytes()
		i := bytes.Index(b, []byte("\n\n"))
		if i < 0 {
			return len(p), nil
		}
		ev := b[:i]
		if data, ok := bytes.CutPrefix(ev, []byte("data: ")); ok && !a.closed {
			if err := a.event(data); err != nil {
				a.buf.Next(i + 2)
				return len(p), err
			}
		}
		a.buf.Next(i + 2)
	}
}

func (a *anthropicWriter) event(data []byte) error {
	if bytes.Equal(data, []byte("[DONE]")) {
		a.closed = true
		return a.stream.Close(nil)
	}
	if bytes.HasPrefix(data, []byte(`{"error"`)) {
		var env envelope
		_ = json.Unmarshal(data, &env)
		status, _ := strconv.Atoi(env.Error.Code)
		a.closed = true
		return a.stream.Close(&provider.Error{Status: status, Type: env.Error.Type, Message: env.Error.Message})
	}
	return a.stream.Chunk(data)
}

func (a *anthropicWriter) Flush() {
	if a.stream != nil {
		_ = http.NewResponseController(a.w).Flush()
	}
}

// finish writes what was buffered: the translated completion or error.
func (a *anthropicWriter) finish() {
	if a.stream != nil {
		if !a.closed {
			_ = a.stream.Close(errors.New("the stream ended early"))
		}
		return
	}
	body := a.buf.Bytes()
	if a.status == http.StatusOK {
		out, err := messages.FromChatCompletion(body, a.info)
		if err != nil {
			status, b := messages.ErrorFrom(err)
			writeAnthropicBody(a.w, status, b)
			return
		}
		a.w.Header().Set("Content-Length", strconv.Itoa(len(out)))
		a.w.WriteHeader(http.StatusOK)
		_, _ = a.w.Write(out)
		return
	}
	var env envelope
	msg := string(body)
	if json.Unmarshal(body, &env) == nil && env.Error.Message != "" {
		msg = env.Error.Message
	}
	writeAnthropicBody(a.w, a.status, messages.ErrorBody(a.status, msg))
}

func writeAnthropicError(w http.ResponseWriter, status int, msg string) {
	writeAnthropicBody(w, status, messages.ErrorBody(status, msg))
}

func writeAnthropicBody(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
