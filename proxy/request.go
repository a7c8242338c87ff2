package proxy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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

	modelSpan   span // value span of "model"
	soSpan      span // value span of "stream_options" (zero when absent)
	openBrace   int  // offset just past the top-level opening brace
	closeBrace  int  // offset of the top-level closing brace
	hasMessages bool
}

type span struct{ start, end int }

func (s span) ok() bool { return s.end > s.start }

// parseChat validates the body as one JSON object and records the fields and spans it needs,
// in a single pass over the top level (values are skipped as raw JSON, not decoded).
// pathModel is the model named by the URL (/openai/deployments/{model}/...), used when the body has none.
func parseChat(body []byte, pathModel string) (*chatRequest, error) {
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
	if req.Model == "" {
		req.Model = pathModel
	}
	if req.Model == "" {
		return nil, errors.New("model is required: set \"model\" to one of the names GET /v1/models lists")
	}
	if !req.hasMessages {
		return nil, errors.New("messages is required and must not be empty")
	}
	return req, nil
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
