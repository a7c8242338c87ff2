package proxy

import (
	"context"
	"fmt"
	"net/http"

	"github.com/clawgate/clawgate/proxy/provider"
	"github.com/clawgate/clawgate/proxy/route"
)

// completer is a provider that serves OpenAI's legacy text completions (/v1/completions): the
// OpenAI-compatible ones, which pass the body through with the model spliced in.
type completer interface {
	Complete(ctx context.Context, req *provider.Request) (*provider.Response, error)
}

// completionsAPI serves POST /v1/completions on chat's path (serveText): the same key, gate,
// routing, relay and metering; the body has a prompt instead of messages. Routes whose upstream
// has no such API answer a 400 that says so.
var completionsAPI = textAPI{callType: "atext_completion", parse: parseCompletion,
	send: func(ctx context.Context, d *route.Deployment, prov provider.Provider, req *provider.Request) (*provider.Response, error) {
		cp, ok := prov.(completer)
		if !ok {
			return nil, &provider.Error{Status: http.StatusBadRequest, Type: typeInvalidRequest, Param: "model",
				Message: fmt.Sprintf("route %q (%s) does not serve legacy text completions (/v1/completions): only OpenAI-compatible routes do; use /v1/chat/completions", d.Group, upstreamName(d))}
		}
		return cp.Complete(ctx, req)
	}}

func (s *Server) handleCompletions(w http.ResponseWriter, r *http.Request) {
	s.serveText(w, r, completionsAPI)
}
