package proxy

import (
	"github.com/clawgate/clawgate/proxy/internal/wire"

	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/clawgate/clawgate/proxy/provider"
)

// usageFields is the part of OpenAI's usage object the gateway reads (LiteLLM's Anthropic-style
// cache fields included).
type usageFields struct {
	PromptTokens        int `json:"prompt_tokens"`
	CompletionTokens    int `json:"completion_tokens"`
	InputTokens         int `json:"input_tokens"`  // the Responses API's names
	OutputTokens        int `json:"output_tokens"` // for the same figures
	PromptTokensDetails *struct {
		CachedTokens int `json:"cached_tokens"`
	} `json:"prompt_tokens_details"`
	CompletionTokensDetails *struct {
		ReasoningTokens int `json:"reasoning_tokens"`
	} `json:"completion_tokens_details"`
	CacheCreationInputTokens int `json:"cache_creation_input_tokens"`
	CacheReadInputTokens     int `json:"cache_read_input_tokens"`
}

// setUsage reads an OpenAI usage object into the record; null or absent leaves it unknown.
func (u *Usage) setUsage(raw json.RawMessage) {
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return
	}
	if u.setUsageFast(raw) {
		return
	}
	var f usageFields
	if json.Unmarshal(raw, &f) != nil {
		return
	}
	u.UsageKnown = true
	u.PromptTokens, u.CompletionTokens = max(f.PromptTokens, f.InputTokens), max(f.CompletionTokens, f.OutputTokens)
	u.CachedTokens = f.CacheReadInputTokens
	if d := f.PromptTokensDetails; d != nil && d.CachedTokens > u.CachedTokens {
		u.CachedTokens = d.CachedTokens
	}
	u.CacheCreationTokens = f.CacheCreationInputTokens
	if d := f.CompletionTokensDetails; d != nil {
		u.ReasoningTokens = d.ReasoningTokens
	}
}

// usageKeys are the integer fields setUsage reads; their names are unique within a usage object.
var usageKeys = [...]string{`"prompt_tokens"`, `"completion_tokens"`, `"cached_tokens"`, `"cache_read_input_tokens"`,
	`"cache_creation_input_tokens"`, `"reasoning_tokens"`, `"input_tokens"`, `"output_tokens"`}

// setUsageFast reads the usage figures by scanning for their keys, which is several times cheaper
// than decoding (this runs once or twice per request). It reports false, having set nothing, when
// a figure is not a plain non-negative integer, leaving the object to the decoder.
func (u *Usage) setUsageFast(raw []byte) bool {
	if raw[0] != '{' || raw[len(raw)-1] != '}' {
		return false
	}
	var n [len(usageKeys)]int
	for i, k := range usageKeys {
		v, ok := valueAfterKey(raw, k, false)
		if !ok {
			continue
		}
		x, err := strconv.Atoi(string(v))
		if err != nil || x < 0 {
			return false
		}
		n[i] = x
	}
	u.UsageKnown = true
	u.PromptTokens, u.CompletionTokens = max(n[0], n[6]), max(n[1], n[7]) // chat's names, or the Responses API's
	u.CachedTokens = max(n[2], n[3])
	u.CacheCreationTokens, u.ReasoningTokens = n[4], n[5]
	return true
}

// streamState tracks what a relayed stream has shown, so that the gateway can end it well.
type streamState struct {
	id, model   string
	created     int64
	finished    bool // a chunk with a non-null finish_reason went out
	usageRaw    []byte
	usageSent   bool
	sawContent  bool
	wantUsage   bool
	firstParsed bool // id, model and created are read
	sawChoices  bool // a chunk with choices went by
	scratch     []byte
	u           *Usage
	text        int  // bytes of generated text seen, for the estimate of a stream cut short
	responses   bool // Responses API events, passed through (responsesapi.go)
	events      int  // events forwarded, for a Responses error event's sequence_number
}

var nullUsage = []byte(`,"usage":null`)

