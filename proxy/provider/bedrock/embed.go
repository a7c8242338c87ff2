package bedrock

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/clawgate/clawgate/proxy/internal/wire"
	"github.com/clawgate/clawgate/proxy/provider"
	"github.com/clawgate/clawgate/proxy/provider/internal/httpx"
)

// Embeddings through InvokeModel, in each model family's own body: Amazon Titan Text Embeddings
// (one text per call, its token count in the answer) and Cohere Embed (up to 96 texts per call,
// the token count in a response header).

// cohereBatch is Cohere Embed's limit on texts per call.
const cohereBatch = 96

// TitanEmbedRequest is Titan Text Embeddings' InvokeModel body.
type TitanEmbedRequest struct {
	InputText  string `json:"inputText"`
	Dimensions int    `json:"dimensions,omitempty"`
}

// CohereEmbedRequest is Cohere Embed's InvokeModel body on Bedrock.
type CohereEmbedRequest struct {
	Texts          []string `json:"texts"`
	InputType      string   `json:"input_type"`
	EmbeddingTypes []string `json:"embedding_types"`
}

// embedFamily says which body a Bedrock embedding model takes; "" for models without embeddings.
func embedFamily(model string) string {
	switch {
	case strings.Contains(model, "titan-embed-text"):
		return "titan"
	case strings.Contains(model, "cohere.embed"):
		return "cohere"
	}
	return ""
}

// FromTitanAnswer reads one Titan answer: the vector and its token count.
func FromTitanAnswer(raw []byte) ([]float64, int, error) {
	var r struct {
		Embedding           []float64 `json:"embedding"`
		InputTextTokenCount int       `json:"inputTextTokenCount"`
	}
	if err := json.Unmarshal(raw, &r); err != nil || r.Embedding == nil {
		return nil, 0, wire.BadGateway("bedrock: Titan embeddings answer holds no embedding")
	}
	return r.Embedding, r.InputTextTokenCount, nil
}

// FromCohereAnswer reads one Cohere answer: "embeddings" is a list of vectors, or with
// embedding_types a map of such lists by type, of which float is taken.
func FromCohereAnswer(raw []byte) ([][]float64, error) {
	var r struct {
		Embeddings json.RawMessage `json:"embeddings"`
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, wire.BadGateway("bedrock: Cohere embeddings answer is not JSON: %v", err)
	}
	var list [][]float64
	if json.Unmarshal(r.Embeddings, &list) == nil && list != nil {
		return list, nil
	}
	var byType struct {
		Float [][]float64 `json:"float"`
	}
	if json.Unmarshal(r.Embeddings, &byType) == nil && byType.Float != nil {
		return byType.Float, nil
	}
	return nil, wire.BadGateway("bedrock: Cohere embeddings answer holds no float embeddings")
}

// Embed serves an OpenAI embeddings request on a Titan or Cohere embedding model.
func (p *Provider) Embed(ctx context.Context, req *provider.Request) (*provider.Response, error) {
	model := modelID(req.Model)
	family := embedFamily(model)
	if family == "" {
		return nil, badRequest("model", "bedrock: %s is not an embedding model this gateway speaks (amazon.titan-embed-text-*, cohere.embed-*)", model)
	}
	var er wire.EmbeddingRequest
	if err := json.Unmarshal(req.Body, &er); err != nil {
		return nil, badRequest("input", "invalid embeddings request: %v", err)
	}
	in, err := wire.ParseEmbeddingInput(er.Input)
	if err != nil {
		return nil, badRequest("input", "%s", err.Error())
	}
	if len(in.Tokens) > 0 {
		return nil, badRequest("input", "Bedrock embedding models take text only: send input as strings, not token ids")
	}
	var vectors [][]float64
	tokens := 0
	var header http.Header
	if family == "titan" {
		for _, t := range in.Texts {
			raw, h, err := p.invoke(ctx, model, TitanEmbedRequest{InputText: t, Dimensions: er.Dimensions})
			if err != nil {
				return nil, err
			}
			v, n, err := FromTitanAnswer(raw)
			if err != nil {
				return nil, err
			}
			vectors, tokens, header = append(vectors, v), tokens+n, h
		}
	} else {
		for i := 0; i < len(in.Texts); i += cohereBatch {
			batch := in.Texts[i:min(i+cohereBatch, len(in.Texts))]
			raw, h, err := p.invoke(ctx, model, CohereEmbedRequest{Texts: batch, InputType: "search_document", EmbeddingTypes: []string{"float"}})
			if err != nil {
				return nil, err
			}
			vs, err := FromCohereAnswer(raw)
			if err != nil {
				return nil, err
			}
			if len(vs) != len(batch) {
				return nil, wire.BadGateway("bedrock: %d embeddings for %d texts", len(vs), len(batch))
			}
			n, _ := strconv.Atoi(h.Get("X-Amzn-Bedrock-Input-Token-Count"))
			vectors, tokens, header = append(vectors, vs...), tokens+n, h
		}
	}
	out, err := wire.NewEmbeddingList(model, vectors, tokens)
	if err != nil {
		return nil, err
	}
	return &provider.Response{Header: passHeaders(header), Body: out}, nil
}

// invoke POSTs body to /model/{modelId}/invoke, signed, and returns the answer.
func (p *Provider) invoke(ctx context.Context, model string, v any) ([]byte, http.Header, error) {
	body, err := marshal(v)
	if err != nil {
		return nil, nil, &provider.Error{Status: http.StatusInternalServerError, Type: "api_error", Message: "bedrock: encoding request: " + err.Error(), Err: err}
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, p.base.String(), bytes.NewReader(body))
	if err != nil {
		return nil, nil, &provider.Error{Status: http.StatusInternalServerError, Type: "api_error", Message: "bedrock: bad endpoint: " + err.Error(), Err: err}
	}
	hreq.URL = p.opURL(model, "/invoke")
	hreq.Header = p.header(&provider.Request{})
	if err := p.auth.sign(ctx, hreq, body); err != nil {
		return nil, nil, err
	}
	return httpx.Exchange{Client: p.client, Prefix: "bedrock: ", Limit: maxBody, Status: statusError, Fail: failure}.Do(ctx, hreq)
}
