package fakeupstream

import (
	"bytes"
	"embed"
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
	"unicode/utf8"
)

// Native serves the providers' own APIs beside the OpenAI fake, so the gateway's native
// providers can be driven end to end against one fake process:
//
//	POST /v1/messages                                    Anthropic Messages (JSON or SSE)
//	POST /v1beta/models/{model}:generateContent          Gemini
//	POST /v1beta/models/{model}:streamGenerateContent    Gemini, SSE with ?alt=sse
//	POST /model/{modelId}/converse                       Bedrock Converse
//	POST /model/{modelId}/converse-stream                Bedrock ConverseStream (AWS event stream)
//	POST /openai/deployments/{name}/chat/completions     Azure OpenAI (api-key, ?api-version=)
//	POST /v1/responses, /openai/v1/responses             OpenAI's Responses API (and Azure's), JSON or SSE
//	POST /v1/projects/{p}/locations/{l}/publishers/...   Vertex AI: Gemini and Claude (bearer token)
//	POST /token                                          Google's OAuth2 token endpoint, for Vertex
//	GET  /_fake/native/last                              the last native request, for e2e tests
//	GET  /_fake/native/cache                             {"breakpoints":[...]} per request, with Cache set
//
// Answers replay recorded transcripts (testdata/native, copied from the provider packages'
// testdata, which follow each provider's documented examples, with usage figures changed so that
// prompt, completion, cache read, cache write and thinking tokens all differ: a gateway that
// swaps or drops one shows in the e2e suite) with the request's model, fresh
// ids, and the tool and arguments fitted to the request. The choice is the OpenAI fake's: tools
// offered and no tool result in the last turn gets a call to the first tool; a tool result in
// the last turn gets text quoting it; anything else gets the recorded text. "x-fake-mode: text"
// never calls a tool. Anything else goes to Next.
type Native struct {
	// Key, when set, must arrive as x-api-key (Anthropic), x-goog-api-key (Gemini) or api-key (Azure). Bedrock
	// only checks that the request is signed or carries a bearer key: the fake cannot verify SigV4.
	Key string
	// Next serves every other path (the OpenAI fake).
	Next http.Handler
	// Cache, when set, bills Anthropic and Bedrock input as their prompt cache does (see
	// PromptCache) instead of replaying the recorded usage figures.
	Cache *PromptCache

	prefix   string
	seq      atomic.Uint64
	requests atomic.Int64

	mu   sync.Mutex
	last nativeLast
}

type nativeLast struct {
	Requests int             `json:"requests"`
	Method   string          `json:"method"`
	Path     string          `json:"path"`
	Query    string          `json:"query"`
	Header   http.Header     `json:"header"`
	Body     json.RawMessage `json:"body"`
}

//go:embed testdata/native
var nativeFS embed.FS

// NewNative returns a Native handler in front of next. It panics if the embedded transcripts
// are broken, which the package's tests catch.
func NewNative(next http.Handler) *Native {
	if _, err := nativeFS.ReadFile("testdata/native/anthropic_text.sse"); err != nil {
		panic(fmt.Sprintf("fakeupstream: %v", err))
	}
	return &Native{Next: next, prefix: strconv.FormatUint(rand.Uint64()|1<<63, 36)[:8]}
}

// Requests returns how many native API requests arrived.
func (n *Native) Requests() int { return int(n.requests.Load()) }