// dropNullUsage removes the "usage":null that upstreams add to every chunk once usage is asked
// for, so a client that did not ask sees chunks shaped as OpenAI sends them to it.
func (ss *streamState) dropNullUsage(p []byte) []byte {
	i := bytes.Index(p, nullUsage)
	if i < 0 {
		return p
	}
	ss.scratch = append(append(ss.scratch[:0], p[:i]...), p[i+len(nullUsage):]...)
	return ss.scratch
}

var (
	dataPrefix = []byte("data: ")
	eventEnd   = []byte("\n\n")
	doneEvent  = []byte("data: [DONE]\n\n")
)

// relay streams the upstream's chunks to the client, one flush per event, and makes sure the
// stream ends with a finish_reason chunk, the usage chunk when asked for, and [DONE].
//
// A client that goes away does not end the upstream call: the relay reads on, for the usage, as
// far as s.drain allows (see drain.go), and bills an estimate where it has to stop short.
func (s *Server) relay(client context.Context, w http.ResponseWriter, req *chatRequest, resp *provider.Response, first []byte,
	timer *idleTimer, u *Usage, detach func() bool, release func()) {
	// Closing the upstream stream may read the rest of its body so the connection can be reused;
	// do it after the handler returns, so the client's response ends without waiting for that, and
	// detached from the request's context, which net/http cancels when the handler returns.
	defer func() {
		timer.t.Stop()
		detach()
		go func() {
			resp.Stream.Close()
			timer.cancel()
			release()
		}()
	}()
	h := w.Header()
	copyUpstreamHeaders(h, resp.Header)
	h["Content-Type"] = valSSE
	h["Cache-Control"] = valNoCache
	h["Connection"] = valKeepOpen
	h["X-Accel-Buffering"] = valNo
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	u.Status = http.StatusOK

	ss := &streamState{wantUsage: req.IncludeUsage, u: u, responses: req.responses}
	var buffered provider.Buffered
	if b, ok := resp.Stream.(provider.Buffered); ok {
		buffered = b
	}
	// write sends one event; it flushes unless the upstream's next event is already in memory, in
	// which case that event's write will flush both (no event ever waits on an upstream read).
	write := func(payload []byte) error {
		if ss.responses {
			if _, err := w.Write(eventLine(payload)); err != nil {
				return err
			}
		}
		if _, err := w.Write(dataPrefix); err != nil {
			return err
		}
		if _, err := w.Write(payload); err != nil {
			return err
		}
		if _, err := w.Write(eventEnd); err != nil {
			return err
		}
		if buffered != nil && buffered.Buffered() > 0 {
			return nil
		}
		return rc.Flush()
	}

	keep := s.keepStreams.Load()
	var kept []byte
	payload := first
	var err error
	gone := ""        // why the client is known to have left
	var drained int64 // bytes read from the upstream since
	for {
		if !ss.wantUsage {
			payload = ss.dropNullUsage(payload)
		}
		ss.text += textLen(payload)
		var forward bool
		if payload, forward = ss.inspect(payload); forward && gone == "" {
			if keep {
				kept = append(append(kept, ','), payload...)
			}
			if u.FirstToken.IsZero() {
				u.FirstToken = time.Now()
			}
			if werr := write(payload); werr != nil {
				gone = werr.Error()
			}
		}
		if gone != "" {
			if drained += int64(len(payload)); drained > s.drain.bytesOr() {
				err = errDrainBound
				break
			}
		}
		timer.reset()
		payload, err = resp.Stream.Next()
		if err != nil {
			break
		}
	}

	clean := errors.Is(err, io.EOF) || (errors.Is(err, io.ErrUnexpectedEOF) && ss.finished)
	// A Responses stream ends with its terminal event, after which a client may hang up before
	// this check: that call was delivered whole.
	if gone == "" && client.Err() != nil && !(ss.responses && ss.finished && clean) {
		gone = "it closed the connection"
	}
	if gone != "" {
		if !clean {
			gone += "; reading the upstream on ended: " + timer.classify(err).Error()
		}
		ss.settleGone(u, req, gone, clean)
		keptBody(u, kept)
		s.record(u)
		return
	}
	// The epilogue goes out in one flush: whatever the upstream left undone, the client sees an
	// error event (if it broke), a finish_reason, the usage chunk (if asked), then [DONE].
	buffered = alwaysBuffered{}
	if !clean {
		err = timer.classify(err)
		pe := provider.AsError(err)
		msg := pe.Message
		if msg == "" {
			msg = err.Error()
		}
		status := pe.Status
		if status < 400 {
			status = http.StatusBadGateway
		}
		u.Error = "stream broke after it started: " + msg
		e := newAPIError(status, pe.Type, msg)
		if e.Type == "" {
			e.Type = typeForStatus(status)
		}
		if ss.responses {
			_ = write(responsesErrorEvent(e, ss.events))
		} else {
			_ = write(errorEvent(e))
		}
	}
	if ss.responses { // a Responses stream has no finish chunk, usage chunk or [DONE]
		_ = rc.Flush()
		s.finishUsage(u, ss, kept)
		return
	}
	if !ss.finished {
		reason := "stop"
		if !clean {
			reason = "error"
		}
		_ = write(ss.finishChunk(reason))
	}
	if ss.wantUsage && !ss.usageSent {
		_ = write(ss.usageChunk())
	}
	_, _ = w.Write(doneEvent)
	_ = rc.Flush()
	s.finishUsage(u, ss, kept)
}

