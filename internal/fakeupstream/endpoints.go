package fakeupstream

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"hash/fnv"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// OpenAI's embeddings and legacy text completions, as the fake serves them: vectors derived from
// each input's text (same text, same vector), in float or base64 as encoding_format asks, and
// one recorded text completion, streamed or not. Usage figures are fixed per input so a test can
// price them: 4 prompt tokens per embedding input; 5 prompt and 7 completion tokens per text
// completion.

const (
	embedDims        = 8
	embedTokensPerIn = 4
	completionText   = "\n\nThis is indeed a test"
	completionPrompt = 5
	completionTokens = 7
)

// begin reads any endpoint's request: counted, kept for /_fake/last, key checked, faults applied.
func (s *Server) begin(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	s.requests.Add(1)
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	s.mu.Lock()
	s.lastBody, s.lastHeader = body, r.Header.Clone()
	s.mu.Unlock()
	if err != nil {
		writeError(w, http.StatusBadRequest, "could not read the request body", "invalid_request_error", "", "")
		return nil, false
	}
	if !s.authorized(w, r) {
		return nil, false
	}
	w.Header().Set("x-request-id", "req_"+s.nextID())
	if st := r.Header.Get("x-fake-status"); st != "" {
		fault(w, r, st)
		return nil, false
	}
	return body, true
}

func (s *Server) embeddings(w http.ResponseWriter, r *http.Request) {
	body, ok := s.begin(w, r)
	if !ok {
		return
	}
	var req struct {
		Model          string          `json:"model"`
		Input          json.RawMessage `json:"input"`
		EncodingFormat string          `json:"encoding_format"`
		Dimensions     int             `json:"dimensions"`
	}
	if err := json.Unmarshal(body, &req); err != nil || req.Model == "" {
		writeError(w, http.StatusBadRequest, "you must provide a model parameter", "invalid_request_error", "model", "")
		return
	}
	var inputs []string
	var one string
	if json.Unmarshal(req.Input, &one) == nil {
		inputs = []string{one}
	} else if json.Unmarshal(req.Input, &inputs) != nil {
		var toks [][]int
		var flat []int
		switch {
		case json.Unmarshal(req.Input, &flat) == nil && len(flat) > 0:
			inputs = []string{strconv.Itoa(len(flat))}
		case json.Unmarshal(req.Input, &toks) == nil && len(toks) > 0:
			for _, t := range toks {
				inputs = append(inputs, strconv.Itoa(len(t)))
			}
		default:
			writeError(w, http.StatusBadRequest, "'input' : input must be a string or an array of strings", "invalid_request_error", "input", "")
			return
		}
	}
	dims := embedDims
	if req.Dimensions > 0 {
		dims = req.Dimensions
	}
	type item struct {
		Object    string `json:"object"`
		Index     int    `json:"index"`
		Embedding any    `json:"embedding"`
	}
	data := make([]item, len(inputs))
	for i, text := range inputs {
		v := vector(text, dims)
		var e any = v
		if req.EncodingFormat == "base64" {
			b := make([]byte, 4*len(v))
			for j, f := range v {
				binary.LittleEndian.PutUint32(b[4*j:], math.Float32bits(f))
			}
			e = base64.StdEncoding.EncodeToString(b)
		}
		data[i] = item{Object: "embedding", Index: i, Embedding: e}
	}
	n := embedTokensPerIn * len(inputs)
	out, _ := json.Marshal(map[string]any{"object": "list", "data": data, "model": req.Model,
		"usage": map[string]int{"prompt_tokens": n, "total_tokens": n}})
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(out)
}

// vector is a unit vector derived from text.
func vector(text string, dims int) []float32 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(text))
	seed := h.Sum64()
	v := make([]float32, dims)
	var norm float64
	for i := range v {
		seed = seed*6364136223846793005 + 1442695040888963407
		v[i] = float32(int32(seed>>32)) / math.MaxInt32
		norm += float64(v[i]) * float64(v[i])
	}
	for i := range v {
		v[i] = float32(float64(v[i]) / math.Sqrt(norm))
	}
	return v
}

func (s *Server) completions(w http.ResponseWriter, r *http.Request) {
	body, ok := s.begin(w, r)
	if !ok {
		return
	}
	var req struct {
		Model         string          `json:"model"`
		Prompt        json.RawMessage `json:"prompt"`
		Stream        bool            `json:"stream"`
		StreamOptions *struct {
			IncludeUsage bool `json:"include_usage"`
		} `json:"stream_options"`
	}
	if err := json.Unmarshal(body, &req); err != nil || req.Model == "" {
		writeError(w, http.StatusBadRequest, "you must provide a model parameter", "invalid_request_error", "model", "")
		return
	}
	if len(req.Prompt) == 0 || string(req.Prompt) == "null" {
		writeError(w, http.StatusBadRequest, "Missing required parameter: 'prompt'.", "invalid_request_error", "prompt", "missing_required_parameter")
		return
	}
	model, _ := json.Marshal(req.Model)
	head := `{"id":"cmpl-` + s.nextID() + `","object":"text_completion","created":` + strconv.FormatInt(time.Now().Unix(), 10) + `,"model":` + string(model)
	usage := `{"prompt_tokens":` + strconv.Itoa(completionPrompt) + `,"completion_tokens":` + strconv.Itoa(completionTokens) +
		`,"total_tokens":` + strconv.Itoa(completionPrompt+completionTokens) + `}`
	text, _ := json.Marshal(completionText)
	if !req.Stream {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, head+`,"choices":[{"text":`+string(text)+`,"index":0,"logprobs":null,"finish_reason":"stop"}],"usage":`+usage+`}`)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	flusher, _ := w.(http.Flusher)
	send := func(p string) {
		_, _ = io.WriteString(w, "data: "+p+"\n\n")
		if flusher != nil {
			flusher.Flush()
		}
	}
	withUsage := req.StreamOptions != nil && req.StreamOptions.IncludeUsage
	null := ""
	if withUsage {
		null = `,"usage":null`
	}
	for _, part := range strings.SplitAfter(completionText, " ") {
		t, _ := json.Marshal(part)
		send(head + `,"choices":[{"text":` + string(t) + `,"index":0,"logprobs":null,"finish_reason":null}]` + null + `}`)
	}
	send(head + `,"choices":[{"text":"","index":0,"logprobs":null,"finish_reason":"stop"}]` + null + `}`)
	if withUsage {
		send(head + `,"choices":[],"usage":` + usage + `}`)
	}
	_, _ = io.WriteString(w, sseDone)
}
