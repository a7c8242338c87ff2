package bedrock

import (
	"bytes"
	"context"
	"net/http"
	"strings"

	"github.com/clawgate/clawgate/proxy/provider"
)

// Invoke posts body unchanged to InvokeModel (/model/{modelId}/invoke) or, for a stream,
// InvokeModelWithResponseStream (/model/{modelId}/invoke-with-response-stream), with the
// deployment's endpoint, headers and signature. It is for bodies in the model's own format
// (Claude's Messages envelope): the answer is the caller's to read, a JSON body or an AWS event
// stream of chunk events, and to close. A non-2xx answer is a *provider.Error, as for Chat.
func (p *Provider) Invoke(ctx context.Context, model string, body []byte, stream bool) (*http.Response, error) {
	model = modelID(model)
	op := "/invoke"
	if stream {
		op = "/invoke-with-response-stream"
	}
	u := p.endpointURL(model, false)
	u.Path = strings.TrimSuffix(u.Path, "/converse") + op
	u.RawPath = strings.TrimSuffix(u.RawPath, "/converse") + op
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, p.base.String(), bytes.NewReader(body))
	if err != nil {
		return nil, &provider.Error{Status: http.StatusInternalServerError, Type: "api_error", Message: "bedrock: bad endpoint: " + err.Error(), Err: err}
	}
	hreq.URL = u
	hreq.Header = p.header(&provider.Request{Stream: stream})
	if err := p.auth.sign(ctx, hreq, body); err != nil {
		return nil, err
	}
	resp, err := p.client.Do(hreq)
	if err != nil {
		return nil, failure(ctx, "sending request", err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, statusError(resp)
	}
	return resp, nil
}
