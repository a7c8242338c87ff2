package gemini

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/clawgate/clawgate/proxy/internal/wire"
	"github.com/clawgate/clawgate/proxy/provider"
	"github.com/clawgate/clawgate/proxy/provider/internal/httpx"
)

// Embeddings: AI Studio's embedContent (one input) and batchEmbedContents (several), and
// Vertex AI's predict for its text embedding models. Neither counts tokens for AI Studio, so its
// answers carry no usage and the gateway estimates it; Vertex reports a token count per input.

type embedPart struct {
	Text string `json:"text"`
}

type embedContent struct {
	Parts []embedPart `json:"parts"`
}

// EmbedContentRequest is one embedContent request (and one item of batchEmbedContents').
type EmbedContentRequest struct {
	Model                string       `json:"model"`
	Content              embedContent `json:"content"`
	OutputDimensionality int          `json:"outputDimensionality,omitempty"`
}

type contentEmbedding struct {
	Values []float64 `json:"values"`
}

// FromEmbeddings translates an OpenAI embeddings request for AI Studio: the body of embedContent
// for one input, of batchEmbedContents ({"requests": [...]}) for several. batch says which.
func FromEmbeddings(body []byte, model string) (out any, batch bool, err error) {
	texts, dims, err := embeddingTexts(body)
	if err != nil {
		return nil, false, err
	}
	name := modelName(model)
	reqs := make([]EmbedContentRequest, len(texts))
	for i, t := range texts {
		reqs[i] = EmbedContentRequest{Model: name, Content: embedContent{Parts: []embedPart{{Text: t}}}, OutputDimensionality: dims}
	}
	if len(reqs) == 1 {
		return reqs[0], false, nil
	}
	return map[string]any{"requests": reqs}, true, nil
}

// ToEmbeddings translates embedContent's or batchEmbedContents' answer to OpenAI's list.
func ToEmbeddings(raw []byte, model string) ([]byte, error) {
	var r struct {
		Embedding  *contentEmbedding   `json:"embedding"`
		Embeddings []*contentEmbedding `json:"embeddings"`
		Usage      *struct {
			PromptTokenCount int `json:"promptTokenCount"`
		} `json:"usageMetadata"`
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, wire.BadGateway("gemini: embeddings answer is not JSON: %v", err)
	}
	if r.Embedding != nil {
		r.Embeddings = []*contentEmbedding{r.Embedding}
	}
	vectors := make([][]float64, len(r.Embeddings))
	for i, e := range r.Embeddings {
		if e == nil {
			return nil, wire.BadGateway("gemini: embedding %d is missing", i)
		}
		vectors[i] = e.Values
	}
	if len(vectors) == 0 {
		return nil, wire.BadGateway("gemini: the answer holds no embedding")
	}
	tokens := -1
	if r.Usage != nil {
		tokens = r.Usage.PromptTokenCount
	}
	return wire.NewEmbeddingList(model, vectors, tokens)
}

// vertexPredict is Vertex AI's predict request for text embedding models.
type vertexPredict struct {
	Instances  []vertexInstance `json:"instances"`
	Parameters *vertexParams    `json:"parameters,omitempty"`
}

type vertexInstance struct {
	Content string `json:"content"`
}

type vertexParams struct {
	OutputDimensionality int `json:"outputDimensionality,omitempty"`
}

// FromEmbeddingsVertex translates an OpenAI embeddings request to Vertex AI's predict.
func FromEmbeddingsVertex(body []byte) (any, error) {
	texts, dims, err := embeddingTexts(body)
	if err != nil {
		return nil, err
	}
	out := vertexPredict{Instances: make([]vertexInstance, len(texts))}
	for i, t := range texts {
		out.Instances[i] = vertexInstance{Content: t}
	}
	if dims > 0 {
		out.Parameters = &vertexParams{OutputDimensionality: dims}
	}
	return out, nil
}

// ToEmbeddingsVertex translates predict's answer; its per-input token counts are the usage.
func ToEmbeddingsVertex(raw []byte, model string) ([]byte, error) {
	var r struct {
		Predictions []struct {
			Embeddings struct {
				Values     []float64 `json:"values"`
				Statistics struct {
					TokenCount float64 `json:"token_count"`
				} `json:"statistics"`
			} `json:"embeddings"`
		} `json:"predictions"`
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, wire.BadGateway("vertex_ai: embeddings answer is not JSON: %v", err)
	}
	if len(r.Predictions) == 0 {
		return nil, wire.BadGateway("vertex_ai: the answer holds no prediction")
	}
	vectors := make([][]float64, len(r.Predictions))
	tokens := 0
	for i, p := range r.Predictions {
		vectors[i] = p.Embeddings.Values
		tokens += int(p.Embeddings.Statistics.TokenCount)
	}
	return wire.NewEmbeddingList(model, vectors, tokens)
}

// embeddingTexts reads the texts and dimensions of an OpenAI embeddings request; token id
// inputs are refused, Google's APIs take text only.
func embeddingTexts(body []byte) ([]string, int, error) {
	var req wire.EmbeddingRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, 0, badEmbedding("invalid embeddings request: " + err.Error())
	}
	in, err := wire.ParseEmbeddingInput(req.Input)
	if err != nil {
		return nil, 0, badEmbedding(err.Error())
	}
	if len(in.Tokens) > 0 {
		return nil, 0, badEmbedding("this route's embeddings API takes text only: send input as strings, not token ids")
	}
	return in.Texts, req.Dimensions, nil
}

func badEmbedding(msg string) *provider.Error {
	return &provider.Error{Status: http.StatusBadRequest, Type: "invalid_request_error", Param: "input", Message: msg}
}

// modelName is the model's resource name, models/{model} unless it names its collection.
func modelName(model string) string {
	name := strings.TrimPrefix(model, "/")
	if !strings.Contains(name, "/") {
		name = "models/" + name
	}
	return name
}

// Embed translates an OpenAI embeddings request, sends it and translates the answer back.
func (p *Provider) Embed(ctx context.Context, req *provider.Request) (*provider.Response, error) {
	var (
		body   any
		method string
		err    error
	)
	if p.vertex {
		method = "predict"
		body, err = FromEmbeddingsVertex(req.Body)
	} else {
		var batch bool
		body, batch, err = FromEmbeddings(req.Body, req.Model)
		method = "embedContent"
		if batch {
			method = "batchEmbedContents"
		}
	}
	if err != nil {
		return nil, err
	}
	b, err := marshal(body)
	if err != nil {
		return nil, &provider.Error{Status: http.StatusInternalServerError, Type: "api_error", Message: "gemini: encoding request: " + err.Error(), Err: err}
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, p.methodURL(req.Model, method), bytes.NewReader(b))
	if err != nil {
		return nil, &provider.Error{Status: http.StatusInternalServerError, Type: "api_error", Message: "gemini: bad api_base: " + err.Error(), Err: err}
	}
	r := *req
	r.Stream = false
	hreq.Header = p.header(&r)
	if p.token != nil {
		if err := httpx.Bearer(ctx, hreq.Header, p.token); err != nil {
			return nil, err
		}
	}
	raw, h, err := httpx.Exchange{Client: p.client, Prefix: "gemini: ", Limit: maxBody, Status: statusError, Fail: failure}.Do(ctx, hreq)
	if err != nil {
		return nil, err
	}
	var out []byte
	if p.vertex {
		out, err = ToEmbeddingsVertex(raw, req.Model)
	} else {
		out, err = ToEmbeddings(raw, req.Model)
	}
	if err != nil {
		return nil, err
	}
	return &provider.Response{Header: passHeaders(h), Body: out}, nil
}
