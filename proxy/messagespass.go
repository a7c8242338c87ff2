package proxy

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/clawgate/clawgate/proxy/messages"
	"github.com/clawgate/clawgate/proxy/provider"
	"github.com/clawgate/clawgate/proxy/provider/claudeapi"
	"github.com/clawgate/clawgate/proxy/route"
)

// messagesSender is a deployment that takes Anthropic's Messages API as it is (Claude on
// Anthropic's API, Vertex AI or Bedrock; see proxy/provider/claudeapi).
type messagesSender interface {
	Messages(ctx context.Context, req *claudeapi.Request) (*claudeapi.Response, error)
}

// nativeRoute reports whether a /v1/messages call for model can pass through untranslated: every
// deployment of its group, and of every fallback group it may reach, takes Messages as they are.
// A route mixing Claude with other upstreams is translated for all, as before, so that a
// fallback answers in the same way as the first choice.
func (s *Server) nativeRoute(st *state, model string) bool {
	group, ok := st.router.Lookup(model)
	if !ok || !nativeGroup(st, group) {
		return false
	}
	for _, to := range fallbacksOf(st, model, group) {
		g, ok := st.router.Lookup(to)
		if !ok || !nativeGroup(st, g) {
			return false
		}
	}
	return true
}

func nativeGroup(st *state, group string) bool {
	seen := false
	for _, d := range st.deps {
		if d.Group != group {
			continue
		}
		if _, ok := d.Provider.(messagesSender); !ok {
			return false
		}
		seen = true
	}
	return seen
}

// fallbacksOf is the fallback groups configured for the exact name, else its group, else "*"
// (the router's order).
func fallbacksOf(st *state, model, group string) []string {
	var star []string
	for _, key := range []string{model, group} {
		for _, f := range st.cfg.Router.Fallbacks {
			if f.Group == key {
				return f.To
			}
		}
	}
	for _, f := range st.cfg.Router.Fallbacks {
		if f.Group == "*" {
			star = f.To
		}
	}
	return star
}

// passedHeaders are the client headers a Messages pass-through forwards: the API version and
// beta features say how the body is to be read.
var passedHeaders = []string{"Anthropic-Version", "Anthropic-Beta"}