func (n *Native) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	switch {
	case path == "/_fake/native/last":
		n.mu.Lock()
		last := n.last
		n.mu.Unlock()
		if last.Header == nil {
			last.Header = http.Header{}
		}
		if last.Body == nil {
			last.Body = json.RawMessage("null")
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(last)
	case path == "/_fake/native/cache":
		var seen []int
		if n.Cache != nil {
			seen = n.Cache.Breakpoints()
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"breakpoints": append([]int{}, seen...)})
	case path == "/v1/messages":
		if body, ok := n.read(w, r, anthropicError); ok {
			n.anthropic(w, r, body)
		}
	case strings.HasPrefix(path, "/v1beta/models/"):
		if body, ok := n.read(w, r, geminiError); ok {
			n.gemini(w, r, body)
		}
	case path == "/token":
		n.vertexTokenEndpoint(w, r)
	case strings.HasPrefix(path, "/v1/projects/") && strings.Contains(path, "/publishers/"):
		if body, ok := n.read(w, r, geminiError); ok {
			n.vertex(w, r, body)
		}
	case strings.HasPrefix(path, "/openai/deployments/") && strings.HasSuffix(path, "/chat/completions"):
		if body, ok := n.read(w, r, azureError); ok {
			n.azure(w, r, body)
		}
	case strings.HasPrefix(path, "/model/"):
		if body, ok := n.read(w, r, bedrockError); ok {
			n.bedrock(w, r, body)
		}
	case path == "/v1/responses" || path == "/openai/v1/responses":
		if body, ok := n.read(w, r, openaiError); ok {
			n.responses(w, r, body)
		}
	case n.Next != nil:
		n.Next.ServeHTTP(w, r)
	default:
		http.NotFound(w, r)
	}
}

// errorWriter writes one provider's error envelope.
type errorWriter func(w http.ResponseWriter, status int, msg string)

// read records the request and reads its body; false means an error answer was written.
func (n *Native) read(w http.ResponseWriter, r *http.Request, fail errorWriter) ([]byte, bool) {
	count := n.requests.Add(1)
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	raw := json.RawMessage(body)
	if !json.Valid(body) {
		raw, _ = json.Marshal(string(body))
	}
	n.mu.Lock()
	n.last = nativeLast{Requests: int(count), Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Header: r.Header.Clone(), Body: raw}
	n.mu.Unlock()
	switch {
	case err != nil:
		fail(w, http.StatusBadRequest, "could not read the request body")
	case r.Method != http.MethodPost:
		fail(w, http.StatusMethodNotAllowed, "use POST")
	case !json.Valid(body):
		fail(w, http.StatusBadRequest, "the request body is not valid JSON")
	default:
		return body, true
	}
	return nil, false
}

func (n *Native) nextID() string { return n.prefix + strconv.FormatUint(n.seq.Add(1), 36) }

// answer is what the fake decided to say.
type answer struct {
	tool  bool
	name  string          // the tool's name
	args  json.RawMessage // the tool's arguments, fitted to its schema
	quote string          // text quoting a tool result; empty keeps the recorded text
}

// decide applies the OpenAI fake's rule to one provider's request, already reduced to the first
// tool, whether the last turn holds a tool result (and its text) and the x-fake-mode header.
func decide(r *http.Request, toolName string, schema json.RawMessage, hasResult bool, result string, recorded map[string]any) (answer, error) {
	mode := r.Header.Get("x-fake-mode")
	if mode != "" && mode != "text" {
		return answer{}, fmt.Errorf("x-fake-mode: want text, not %q", mode)
	}
	switch {
	case hasResult:
		return answer{quote: "The tool returned: " + result}, nil
	case toolName != "" && mode != "text":
		return answer{tool: true, name: toolName, args: fitArgs(schema, recorded)}, nil
	}
	return answer{}, nil
}

