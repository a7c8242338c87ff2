package promptcache

import (
	"context"

	"github.com/clawgate/clawgate/proxy/provider"
)

// Wrap returns p with plan applied to each request body before p translates it. A plan that is
// off returns p itself. A p that counts tokens upstream still does through the result.
func Wrap(p provider.Provider, plan Plan) provider.Provider {
	if plan.Off {
		return p
	}
	c := cached{p, plan}
	if tc, ok := p.(tokenCounter); ok {
		return countingCached{c, tc}
	}
	return c
}

// tokenCounter is what the gateway's /v1/messages/count_tokens looks for on a provider.
type tokenCounter interface {
	CountTokens(ctx context.Context, body []byte, model string) ([]byte, error)
}

type cached struct {
	next provider.Provider
	plan Plan
}

func (c cached) Chat(ctx context.Context, req *provider.Request) (*provider.Response, error) {
	body, added := Apply(req.Body, c.plan)
	if added == 0 {
		return c.next.Chat(ctx, req)
	}
	r := *req // the router may send the caller's request to another deployment: leave it as it was
	r.Body = body
	return c.next.Chat(ctx, &r)
}

type countingCached struct {
	cached
	tokenCounter
}
