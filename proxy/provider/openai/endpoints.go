package openai

import (
	"context"
	"strings"

	"github.com/clawgate/clawgate/proxy/provider"
)

// The endpoints of OpenAI's API beside chat completions. Every base this package serves (OpenAI,
// the compatible servers, Azure's deployment and v1 URLs, Vertex's openapi endpoint) names them
// the same way relative to its chat completions URL, so each is that URL with its last part
// swapped; the body goes as built by the gateway and the answer comes back undecoded.

// Embed sends an OpenAI embeddings request to {APIBase}/embeddings. req.Stream is ignored.
func (p *Provider) Embed(ctx context.Context, req *provider.Request) (*provider.Response, error) {
	r := *req
	r.Stream = false
	return p.send(ctx, p.sibling("/embeddings"), &r)
}

// Complete sends a legacy text completion to {APIBase}/completions, streamed or not, with
// Chat's contract (the stream yields text_completion payloads).
func (p *Provider) Complete(ctx context.Context, req *provider.Request) (*provider.Response, error) {
	return p.send(ctx, p.sibling("/completions"), req)
}

// sibling is the chat completions URL with "/chat/completions" replaced by path, its query kept.
func (p *Provider) sibling(path string) string {
	if p.url == "" {
		return ""
	}
	u, query, hasQuery := strings.Cut(p.url, "?")
	u = strings.TrimSuffix(u, "/chat/completions") + path
	if hasQuery {
		u += "?" + query
	}
	return u
}