// passMessages serves a /v1/messages call on a native route: the body goes upstream as it came
// (only the model changes) and the answer comes back as the upstream wrote it. The key's model
// list, budgets, limits, retries and fallbacks hold as on chat, and the usage is read from the
// Message (or its stream's message_start and message_delta events) for the one usage record.
func (s *Server) passMessages(w http.ResponseWriter, r *http.Request, st *state, p *Principal, body []byte, model string) {
	start := time.Now()
	callID := newCallID()
	h := w.Header()
	h[hdrCallID] = []string{callID}
	setKeyHeaders(h, p)
	var head struct {
		Stream    bool `json:"stream"`
		MaxTokens int  `json:"max_tokens"`
		Metadata  struct {
			UserID string `json:"user_id"`
		} `json:"metadata"`
	}
	if err := json.Unmarshal(body, &head); err != nil {
		writeAnthropicError(w, http.StatusBadRequest, "invalid JSON body: "+err.Error())
		return
	}
	fail := func(write func(w http.ResponseWriter)) {
		aw := &anthropicWriter{w: w, header: http.Header{}}
		write(aw)
		aw.finish()
	}
	group, _ := st.router.Lookup(model)
	u := Usage{CallID: callID, CallType: "anthropic_messages", Principal: p, ModelGroup: model, User: head.Metadata.UserID,
		Stream: head.Stream, Start: start, RequestBody: body, n: 1}
	if !modelAllowed(p.Models, model, group) {
		msg := notAllowed(p.Models, model)
		writeAnthropicError(w, http.StatusForbidden, msg)
		u.Status, u.Refusal, u.Error = http.StatusForbidden, typeModelDenied, msg
		s.record(&u)
		return
	}
	in, err := messages.CountTokens(body)
	if err != nil {
		in = len(body)/4 + 1
	}
	if err := s.refuseUnpriced(p, st.deps, group, model); err != nil {
		fail(func(w http.ResponseWriter) { s.refuse(w, err, &u) })
		return
	}
	if s.gate != nil {
		est := s.outputs.expectedInGroup(st.deps, group, model, in, 1, head.MaxTokens)
		adm, err := s.gate.Admit(r.Context(), p, model, est.cost, est.tokens)
		if err != nil {
			fail(func(w http.ResponseWriter) { s.refuse(w, err, &u) })
			return
		}
		u.adm = adm
	}
	fwd := http.Header{}
	for _, k := range passedHeaders {
		if v := r.Header.Values(k); len(v) > 0 {
			fwd[k] = v
		}
	}
	var (
		resp     *claudeapi.Response
		first    [2][]byte // the stream's first event and its data, read before committing
		timer    *idleTimer
		upstream time.Duration
	)
	ctx, detach, release := upstreamContext(r, s.drain.forOr())
	handedOff := false
	defer func() {
		if !handedOff {
			release()
		}
	}()
	var allow route.Allow
	if len(p.Models) > 0 {
		allow = func(model, group string) bool { return modelAllowed(p.Models, model, group) }
	}
	res, err := st.router.DoAllowed(r.Context(), model, allow, func(_ context.Context, d *route.Deployment, upModel string) error {
		t0 := time.Now()
		defer func() { upstream += time.Since(t0) }()
		ms, ok := d.Provider.(messagesSender)
		if !ok { // the route changed under a reload; let the next deployment answer
			return &provider.Error{Status: http.StatusBadGateway, Type: "api_error", Message: "deployment " + d.ID + " does not take Anthropic's Messages API"}
		}
		if u.adm != nil {
			u.adm.Reprice(s.outputs.expected(d, upModel, in, 1, head.MaxTokens).cost)
		}
		actx, t := newIdleTimer(ctx, timeoutFor(d, st))
		out, err := ms.Messages(actx, &claudeapi.Request{Body: body, Model: upModel, Stream: head.Stream, Header: fwd})
		if err == nil && head.Stream {
			// The first event is read before committing, so a stream that fails at once is retried.
			var ev, data []byte
			ev, data, err = out.Stream.Next()
			if err != nil {
				out.Stream.Close()
				if errors.Is(err, io.EOF) {
					err = &provider.Error{Status: http.StatusBadGateway, Message: "upstream stream ended before its first event", Type: "api_connection_error", Transport: true}
				}
			} else {
				first = [2][]byte{append([]byte(nil), ev...), append([]byte(nil), data...)}
			}
		}
		if err != nil {
			t.stop()
			return t.classify(err)
		}
		if !head.Stream {
			t.stop()
		}
		resp, timer = out, t
		return nil
	})
	setRouteHeaders(h, res)
	u.fill(res)
	if err != nil {
		fail(func(w http.ResponseWriter) { s.writeRouteError(w, r, err, &u) })
		return
	}
	copyMessagesHeaders(h, resp.Header)
	if head.Stream {
		h[hdrDuration] = []string{msString(time.Since(start))}
		h[hdrOverhead] = []string{msString(time.Since(start) - upstream)}
		handedOff = true
		s.relayMessages(r.Context(), w, resp.Stream, first, timer, &u, detach, release)
		return
	}
	var mu claudeapi.Usage
	u.ResponseID = mu.Message(resp.Body)
	u.setMessagesUsage(mu)
	u.ResponseBody = resp.Body
	u.price(u.dep)
	if u.UsageKnown {
		h[hdrCost] = []string{costString(u.Cost)}
	}
	h["Content-Type"] = valJSON
	h["Content-Length"] = []string{strconv.Itoa(len(resp.Body))}
	total := time.Since(start)
	h[hdrDuration] = []string{msString(total)}
	h[hdrOverhead] = []string{msString(total - upstream)}
	w.WriteHeader(http.StatusOK)
	u.Status = http.StatusOK
	if _, err := w.Write(resp.Body); err != nil {
		u.Status, u.Error = 499, "client went away: "+err.Error()
	}
	s.record(&u)
}

// copyMessagesHeaders passes on the upstream's request id and rate-limit headers.
func copyMessagesHeaders(dst, src http.Header) {
	for k, v := range src {
		dst[k] = v
	}
}

