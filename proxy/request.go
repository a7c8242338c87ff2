package proxy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// chatRequest holds what the gateway reads from a chat completion body. The body itself is
// forwarded as sent: only "model" and stream_options are spliced in per attempt.
type chatRequest struct {
	body         []byte
	Model        string
	Stream       bool
	IncludeUsage bool
	User         string
	MaxTokens    int
	N            int // choices asked for; 0 when absent

	modelSpan   span // value span of "model"
	soSpan      span // value span of "stream_options" (zero when absent)
	openBrace   int  // offset just past the top-level opening brace
	closeBrace  int  // offset of the top-level closing brace
	hasMessages bool
	// responses marks a Responses API body passed through to a deployment that serves that API
	// (responsesapi.go): sent to its /responses endpoint, streamed back as Responses events.
	responses bool
	hasPrompt bool // a legacy text completion's "prompt"
}

type span struct{ start, end int }

func (s span) ok() bool { return s.end > s.start }

// parseChat validates the body as one JSON object and records the fields and spans it needs.
// pathModel is the model named by the URL (/openai/deployments/{model}/...), used when the body has none.
//
// A valid body is walked at its top level by scanning (json.Valid, then value ends found by byte
// scanning): prompts with tools run to tens of kilobytes, and decoding them token by token, each
// value copied, was the gateway's largest per-request cost after the network. An invalid body goes
// to parseChatDecoder, which says where it is wrong; the two agree on every valid body (FuzzParseChat).
func parseChat(body []byte, pathModel string) (*chatRequest, error) {
	return parseRequest(body, pathModel, false)
}

// parseCompletion is parseChat for a legacy text completion (/v1/completions), which has a
// prompt where chat has messages.
func parseCompletion(body []byte, pathModel string) (*chatRequest, error) {
	return parseRequest(body, pathModel, true)
}

func parseRequest(body []byte, pathModel string, prompt bool) (*chatRequest, error) {
	if !json.Valid(body) {
		return parseDecoder(body, pathModel, prompt)
	}
	req, err := scanObject(body)
	if err != nil {
		return nil, err
	}
	return req.check(pathModel, prompt)
}

// scanObject is parseChat's walk over a valid body's top-level members, without the chat rules:
// the Responses API's pass-through reads its body (model, stream, user) the same way.
func scanObject(body []byte) (*chatRequest, error) {
	req := &chatRequest{body: body}
	i := skipSpace(body, 0)
	if body[i] != '{' {
		return nil, errors.New("invalid request body: expected a JSON object")
	}
	i++
	req.openBrace = i
	for {
		i = skipSpace(body, i)
		switch body[i] {
		case '}':
			req.closeBrace = i
			return req, nil
		case ',':
			i = skipSpace(body, i+1)
		}
		n := valueEnd(body[i:])
		key := body[i : i+n]
		i = skipSpace(body, i+n) + 1 // past the colon
		i = skipSpace(body, i)
		n = valueEnd(body[i:])
		if err := req.field(key, span{i, i + n}); err != nil {
			return nil, err
		}
		i += n
	}
}

// field reads one top-level member: key is its quoted name, sp its value's span.
func (req *chatRequest) field(key []byte, sp span) error {
	name := string(key[1 : len(key)-1]) // no allocation in the switch below when unescaped
	if bytes.IndexByte(key, '\\') >= 0 {
		name = jsonString(key)
	}
	raw := req.body[sp.start:sp.end]
	null := string(raw) == "null"
	switch name {
	case "model":
		if raw[0] == '"' {
			req.Model = jsonString(raw)
		} else if !null {
			return errors.New("invalid request body: model must be a string")
		}
		req.modelSpan = sp
	case "stream":
		switch string(raw) {
		case "true", "false":
			req.Stream = raw[0] == 't'
		case "null":
		default:
			return errors.New("invalid request body: stream must be a boolean")
		}
	case "stream_options":
		var so struct {
			IncludeUsage bool `json:"include_usage"`
		}
		if !null && json.Unmarshal(raw, &so) != nil {
			return errors.New("invalid request body: stream_options must be an object")
		}
		req.IncludeUsage = so.IncludeUsage
		req.soSpan = sp
	case "messages":
		if raw[0] != '[' {
			return errors.New("invalid request body: messages must be an array")
		}
		req.hasMessages = len(bytes.TrimSpace(raw[1:len(raw)-1])) > 0
	case "user":
		if raw[0] == '"' {
			req.User = jsonString(raw)
		}
	case "prompt":
		req.hasPrompt = !null
	case "n":
		if n, err := strconv.Atoi(string(raw)); err == nil && n > 0 {
			req.N = n
		}
	case "max_tokens", "max_completion_tokens":
		if n, err := strconv.Atoi(string(raw)); err == nil && n > req.MaxTokens {
			req.MaxTokens = n
		}
	}
	return nil
}

