package gemini

import (
	"github.com/clawgate/clawgate/proxy/provider/internal/gcp"
	"github.com/clawgate/clawgate/proxy/provider/internal/httpx"
)

// VertexOptions configure a Gemini model on Vertex AI (LiteLLM's vertex_ai/ prefix).
type VertexOptions struct {
	// Project, Location, Credentials and APIBase are vertex_project, vertex_location,
	// vertex_credentials (JSON or a path) and api_base; see gcp.Vertex for their fallbacks.
	Project, Location, Credentials, APIBase string
	Headers                                 map[string]string
}

// NewVertex returns a provider for Gemini models on Vertex AI: Gemini's request and response
// format at Vertex's URL, with an OAuth2 token from the credentials instead of an API key.
func NewVertex(o VertexOptions) (*Provider, error) {
	prefix, ts, err := gcp.Vertex(o.Project, o.Location, o.Credentials, o.APIBase, httpx.Shared())
	if err != nil {
		return nil, err
	}
	p := New(Options{Prefix: prefix + "/publishers/google", Headers: o.Headers, Token: ts.Token})
	p.vertex = true
	return p, nil
}
