package gemini

import (
	"errors"
	"os"
	"strings"

	"github.com/clawgate/clawgate/proxy/provider/internal/gcp"
	"github.com/clawgate/clawgate/proxy/provider/internal/httpx"
)

// VertexOptions configure a Gemini model on Vertex AI (LiteLLM's vertex_ai/ prefix).
type VertexOptions struct {
	// Project and Location are vertex_project and vertex_location; empty Project falls back to
	// VERTEXAI_PROJECT, GOOGLE_CLOUD_PROJECT, then the credentials' project; empty Location to
	// VERTEXAI_LOCATION, then us-central1.
	Project, Location string
	// Credentials is vertex_credentials: a service account key or authorized user JSON, or a path
	// to one; empty uses GOOGLE_APPLICATION_CREDENTIALS, then gcloud's application default
	// credentials.
	Credentials string
	// APIBase replaces https://LOCATION-aiplatform.googleapis.com (a private endpoint, a test).
	APIBase string
	Headers map[string]string
}

// NewVertex returns a provider for Gemini models on Vertex AI: Gemini's request and response
// format at Vertex's URL, with an OAuth2 token from the credentials instead of an API key.
func NewVertex(o VertexOptions) (*Provider, error) {
	ts, err := gcp.Load(o.Credentials, httpx.Shared())
	if err != nil {
		return nil, err
	}
	project := firstOf(o.Project, os.Getenv("VERTEXAI_PROJECT"), os.Getenv("GOOGLE_CLOUD_PROJECT"), ts.ProjectID())
	if project == "" {
		return nil, errors.New("no project: set vertex_project (or VERTEXAI_PROJECT)")
	}
	location := firstOf(o.Location, os.Getenv("VERTEXAI_LOCATION"), "us-central1")
	base := strings.TrimRight(o.APIBase, "/")
	if base == "" {
		host := location + "-aiplatform.googleapis.com"
		if location == "global" {
			host = "aiplatform.googleapis.com"
		}
		base = "https://" + host
	}
	return New(Options{
		Prefix:  base + "/v1/projects/" + project + "/locations/" + location + "/publishers/google",
		Headers: o.Headers,
		Token:   ts.Token,
	}), nil
}

func firstOf(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}
