// Package fakeupstream is a test fixture, never product code: an OpenAI chat completions server
// that replays recorded payloads (testdata/) with the request's model, fresh ids and timestamps.
// The gateway's tests, the e2e suite and the benchmark use it as the upstream.
//
// Behaviour: a request with tools whose last message is not a tool result gets a call to the
// first tool; a request whose last message is a tool result gets text quoting that result;
// anything else gets the recorded text answer. Streams honour stream_options.include_usage as
// OpenAI does. The recorded usage (text: 19 prompt of which 6 cached, 10 completion of which 4
// reasoning; tool call: 68/40, 15/9) has a different figure in every field, so a swap shows. Faults and modes are driven by request headers:
//
//	x-fake-status: 429|500|...   answer that status with an OpenAI error envelope
//	x-fake-retry-after: 2        the retry-after sent with a 429 (default 1)
//	x-fake-abort-after: 3        break a stream after 3 chunks, without finish_reason or [DONE]
//	x-fake-mode: text            never call a tool: answer text even when tools are offered, so an
//	                             agent (OpenClaw) that offers tools on every turn ends its turn
//	x-fake-id: chatcmpl-x        answer with this id every time, as some OpenAI-compatible servers
//	                             repeat theirs
//
// It serves /v1/embeddings and /v1/completions too (endpoints.go). GET /_fake/last returns the
// request count and the last request (headers and body).
package fakeupstream

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// maxBody bounds request bodies; OpenClaw's first turns are ~70 KB, so this is generous.
const maxBody = 32 << 20

// Server is an http.Handler speaking OpenAI chat completions. Set the exported fields before
// serving; they are read without locks.
type Server struct {
	// Key, when set, must arrive as "Authorization: Bearer <Key>"; otherwise the answer is 401.
	Key string
	// Delay is slept before each streamed chunk, like a model producing tokens.
	Delay time.Duration

	t        *templates
	prefix   string // random per server, so ids from two servers never collide
	seq      atomic.Uint64
	requests atomic.Int64

	mu         sync.Mutex
	lastBody   []byte
	lastHeader http.Header

	bufs sync.Pool
}

// New returns a Server with its templates rendered. It panics if the embedded testdata is
// broken, which the package's tests catch.
func New() *Server {
	t, err := loadTemplates()
	if err != nil {
		panic(fmt.Sprintf("fakeupstream: %v", err))
	}
	return &Server{
		t:      t,
		prefix: strconv.FormatUint(rand.Uint64()|1<<63, 36)[:8],
		bufs:   sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }},
	}
}

// Requests returns how many chat completion requests arrived, faulted ones included.
func (s *Server) Requests() int { return int(s.requests.Load()) }

// LastRequest returns the body and headers of the last chat completion request.
func (s *Server) LastRequest() (body []byte, header http.Header) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastBody, s.lastHeader
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	switch {
	case path == "/v1/chat/completions" || path == "/chat/completions":
		if r.Method != http.MethodPost {
			writeError(w, http.StatusMethodNotAllowed, "Method not allowed: use POST.", "invalid_request_error", "", "")
			return
		}
		s.chat(w, r)
	case (path == "/v1/embeddings" || path == "/embeddings") && r.Method == http.MethodPost:
		s.embeddings(w, r)
	case (path == "/v1/completions" || path == "/completions") && r.Method == http.MethodPost:
		s.completions(w, r)
	case path == "/v1/models" || path == "/models":
		if !s.authorized(w, r) {
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(s.t.models)
	case path == "/_fake/last":
		s.inspect(w)
	default:
		writeError(w, http.StatusNotFound, "Invalid URL ("+r.Method+" "+path+")", "invalid_request_error", "", "")
	}
}

// chatRequest is the part of an OpenAI chat completion request the fake acts on.
type chatRequest struct {
	Model         string `json:"model"`
	Stream        bool   `json:"stream"`
	StreamOptions *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
	Messages []struct {
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"`
	} `json:"messages"`
	Tools []struct {
		Function struct {
			Name       string          `json:"name"`
			Parameters json.RawMessage `json:"parameters"`
		} `json:"function"`
	} `json:"tools"`
}

