package wire

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
)

// MaxEmbeddingInputs is OpenAI's limit on the inputs of one embeddings request.
const MaxEmbeddingInputs = 2048

// EmbeddingRequest is OpenAI's embeddings request, the members the translators read.
type EmbeddingRequest struct {
	Model          string          `json:"model"`
	Input          json.RawMessage `json:"input"`
	EncodingFormat string          `json:"encoding_format"`
	Dimensions     int             `json:"dimensions"`
	User           string          `json:"user"`
}

// EmbeddingInputs is what an embeddings request's input holds: texts, or token id lists (which
// only an OpenAI-compatible upstream can read).
type EmbeddingInputs struct {
	Texts  []string
	Tokens [][]int
}

// Len is the number of inputs.
func (in EmbeddingInputs) Len() int { return len(in.Texts) + len(in.Tokens) }

// ParseEmbeddingInput reads input: a string, a list of strings, a list of token ids (one input)
// or a list of such lists, as OpenAI takes it. Empty inputs and more than MaxEmbeddingInputs are
// refused, as OpenAI does.
func ParseEmbeddingInput(raw json.RawMessage) (EmbeddingInputs, error) {
	var in EmbeddingInputs
	raw = bytes.TrimSpace(raw)
	if IsNull(raw) {
		return in, errors.New("input is required: a string, a list of strings, or token ids")
	}
	var one string
	if json.Unmarshal(raw, &one) == nil {
		if one == "" {
			return in, errors.New("input must not be an empty string")
		}
		in.Texts = []string{one}
		return in, nil
	}
	var items []json.RawMessage
	if json.Unmarshal(raw, &items) != nil {
		return in, errors.New("input must be a string, a list of strings, or token ids")
	}
	if len(items) == 0 {
		return in, errors.New("input must not be an empty list")
	}
	if len(items) > MaxEmbeddingInputs {
		return in, fmt.Errorf("input has %d items; at most %d are allowed in one request", len(items), MaxEmbeddingInputs)
	}
	var ids []int
	if json.Unmarshal(raw, &ids) == nil {
		in.Tokens = [][]int{ids}
		return in, nil
	}
	for i, it := range items {
		var s string
		var toks []int
		switch {
		case json.Unmarshal(it, &s) == nil:
			if s == "" {
				return in, fmt.Errorf("input[%d] must not be an empty string", i)
			}
			in.Texts = append(in.Texts, s)
		case json.Unmarshal(it, &toks) == nil && len(toks) > 0:
			in.Tokens = append(in.Tokens, toks)
		default:
			return in, fmt.Errorf("input[%d] must be a string or a non-empty list of token ids", i)
		}
	}
	if len(in.Texts) > 0 && len(in.Tokens) > 0 {
		return in, errors.New("input mixes strings and token ids")
	}
	return in, nil
}

// Embedding is one item of OpenAI's embedding list; Embedding is a float array or a base64
// string, as encoding_format asked.
type Embedding struct {
	Object    string          `json:"object"`
	Index     int             `json:"index"`
	Embedding json.RawMessage `json:"embedding"`
}

// EmbeddingUsage is the usage of an embeddings answer.
type EmbeddingUsage struct {
	PromptTokens int `json:"prompt_tokens"`
	TotalTokens  int `json:"total_tokens"`
}

// EmbeddingList is OpenAI's embeddings answer. Usage is nil when the upstream reported none.
type EmbeddingList struct {
	Object string          `json:"object"`
	Data   []Embedding     `json:"data"`
	Model  string          `json:"model"`
	Usage  *EmbeddingUsage `json:"usage,omitempty"`
}

// NewEmbeddingList builds the answer for float vectors, in input order; promptTokens < 0 leaves
// usage out (the upstream did not count).
func NewEmbeddingList(model string, vectors [][]float64, promptTokens int) ([]byte, error) {
	l := EmbeddingList{Object: "list", Model: model, Data: make([]Embedding, len(vectors))}
	for i, v := range vectors {
		raw, err := json.Marshal(v)
		if err != nil {
			return nil, BadGateway("embedding %d is not a list of numbers: %v", i, err)
		}
		l.Data[i] = Embedding{Object: "embedding", Index: i, Embedding: raw}
	}
	if promptTokens >= 0 {
		l.Usage = &EmbeddingUsage{PromptTokens: promptTokens, TotalTokens: promptTokens}
	}
	return Marshal(l)
}

// ConvertEmbedding returns raw (a float array or a base64 string) in format: "base64" is OpenAI's
// little-endian float32 bytes in standard base64, anything else a float array.
func ConvertEmbedding(raw json.RawMessage, format string) (json.RawMessage, error) {
	isB64 := IsString(raw)
	switch {
	case format == "base64" && !isB64:
		var v []float64
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, fmt.Errorf("embedding is neither a list of numbers nor base64: %w", err)
		}
		b := make([]byte, 4*len(v))
		for i, f := range v {
			binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(float32(f)))
		}
		return json.Marshal(base64.StdEncoding.EncodeToString(b))
	case format != "base64" && isB64:
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, err
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil || len(b)%4 != 0 {
			return nil, errors.New("embedding is a string that is not base64 float32s")
		}
		v := make([]float32, len(b)/4)
		for i := range v {
			v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
		return json.Marshal(v)
	}
	return raw, nil
}
