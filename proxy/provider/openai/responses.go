package openai

import (
	"context"
	"strings"

	"github.com/clawgate/clawgate/proxy/provider"
)

// Responses sends req, a Responses API body, to the deployment's /responses endpoint, with the
// same auth, headers, timeouts and error handling as Chat. A streamed answer's Stream yields the
// data of each Responses event (their types are in the data); such a stream has no [DONE], so it
// ends in a 502 wrapping io.ErrUnexpectedEOF, which the caller reads as a clean end once it has
// seen the response's terminal event.
func (p *Provider) Responses(ctx context.Context, req *provider.Request) (*provider.Response, error) {
	return p.call(ctx, responsesURL(p.url), req)
}

// responsesURL derives the Responses endpoint from the chat completions URL: .../v1/responses
// beside .../v1/chat/completions; for Azure's deployment URLs, the resource's v1 API
// (/openai/v1/responses), where the body's model names the deployment, since Azure serves the
// Responses API under no deployment path.
func responsesURL(chat string) string {
	if chat == "" {
		return ""
	}
	path, query, _ := strings.Cut(chat, "?")
	if i := strings.Index(path, "/openai/deployments/"); i >= 0 {
		return path[:i] + "/openai/v1/responses"
	}
	path = strings.TrimSuffix(path, "/chat/completions") + "/responses"
	if query != "" {
		path += "?" + query
	}
	return path
}
