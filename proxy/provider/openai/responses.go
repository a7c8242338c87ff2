package openai

import (
	"context"
	"net/http"
	"strings"

	"github.com/clawgate/clawgate/proxy/provider"
	"github.com/clawgate/clawgate/proxy/provider/internal/httpx"
)

// Responses sends req, a Responses API body, to the deployment's /responses endpoint, with the
// same auth, headers, timeouts and error handling as Chat. A streamed answer's Stream yields the
// data of each Responses event (their types are in the data); such a stream has no [DONE], so it
// ends in a 502 wrapping io.ErrUnexpectedEOF, which the caller reads as a clean end once it has
// seen the response's terminal event.
func (p *Provider) Responses(ctx context.Context, req *provider.Request) (*provider.Response, error) {
	return p.send(ctx, responsesURL(p.url), req)
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

// StoredResponse calls GET or DELETE on a response OpenAI keeps ({id}, or {id}/input_items with
// query), for the gateway to answer GET and DELETE /v1/responses/{id} on pass-through routes. A
// non-2xx answer is a *provider.Error; a 2xx body is returned as it came.
func (p *Provider) StoredResponse(ctx context.Context, method, rest, query string) ([]byte, error) {
	base := responsesURL(p.url)
	if base == "" {
		return nil, &provider.Error{Status: http.StatusInternalServerError, Type: "api_error", Message: "openai: api_base is not set for this deployment"}
	}
	path, q, _ := strings.Cut(base, "?")
	u := path + "/" + rest
	if q != "" && query != "" {
		u += "?" + q + "&" + query
	} else if q+query != "" {
		u += "?" + q + query
	}
	hreq, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return nil, &provider.Error{Status: http.StatusBadRequest, Type: "invalid_request_error", Message: "openai: bad response id: " + err.Error(), Err: err}
	}
	hreq.Header = p.header(&provider.Request{})
	delete(hreq.Header, "Content-Type")
	if p.token != nil {
		if err := httpx.Bearer(ctx, hreq.Header, p.token); err != nil {
			return nil, err
		}
	}
	resp, err := p.client.Do(hreq)
	if err != nil {
		return nil, failure(ctx, "sending request", err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, statusError(resp)
	}
	defer resp.Body.Close()
	return httpx.ReadBody(resp, "", maxBody)
}