func (s *Server) chat(w http.ResponseWriter, r *http.Request) {
	body, ok := s.begin(w, r)
	if !ok {
		return
	}
	var req chatRequest
	if err := json.Unmarshal(body, &req); err != nil {
		writeError(w, http.StatusBadRequest, "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)", "invalid_request_error", "", "")
		return
	}
	if req.Model == "" {
		writeError(w, http.StatusBadRequest, "you must provide a model parameter", "invalid_request_error", "", "")
		return
	}
	if len(req.Messages) == 0 {
		writeError(w, http.StatusBadRequest, "Missing required parameter: 'messages'.", "invalid_request_error", "messages", "missing_required_parameter")
		return
	}

	textOnly := false
	switch mode := r.Header.Get("x-fake-mode"); mode {
	case "":
	case "text":
		textOnly = true
	default:
		writeError(w, http.StatusBadRequest, "x-fake-mode: want text, not "+strconv.Quote(mode), "invalid_request_error", "", "")
		return
	}

	v := &vals{
		id:      []byte("chatcmpl-" + s.nextID()),
		created: strconv.AppendInt(nil, time.Now().Unix(), 10),
		model:   escape(req.Model),
	}
	if id := r.Header.Get("x-fake-id"); id != "" {
		v.id = escape(id)
	}
	last := req.Messages[len(req.Messages)-1]
	switch {
	case last.Role == "tool":
		quote := "The tool returned: " + messageText(last.Content)
		s.answerText(w, r, &req, v, escape(quote), words(quote))
	case len(req.Tools) > 0 && !textOnly:
		s.answerTool(w, r, &req, v)
	default:
		s.answerText(w, r, &req, v, s.t.textContent, nil)
	}
}

func (s *Server) answerText(w http.ResponseWriter, r *http.Request, req *chatRequest, v *vals, content []byte, deltas [][]byte) {
	if !req.Stream {
		v.text = content
		s.writeJSON(w, s.t.completion, v)
		return
	}
	set := &s.t.textNoUsage
	if req.StreamOptions != nil && req.StreamOptions.IncludeUsage {
		set = &s.t.text
	}
	if deltas == nil {
		deltas = set.deltas
	}
	s.stream(w, r, set, v, deltas)
}

func (s *Server) answerTool(w http.ResponseWriter, r *http.Request, req *chatRequest, v *vals) {
	fn := req.Tools[0].Function
	v.callID = []byte("call_" + s.nextID())
	v.name = escape(fn.Name)
	args, fragments := s.t.toolArgs, [][]byte(nil)
	if generic, ok := s.argsFor(fn.Parameters); ok {
		args = generic
		fragments = split(args, 3)
	}
	if !req.Stream {
		v.text = escape(args)
		s.writeJSON(w, s.t.toolCompletion, v)
		return
	}
	set := &s.t.toolNoUsage
	if req.StreamOptions != nil && req.StreamOptions.IncludeUsage {
		set = &s.t.tool
	}
	if fragments == nil {
		fragments = set.deltas
	}
	s.stream(w, r, set, v, fragments)
}

