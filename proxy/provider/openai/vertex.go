package openai

import (
	"time"

	"github.com/clawgate/clawgate/proxy/provider/internal/gcp"
	"github.com/clawgate/clawgate/proxy/provider/internal/httpx"
)

// VertexOptions configure a partner model on Vertex AI's OpenAI-compatible endpoint (Llama and
// the other model-as-a-service publishers: vertex_ai/meta/llama-...).
type VertexOptions struct {
	// Project, Location, Credentials and APIBase are vertex_project, vertex_location,
	// vertex_credentials (JSON or a path) and api_base; see gcp.Vertex for their fallbacks.
	Project, Location, Credentials, APIBase string
	Headers                                 map[string]string
	Timeout                                 time.Duration
}

// NewVertex returns a provider for .../endpoints/openapi/chat/completions, which takes OpenAI's
// format with the publisher's model id ("meta/llama-3.3-70b-instruct-maas") and an OAuth2 token.
func NewVertex(o VertexOptions) (*Provider, error) {
	prefix, ts, err := gcp.Vertex(o.Project, o.Location, o.Credentials, o.APIBase, httpx.Shared())
	if err != nil {
		return nil, err
	}
	return New(Options{APIBase: prefix + "/endpoints/openapi", Headers: o.Headers, Timeout: o.Timeout, Token: ts.Token}), nil
}
