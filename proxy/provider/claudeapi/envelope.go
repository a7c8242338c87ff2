package claudeapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
)

// The anthropic_version values the cloud platforms take in the body instead of the header.
const (
	BedrockVersion = "bedrock-2023-05-31"
	VertexVersion  = "vertex-2023-10-16"
)

// span is one top-level member: where its key starts and where its value starts and ends.
type span struct {
	key               string
	keyAt, start, end int
}

// members lists the top-level members of a JSON object with their spans, in order, and where its
// closing brace is. Only the spans are read: the values are never decoded, so what is not touched
// goes out byte for byte.
func members(body []byte) ([]span, int, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	tok, err := dec.Token()
	if err != nil {
		return nil, 0, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, 0, errors.New("the body is not a JSON object")
	}
	var out []span
	for dec.More() {
		from := int(dec.InputOffset())
		tok, err := dec.Token()
		if err != nil {
			return nil, 0, err
		}
		key, _ := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, 0, err
		}
		end := int(dec.InputOffset())
		out = append(out, span{key, from + bytes.IndexByte(body[from:], '"'), end - len(raw), end})
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, 0, err
	}
	closing := int(dec.InputOffset()) - 1
	if _, err := dec.Token(); err != io.EOF {
		return nil, 0, errors.New("the body has data after its JSON object")
	}
	return out, closing, nil
}

// Edit is one change to a top-level member: Value nil removes it, otherwise it is set (replaced
// in place, or added at the end when absent).
type Edit struct {
	Key   string
	Value []byte
}

// Splice applies edits to the top-level members of the JSON object body and leaves every other
// byte as it was: a member replaced keeps its place, one removed takes its separator with it, one
// added goes last. A key given twice is edited both times (parsers differ on which one wins). A
// body that is not one JSON object is an error.
func Splice(body []byte, edits ...Edit) ([]byte, error) {
	ms, closing, err := members(body)
	if err != nil {
		return nil, err
	}
	done := make([]bool, len(edits))
	edit := func(key string) int {
		for j, e := range edits {
			if e.Key == key { // every occurrence: a duplicate key must not carry the client's model past us
				done[j] = true
				return j
			}
		}
		return -1
	}
	tail := closing // what follows the last member: space, then the brace
	head := closing // what precedes the first member: the brace, then space
	if len(ms) > 0 {
		tail, head = ms[len(ms)-1].end, ms[0].keyAt
	}
	out := append(make([]byte, 0, len(body)+64), body[:head]...)
	kept := 0
	for i, m := range ms {
		j := edit(m.key)
		if j >= 0 && edits[j].Value == nil {
			continue
		}
		if kept > 0 {
			sep := []byte(",")
			if i > 0 {
				sep = body[ms[i-1].end:m.keyAt] // the client's own comma and spacing
			}
			out = append(out, sep...)
		}
		if j >= 0 {
			out = append(append(out, body[m.keyAt:m.start]...), edits[j].Value...)
		} else {
			out = append(out, body[m.keyAt:m.end]...)
		}
		kept++
	}
	for j, e := range edits {
		if done[j] || e.Value == nil {
			continue
		}
		if kept > 0 {
			out = append(out, ',')
		}
		out = append(append(append(out, quote(e.Key)...), ':'), e.Value...)
		kept++
	}
	return append(out, body[tail:]...), nil
}

func quote(s string) []byte {
	b, _ := json.Marshal(s)
	return b
}

// ForAnthropic is the body for Anthropic's API: the client's, with model set.
func ForAnthropic(body []byte, model string) ([]byte, error) {
	return Splice(body, Edit{"model", quote(model)})
}

// ForVertex is the body for Vertex AI's rawPredict and streamRawPredict: the model moves to the
// URL and anthropic_version comes into the body (the client's own, if it set one, stays).
func ForVertex(body []byte) ([]byte, error) {
	edits := []Edit{{Key: "model"}}
	if !hasMember(body, "anthropic_version") {
		edits = append(edits, Edit{"anthropic_version", quote(VertexVersion)})
	}
	return Splice(body, edits...)
}

// ForBedrock is the body for Bedrock's InvokeModel and InvokeModelWithResponseStream: model and
// stream move to the URL, anthropic_version comes into the body, and so do the anthropic-beta
// header's features, as the anthropic_beta list (Bedrock reads no anthropic-* headers).
func ForBedrock(body []byte, betas []string) ([]byte, error) {
	edits := []Edit{{Key: "model"}, {Key: "stream"}}
	if !hasMember(body, "anthropic_version") {
		edits = append(edits, Edit{"anthropic_version", quote(BedrockVersion)})
	}
	if len(betas) > 0 && !hasMember(body, "anthropic_beta") {
		b, _ := json.Marshal(betas)
		edits = append(edits, Edit{"anthropic_beta", b})
	}
	return Splice(body, edits...)
}

func hasMember(body []byte, key string) bool {
	ms, _, err := members(body)
	if err != nil {
		return false
	}
	for _, m := range ms {
		if m.key == key {
			return true
		}
	}
	return false
}