// fitArgs makes arguments that validate against the caller's schema: the recorded value for a
// key the recording has, a plain value of the property's type otherwise.
func fitArgs(schema json.RawMessage, recorded map[string]any) json.RawMessage {
	var s struct {
		Properties map[string]struct {
			Type any `json:"type"`
		} `json:"properties"`
		Required []string `json:"required"`
	}
	_ = json.Unmarshal(schema, &s) // an unreadable schema gets {}
	keys := s.Required
	if len(keys) == 0 {
		for k := range s.Properties {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	obj := make(map[string]any, len(keys))
	for _, k := range keys {
		typ, _ := s.Properties[k].Type.(string)
		switch v, ok := recorded[k]; {
		case ok && (typ == "" || typ == "string") && isString(v):
			obj[k] = v
		case typ == "integer" || typ == "number":
			obj[k] = 1
		case typ == "boolean":
			obj[k] = true
		case typ == "array":
			obj[k] = []any{}
		case typ == "object":
			obj[k] = map[string]any{}
		default:
			obj[k] = "Paris"
		}
	}
	b, _ := json.Marshal(obj)
	return b
}

func isString(v any) bool { _, ok := v.(string); return ok }

// splitN cuts s into exactly n fragments (empty ones at the end when s is short), keeping
// multi-byte characters whole, the way streamed deltas arrive.
func splitN(s string, n int) []string {
	out := make([]string, 0, n)
	size := (len(s) + n - 1) / max(n, 1)
	for i := 0; i < n; i++ {
		k := min(size, len(s))
		if i == n-1 {
			k = len(s)
		}
		for k < len(s) && !utf8.RuneStart(s[k]) {
			k++
		}
		out = append(out, s[:k])
		s = s[k:]
	}
	return out
}

// sseEvent is one recorded server-sent event; name is empty for data-only streams (Gemini).
type sseEvent struct {
	name string
	data map[string]any
}

// loadSSE parses a recorded transcript from testdata/native.
func loadSSE(name string) []sseEvent {
	b, err := nativeFS.ReadFile("testdata/native/" + name)
	if err != nil {
		panic(fmt.Sprintf("fakeupstream: %v", err))
	}
	var out []sseEvent
	for _, block := range strings.Split(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n\n") {
		var ev sseEvent
		for _, line := range strings.Split(block, "\n") {
			if v, ok := strings.CutPrefix(line, "event:"); ok {
				ev.name = strings.TrimSpace(v)
			} else if v, ok := strings.CutPrefix(line, "data:"); ok {
				if err := json.Unmarshal([]byte(strings.TrimSpace(v)), &ev.data); err != nil {
					panic(fmt.Sprintf("fakeupstream: %s: %v", name, err))
				}
			}
		}
		if ev.data != nil {
			out = append(out, ev)
		}
	}
	return out
}

// loadJSON parses a recorded JSON answer from testdata/native into v.
func loadJSON(name string, v any) {
	b, err := nativeFS.ReadFile("testdata/native/" + name)
	if err == nil {
		err = json.Unmarshal(b, v)
	}
	if err != nil {
		panic(fmt.Sprintf("fakeupstream: %s: %v", name, err))
	}
}

// writeSSE streams events, flushing each as the providers do; it stops when the client leaves.
func writeSSE(w http.ResponseWriter, r *http.Request, events []sseEvent) {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	var buf bytes.Buffer
	for _, ev := range events {
		if r.Context().Err() != nil {
			return
		}
		buf.Reset()
		if ev.name != "" {
			buf.WriteString("event: " + ev.name + "\n")
		}
		data, _ := json.Marshal(ev.data)
		buf.WriteString("data: ")
		buf.Write(data)
		buf.WriteString("\n\n")
		if _, err := w.Write(buf.Bytes()); err != nil {
			return
		}
		if flusher != nil {
			flusher.Flush()
		}
	}
}

func writeNativeJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	_, _ = w.Write(b)
}

// obj and list walk decoded JSON; a recorded transcript of the wrong shape panics, which the
// package's tests catch.
func obj(v any, key string) map[string]any { return v.(map[string]any)[key].(map[string]any) }
func list(v any, key string) []any         { return v.(map[string]any)[key].([]any) }

// clone deep-copies decoded JSON, so a request never edits the shared recording.
func clone[T any](v T) T {
	b, _ := json.Marshal(v)
	var out T
	_ = json.Unmarshal(b, &out)
	return out
}

// cloneEvents deep-copies a recorded stream (clone cannot: sseEvent's fields are unexported).
func cloneEvents(events []sseEvent) []sseEvent {
	out := make([]sseEvent, len(events))
	for i, ev := range events {
		out[i] = sseEvent{name: ev.name, data: clone(ev.data)}
	}
	return out
}

// textOf flattens a tool result: a string, an array of {"type":"text"} or {"text"} parts, or
// any other JSON as it is.
func textOf(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var parts []map[string]json.RawMessage
	if json.Unmarshal(raw, &parts) == nil {
		var b strings.Builder
		for _, p := range parts {
			if t, ok := p["text"]; ok {
				var str string
				_ = json.Unmarshal(t, &str)
				b.WriteString(str)
			} else if j, ok := p["json"]; ok {
				b.Write(j)
			}
		}
		return b.String()
	}
	return string(raw)
}
