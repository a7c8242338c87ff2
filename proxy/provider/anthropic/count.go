package anthropic

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"

	"github.com/clawgate/clawgate/proxy/provider"
)

// CountTokens asks Anthropic's /v1/messages/count_tokens for an exact count. body is an
// Anthropic Messages request (as a client sends it to /v1/messages/count_tokens); its model is
// replaced by the deployment's model. The answer is {"input_tokens": N}, passed through.
func (p *Provider) CountTokens(ctx context.Context, body []byte, model string) ([]byte, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, &provider.Error{Status: http.StatusBadRequest, Type: "invalid_request_error", Message: "invalid JSON in request body: " + err.Error()}
	}
	mb, _ := json.Marshal(model)
	m["model"] = mb
	out, _ := json.Marshal(m)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url+"/count_tokens", bytes.NewReader(out))
	if err != nil {
		return nil, &provider.Error{Status: http.StatusInternalServerError, Type: "api_error", Message: err.Error(), Err: err}
	}
	req.Header = p.header(&provider.Request{}, nil)
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, provider.AsError(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, provider.AsError(err)
	}
	if resp.StatusCode >= 400 {
		return nil, &provider.Error{Status: resp.StatusCode, Type: "api_error", Message: string(b)}
	}
	return b, nil
}