// keptBody stores the chunks a relay kept as the response body, a JSON array.
func keptBody(u *Usage, kept []byte) {
	if len(kept) > 0 {
		kept[0] = '['
		u.ResponseBody = append(kept, ']')
	}
}

// alwaysBuffered holds flushes back until the final one.
type alwaysBuffered struct{}

func (alwaysBuffered) Buffered() int { return 1 }

func (s *Server) finishUsage(u *Usage, ss *streamState, kept []byte) {
	keptBody(u, kept)
	u.ResponseID = ss.id
	u.setUsage(ss.usageRaw)
	s.record(u)
}

// inspect looks at one chunk and returns what to forward, if anything. It decodes a chunk only
// when it must (the first one, for id/model, and those carrying usage); the rest are scanned as
// bytes. The usage chunk a client asked for gets the request's cost added, as "usage.cost".
func (ss *streamState) inspect(p []byte) ([]byte, bool) {
	if ss.responses {
		return ss.inspectResponses(p)
	}
	if !ss.firstParsed {
		// Top-level scalars, read by scanning (see valueAfterKey) rather than decoding the chunk.
		// Azure opens with a chunk whose id, model and created are empty: read them from the next.
		if v, ok := valueAfterKey(p, `"id"`, false); ok {
			ss.id = jsonString(v)
		}
		if v, ok := valueAfterKey(p, `"model"`, false); ok {
			ss.model = jsonString(v)
		}
		if v, ok := valueAfterKey(p, `"created"`, false); ok {
			ss.created, _ = strconv.ParseInt(string(v), 10, 64)
		}
		ss.firstParsed = ss.id != ""
	}
	if hasNonNull(p, `"finish_reason"`) {
		ss.finished = true
	}
	if !hasNonNull(p, `"usage"`) {
		if !ss.sawChoices {
			if emptyChoices(p) {
				// Azure's opening chunk: no choices, no usage, only its prompt_filter_results.
				// Nothing an OpenAI client reads, and some index choices[0] of every chunk but the
				// usage one, so it is not passed on.
				return p, false
			}
			ss.sawChoices, ss.firstParsed = true, true
		}
		return p, true
	}
	usage, ok := valueAfterKey(p, `"usage"`, true)
	if !ok || len(usage) == 0 || usage[0] != '{' {
		return p, true
	}
	ss.usageRaw = append(ss.usageRaw[:0], usage...)
	if !emptyChoices(p) {
		return p, true
	}
	// The usage-only chunk: the client sees it only if it asked.
	if !ss.wantUsage {
		return p, false
	}
	ss.usageSent = true
	ss.u.setUsage(usage)
	ss.u.price(ss.u.dep)
	if i := bytes.LastIndex(p, usage); i >= 0 && ss.u.UsageKnown && !bytes.Contains(usage, []byte(`"cost"`)) {
		ss.scratch = append(withCost(append(ss.scratch[:0], p[:i]...), usage, ss.u.Cost), p[i+len(usage):]...)
		return ss.scratch, true
	}
	return p, true
}