// setMessagesUsage takes a Messages usage: the prompt is every input token, cached or not, as
// on the translated path.
func (u *Usage) setMessagesUsage(mu claudeapi.Usage) {
	if !mu.Known {
		return
	}
	u.UsageKnown = true
	u.PromptTokens, u.CompletionTokens = mu.Prompt(), mu.Output
	u.CachedTokens, u.CacheCreationTokens = mu.CacheRead, mu.CacheWrite
}

// messageTextKeys are the delta fields of Anthropic's events whose strings are generated tokens.
var messageTextKeys = [][]byte{[]byte(`"text":"`), []byte(`"thinking":"`), []byte(`"partial_json":"`)}

// relayMessages streams the upstream's events to the client as it sent them, one flush per
// burst. A client that goes away does not end the upstream call: it is read on for its usage
// within s.drain's bounds, and billed at an estimate where it has to stop short (see drain.go).
func (s *Server) relayMessages(client context.Context, w http.ResponseWriter, stream claudeapi.Stream, first [2][]byte,
	timer *idleTimer, u *Usage, detach func() bool, release func()) {
	defer func() {
		timer.t.Stop()
		detach()
		go func() {
			stream.Close()
			timer.cancel()
			release()
		}()
	}()
	h := w.Header()
	h["Content-Type"] = valSSE
	h["Cache-Control"] = valNoCache
	h["Connection"] = valKeepOpen
	h["X-Accel-Buffering"] = valNo
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	u.Status = http.StatusOK
	buffered, _ := stream.(provider.Buffered)

	var (
		mu      claudeapi.Usage
		id      string
		text    int
		gone    string
		drained int64
		buf     []byte
		err     error
	)
	ev, data := first[0], first[1]
	for {
		if got := mu.Event(data); got != "" {
			id = got
		}
		text += textLenOf(data, messageTextKeys)
		if string(ev) == "error" && u.Error == "" { // the upstream's own mid-stream failure, relayed as it is
			u.Error = "stream broke after it started: " + string(data)
		}
		if gone == "" && client.Err() != nil {
			gone = "it closed the connection" // writes into a dead connection may still succeed for a while
		}
		if gone == "" {
			if u.FirstToken.IsZero() {
				u.FirstToken = time.Now()
			}
			buf = appendEvent(buf[:0], ev, data)
			_, werr := w.Write(buf)
			if werr == nil && (buffered == nil || buffered.Buffered() == 0) {
				werr = rc.Flush()
			}
			if werr != nil {
				gone = werr.Error()
			}
		} else if drained += int64(len(data)); drained > s.drain.bytesOr() {
			err = errDrainBound
			break
		}
		timer.reset()
		ev, data, err = stream.Next()
		if err != nil {
			break
		}
	}
	clean := errors.Is(err, io.EOF)
	if gone == "" && client.Err() != nil {
		gone = "it closed the connection"
	}
	u.setMessagesUsage(mu)
	if gone != "" {
		if !clean {
			gone += "; reading the upstream on ended: " + timer.classify(err).Error()
		}
		ss := &streamState{id: id, text: text}
		ss.settleGone(u, &chatRequest{body: u.RequestBody}, gone, clean)
		s.record(u)
		return
	}
	u.ResponseID = id
	if !clean {
		pe := provider.AsError(timer.classify(err))
		u.Error = "stream broke after it started: " + pe.Message
		// Anthropic's own mid-stream failure event, so the client's SDK raises it as such.
		status := pe.Status
		if status < 400 {
			status = http.StatusBadGateway
		}
		_, _ = w.Write(appendEvent(buf[:0], []byte("error"), messages.ErrorBody(status, pe.Message)))
	}
	_ = rc.Flush()
	u.price(u.dep)
	s.record(u)
}

// appendEvent writes one server-sent event as Anthropic sends it.
func appendEvent(b, ev, data []byte) []byte {
	if len(ev) > 0 {
		b = append(append(append(b, "event: "...), ev...), '\n')
	}
	return append(append(append(b, "data: "...), data...), "\n\n"...)
}