// argsFor returns generic arguments for a tool whose schema lacks the recorded arguments' keys,
// so a tool call always validates against the caller's own schema. ok is false when the
// recorded arguments fit.
func (s *Server) argsFor(params json.RawMessage) (string, bool) {
	var schema struct {
		Properties map[string]struct {
			Type any `json:"type"`
		} `json:"properties"`
		Required []string `json:"required"`
	}
	if len(params) > 0 {
		_ = json.Unmarshal(params, &schema) // a schema we cannot read gets the recorded arguments
	}
	if len(schema.Properties) == 0 {
		return "", false
	}
	fits := true
	for _, k := range s.t.toolArgKeys {
		if _, ok := schema.Properties[k]; !ok {
			fits = false
		}
	}
	if fits {
		return "", false
	}
	keys := schema.Required
	if len(keys) == 0 {
		for k := range schema.Properties {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	obj := make(map[string]any, len(keys))
	for _, k := range keys {
		typ, _ := schema.Properties[k].Type.(string)
		switch typ {
		case "integer", "number":
			obj[k] = 1
		case "boolean":
			obj[k] = true
		case "array":
			obj[k] = []any{}
		case "object":
			obj[k] = map[string]any{}
		default:
			obj[k] = "Paris"
		}
	}
	b, err := json.Marshal(obj)
	if err != nil {
		return "", false
	}
	return string(b), true
}

func (s *Server) writeJSON(w http.ResponseWriter, t *tmpl, v *vals) {
	bp := s.bufs.Get().(*[]byte)
	b := t.appendTo((*bp)[:0], v)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	_, _ = w.Write(b)
	*bp = b
	s.bufs.Put(bp)
}

// stream writes the transcript chunk by chunk, flushing each, as OpenAI does.
func (s *Server) stream(w http.ResponseWriter, r *http.Request, set *streamSet, v *vals, deltas [][]byte) {
	abortAfter := -1
	if a := r.Header.Get("x-fake-abort-after"); a != "" {
		n, err := strconv.Atoi(a)
		if err != nil || n < 0 {
			writeError(w, http.StatusBadRequest, "x-fake-abort-after: want a chunk count", "invalid_request_error", "", "")
			return
		}
		abortAfter = n
	}
	flusher, _ := w.(http.Flusher)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)

	bp := s.bufs.Get().(*[]byte)
	defer s.bufs.Put(bp)
	sent := 0
	send := func(t *tmpl) bool {
		if sent == abortAfter {
			if flusher != nil {
				flusher.Flush()
			}
			// Aborting the handler closes the connection mid-body: the client sees a broken stream.
			panic(http.ErrAbortHandler)
		}
		if s.Delay > 0 {
			timer := time.NewTimer(s.Delay)
			select {
			case <-timer.C:
			case <-r.Context().Done():
				timer.Stop()
				return false
			}
		}
		*bp = t.appendTo((*bp)[:0], v)
		if _, err := w.Write(*bp); err != nil {
			return false
		}
		if flusher != nil {
			flusher.Flush()
		}
		sent++
		return true
	}
	if !send(set.first) {
		return
	}
	for _, d := range deltas {
		v.text = d
		if !send(set.delta) {
			return
		}
	}
	if !send(set.finish) {
		return
	}
	if set.usage != nil && !send(set.usage) {
		return
	}
	if sent == abortAfter {
		panic(http.ErrAbortHandler)
	}
	_, _ = io.WriteString(w, sseDone)
	if flusher != nil {
		flusher.Flush()
	}
}

func (s *Server) authorized(w http.ResponseWriter, r *http.Request) bool {
	if s.Key == "" {
		return true
	}
	auth := r.Header.Get("Authorization")
	got, ok := strings.CutPrefix(auth, "Bearer ")
	if ok && got == s.Key {
		return true
	}
	if auth == "" {
		writeError(w, http.StatusUnauthorized, "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).", "invalid_request_error", "", "")
		return false
	}
	writeError(w, http.StatusUnauthorized, "Incorrect API key provided: "+mask(got)+". You can find your API key at https://platform.openai.com/account/api-keys.", "invalid_request_error", "", "invalid_api_key")
	return false
}

// inspect serves GET /_fake/last, for tests that run the fake in another process.
func (s *Server) inspect(w http.ResponseWriter) {
	body, header := s.LastRequest()
	var raw json.RawMessage
	if json.Valid(body) {
		raw = body
	} else {
		raw, _ = json.Marshal(string(body))
	}
	if header == nil {
		header = http.Header{}
	}
	out, err := json.Marshal(struct {
		Requests int             `json:"requests"`
		Header   http.Header     `json:"header"`
		Body     json.RawMessage `json:"body"`
	}{s.Requests(), header, raw})
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error(), "server_error", "", "")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(out)
}

func (s *Server) nextID() string {
	return s.prefix + strconv.FormatUint(s.seq.Add(1), 36)
}

// messageText flattens a message's content: a string, or an array of {"type":"text"} parts.
func messageText(raw json.RawMessage) string {
	var str string
	if json.Unmarshal(raw, &str) == nil {
		return str
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if json.Unmarshal(raw, &parts) == nil {
		var b strings.Builder
		for _, p := range parts {
			if p.Type == "text" {
				b.WriteString(p.Text)
			}
		}
		return b.String()
	}
	return string(raw)
}

// words cuts text into token-like deltas (" word"), JSON-escaped, the way OpenAI streams it.
func words(text string) [][]byte {
	var out [][]byte
	start := 0
	for i := 1; i < len(text); i++ {
		if text[i] == ' ' {
			out = append(out, escape(text[start:i]))
			start = i
		}
	}
	return append(out, escape(text[start:]))
}

// split cuts s into n roughly equal fragments, JSON-escaped, like streamed tool arguments.
func split(s string, n int) [][]byte {
	var out [][]byte
	size := (len(s) + n - 1) / n
	for len(s) > 0 {
		k := min(size, len(s))
		// keep multi-byte characters whole
		for k < len(s) && s[k]&0xC0 == 0x80 {
			k++
		}
		out = append(out, escape(s[:k]))
		s = s[k:]
	}
	return out
}

func mask(key string) string {
	if len(key) <= 8 {
		return "***"
	}
	return key[:3] + strings.Repeat("*", 8) + key[len(key)-4:]
}
