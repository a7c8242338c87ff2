package proxy

import (
	"bytes"
	"context"
	"encoding/json"
	"time"

	"github.com/clawgate/clawgate/proxy/route"
)

// Usage is what the gateway learned about one request, handed to the UsageSink once, after the
// response has ended (successfully or not).
type Usage struct {
	// CallID is the gateway's own id for the call (x-litellm-call-id): unique, the spend row's key.
	CallID string
	// ResponseID is the upstream's response id (chatcmpl-...), "" when unknown. Upstreams may
	// repeat theirs: it identifies nothing.
	ResponseID string
	CallType   string // "acompletion"
	Principal  *Principal
	Model      string // upstream model id
	ModelGroup string // what the client asked for
	ModelID    string // deployment id
	Provider   string
	APIBase    string
	User       string // the request's "user" field
	Stream     bool

	PromptTokens        int
	CompletionTokens    int
	CachedTokens        int // cache reads, inside PromptTokens
	CacheCreationTokens int // cache writes, inside PromptTokens
	ReasoningTokens     int // inside CompletionTokens
	// UsageKnown is false when the upstream reported no usage at all.
	UsageKnown bool
	// Cost is the request's price in USD; Priced is false when the model has no price (cost 0).
	Cost   float64
	Priced bool

	Start      time.Time
	FirstToken time.Time // zero for non-streamed calls
	End        time.Time

	Status int    // HTTP status the client saw (or would have, for streams: 200 even if broken mid-way)
	Error  string // set for failures, including mid-stream breaks
	// Refusal is the error type of a request refused before it went upstream (budget_exceeded,
	// rate_limit_error, a model the key may not use); "" for requests that were routed.
	Refusal string
	// Mock is set for a mock_response answer: no upstream was called, and it costs $0.
	Mock      bool
	Retries   int
	Fallbacks int

	// RequestBody is the client's body and ResponseBody the answer (the completion JSON, or for
	// streams a JSON array of the chunks relayed, kept only while Server.KeepStreamBodies is on).
	// They alias gateway buffers: copy what you keep. For general_settings.store_prompts_in_spend_logs.
	RequestBody, ResponseBody []byte

	dep *route.Deployment // the deployment that answered, for pricing
	n   int               // choices asked for (the body's n), for the output estimate
	adm Admission         // settled once, when the usage is recorded
}

// RequestTags returns the request's metadata.tags (LiteLLM's request_tags), nil when it sent none.
// Bodies without "tags" anywhere, nearly all, are not decoded.
func (u *Usage) RequestTags() []string {
	if !bytes.Contains(u.RequestBody, []byte(`"tags"`)) {
		return nil
	}
	var b struct {
		Metadata struct {
			Tags []string `json:"tags"`
		} `json:"metadata"`
	}
	if json.Unmarshal(u.RequestBody, &b) != nil {
		return nil // tags that are not a list of strings are not tags
	}
	return b.Metadata.Tags
}

// UsageSink receives one Usage per request. Record must not block: the gateway calls it on the
// request path.
type UsageSink interface {
	Record(u Usage)
}

// Principal is who made a request.
type Principal struct {
	// Master is true for the master key (or for every caller when auth is off).
	Master bool
	// KeyHash is the SHA-256 hex of the key used ("" when auth is off).
	KeyHash  string
	KeyAlias string
	// Models limits what the key may call (empty = all), checked against the group an alias resolves to.
	Models []string
	// Aliases maps a model name the key sends to the model group it means (LiteLLM's key aliases).
	Aliases map[string]string
	// Spend is the key's spend when the request came (its budget window's), MaxBudget its limit
	// (nil: none): the x-litellm-key-spend and x-litellm-key-max-budget headers.
	Spend     float64
	MaxBudget *float64
}

// resolve turns a key's model alias into the model group it stands for; other names pass.
func (p *Principal) resolve(model string) string {
	if g, ok := p.Aliases[model]; ok && g != "" {
		return g
	}
	return model
}

// KeySource authenticates keys other than the master key (the ledger's virtual keys). It returns
// ErrInvalidKey for keys it does not know.
type KeySource interface {
	Authenticate(ctx context.Context, key string) (*Principal, error)
}

// Database is what a KeySource that keeps its keys in a database also implements: /health/readiness
// reports the database as connected while PingDB succeeds.
type Database interface {
	PingDB(ctx context.Context) error
}