// check applies the rules on the whole body once its members are read.
func (req *chatRequest) check(pathModel string, prompt bool) (*chatRequest, error) {
	if req.Model == "" {
		req.Model = pathModel
	}
	if req.Model == "" {
		return nil, errors.New("model is required: set \"model\" to one of the names GET /v1/models lists")
	}
	if prompt {
		if !req.hasPrompt {
			return nil, errors.New("prompt is required")
		}
		return req, nil
	}
	if !req.hasMessages {
		return nil, errors.New("messages is required and must not be empty")
	}
	return req, nil
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// parseChatDecoder is parseChat by json.Decoder, token by token: slower, but its errors name the
// offending member and what is wrong with it.
func parseChatDecoder(body []byte, pathModel string) (*chatRequest, error) {
	return parseDecoder(body, pathModel, false)
}

func parseDecoder(body []byte, pathModel string, prompt bool) (*chatRequest, error) {
	req := &chatRequest{body: body}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("invalid JSON in request body: %w", cleanJSONErr(err))
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errors.New("invalid request body: expected a JSON object")
	}
	req.openBrace = int(dec.InputOffset())
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("invalid JSON in request body: %w", cleanJSONErr(err))
		}
		key, _ := tok.(string)
		// InputOffset is just past the key; the value starts after the colon and spaces.
		var raw json.RawMessage
		before := int(dec.InputOffset())
		if err := dec.Decode(&raw); err != nil {
			return nil, fmt.Errorf("invalid JSON in request body at %q: %w", key, cleanJSONErr(err))
		}
		end := int(dec.InputOffset())
		start := end - len(raw)
		if start < before {
			start = before
		}
		switch key {
		case "model":
			if err := json.Unmarshal(raw, &req.Model); err != nil {
				return nil, errors.New("invalid request body: model must be a string")
			}
			req.modelSpan = span{start, end}
		case "stream":
			if !bytes.Equal(raw, []byte("null")) {
				if err := json.Unmarshal(raw, &req.Stream); err != nil {
					return nil, errors.New("invalid request body: stream must be a boolean")
				}
			}
		case "stream_options":
			var so struct {
				IncludeUsage bool `json:"include_usage"`
			}
			if !bytes.Equal(raw, []byte("null")) {
				if err := json.Unmarshal(raw, &so); err != nil {
					return nil, errors.New("invalid request body: stream_options must be an object")
				}
			}
			req.IncludeUsage = so.IncludeUsage
			req.soSpan = span{start, end}
		case "messages":
			if len(raw) < 2 || raw[0] != '[' {
				return nil, errors.New("invalid request body: messages must be an array")
			}
			req.hasMessages = !bytes.Equal(bytes.TrimSpace(raw[1:len(raw)-1]), nil)
		case "user":
			_ = json.Unmarshal(raw, &req.User)
		case "prompt":
			req.hasPrompt = !bytes.Equal(raw, []byte("null"))
		case "n":
			var n int
			if json.Unmarshal(raw, &n) == nil && n > 0 {
				req.N = n
			}
		case "max_tokens", "max_completion_tokens":
			var n int
			if json.Unmarshal(raw, &n) == nil && n > req.MaxTokens {
				req.MaxTokens = n
			}
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, fmt.Errorf("invalid JSON in request body: %w", cleanJSONErr(err))
	}
	req.closeBrace = int(dec.InputOffset()) - 1
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("invalid JSON in request body: data after the top-level object")
	}
	return req.check(pathModel, prompt)
}

func cleanJSONErr(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("unexpected end of JSON input")
	}
	return err
}

// upstreamBody returns the body to send: "model" replaced by model and, for streams, usage
// asked for. The original body is not modified; nothing else is re-encoded.
func (r *chatRequest) upstreamBody(model string) []byte {
	m, _ := json.Marshal(model)
	var edits [2]edit
	n := 0
	if r.modelSpan.ok() {
		edits[n] = edit{r.modelSpan, m}
	} else {
		edits[n] = edit{span{r.openBrace, r.openBrace}, append(append([]byte(`"model":`), m...), ',')}
	}
	n++
	if r.Stream && !r.IncludeUsage {
		if r.soSpan.ok() {
			// Keep the client's other stream options; set include_usage.
			val := []byte(`{"include_usage":true}`)
			var so map[string]json.RawMessage
			if json.Unmarshal(r.body[r.soSpan.start:r.soSpan.end], &so) == nil && so != nil {
				so["include_usage"] = json.RawMessage("true")
				val, _ = json.Marshal(so)
			}
			edits[n] = edit{r.soSpan, val}
		} else {
			edits[n] = edit{span{r.closeBrace, r.closeBrace}, []byte(`,"stream_options":{"include_usage":true}`)}
		}
		n++
	}
	if n == 2 && edits[1].sp.start < edits[0].sp.start {
		edits[0], edits[1] = edits[1], edits[0]
	}
	size := len(r.body)
	for _, e := range edits[:n] {
		size += len(e.val) - (e.sp.end - e.sp.start)
	}
	out := make([]byte, 0, size)
	pos := 0
	for _, e := range edits[:n] {
		out = append(out, r.body[pos:e.sp.start]...)
		out = append(out, e.val...)
		pos = e.sp.end
	}
	return append(out, r.body[pos:]...)
}

type edit struct {
	sp  span
	val []byte
}