// withCost appends the usage object with "cost" added as its last member.
func withCost(dst, usage []byte, cost float64) []byte {
	end := len(usage) - 1 // the closing brace
	dst = append(dst, usage[:end]...)
	if len(bytes.TrimSpace(usage[1:end])) > 0 {
		dst = append(dst, ',')
	}
	dst = append(append(dst, `"cost":`...), costString(cost)...)
	return append(dst, '}')
}

// jsonString decodes a JSON string value, cheaply when it has no escapes ("" if not a string).
// Invalid UTF-8 takes the slow path too, where encoding/json turns each bad byte into U+FFFD: the
// model name read here must be the one the decoder reads (FuzzParseChat found "\x89" kept raw).
func jsonString(v []byte) string {
	if len(v) < 2 || v[0] != '"' {
		return ""
	}
	if bytes.IndexByte(v, '\\') < 0 && utf8.Valid(v) {
		return string(v[1 : len(v)-1])
	}
	var s string
	_ = json.Unmarshal(v, &s)
	return s
}

// emptyChoices reports whether a chunk's choices are [] or null: the usage-only chunk.
func emptyChoices(p []byte) bool {
	v, ok := valueAfterKey(p, `"choices"`, false)
	if !ok {
		return false
	}
	if string(v) == "null" {
		return true
	}
	return len(v) >= 2 && v[0] == '[' && len(bytes.TrimSpace(v[1:len(v)-1])) == 0
}

// hasNonNull reports whether key appears in p with a value other than null.
func hasNonNull(p []byte, key string) bool {
	for {
		i := bytes.Index(p, []byte(key))
		if i < 0 {
			return false
		}
		p = p[i+len(key):]
		j := 0
		for j < len(p) && (p[j] == ' ' || p[j] == '\t' || p[j] == '\n' || p[j] == '\r') {
			j++
		}
		if j >= len(p) || p[j] != ':' {
			continue // the key text appeared inside a string value
		}
		j++
		for j < len(p) && (p[j] == ' ' || p[j] == '\t' || p[j] == '\n' || p[j] == '\r') {
			j++
		}
		if j < len(p) && !bytes.HasPrefix(p[j:], []byte("null")) {
			return true
		}
	}
}

func (ss *streamState) chunkHead(b []byte) []byte {
	id := ss.id
	if id == "" {
		id = "chatcmpl-" + newCallID()
	}
	created := ss.created
	if created == 0 {
		created = time.Now().Unix()
	}
	b = append(b, `{"id":`...)
	b = wire.AppendString(b, id)
	b = append(b, `,"object":"chat.completion.chunk","created":`...)
	b = strconv.AppendInt(b, created, 10)
	b = append(b, `,"model":`...)
	b = wire.AppendString(b, ss.model)
	return b
}

func (ss *streamState) finishChunk(reason string) []byte {
	b := ss.chunkHead(nil)
	b = append(b, `,"choices":[{"index":0,"delta":{},"finish_reason":`...)
	b = wire.AppendString(b, reason)
	return append(b, `}]}`...)
}

// usageChunk is the final chunk with choices:[] and the usage the upstream reported (zeros if none).
func (ss *streamState) usageChunk() []byte {
	b := ss.chunkHead(nil)
	b = append(b, `,"choices":[],"usage":`...)
	if len(ss.usageRaw) > 0 {
		ss.u.setUsage(ss.usageRaw)
		ss.u.price(ss.u.dep)
		b = withCost(b, ss.usageRaw, ss.u.Cost)
	} else {
		b = append(b, `{"prompt_tokens":0,"completion_tokens":0,"total_tokens":0}`...)
	}
	return append(b, '}')
}
