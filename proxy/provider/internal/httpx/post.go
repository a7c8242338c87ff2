package httpx

import (
	"context"
	"net/http"

	"github.com/clawgate/clawgate/proxy/provider"
)

// Exchange is how a provider sends a non-streaming request and reads its whole answer: the
// provider's error decoding and failure wording go in, the parts every provider shares (send,
// status check, capped read, close) stay here.
type Exchange struct {
	Client Doer
	// Prefix starts the messages of errors made here ("gemini: ").
	Prefix string
	// Limit caps the answer's size.
	Limit int64
	// Status turns a non-2xx answer into the provider's error and closes its body.
	Status func(*http.Response) *provider.Error
	// Fail turns a transport error into what the provider returns (see Failure).
	Fail func(ctx context.Context, op string, err error) error
}

// Do sends req (built on ctx) and returns the 2xx answer's body and headers.
func (x Exchange) Do(ctx context.Context, req *http.Request) ([]byte, http.Header, error) {
	resp, err := x.Client.Do(req)
	if err != nil {
		return nil, nil, x.Fail(ctx, "sending request", err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, nil, x.Status(resp)
	}
	defer resp.Body.Close()
	body, err := ReadBody(resp, x.Prefix, x.Limit)
	if err != nil {
		return nil, nil, x.Fail(ctx, "reading response", err)
	}
	return body, resp.Header, nil
}
