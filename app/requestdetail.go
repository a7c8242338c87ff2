package app

import (
	"context"
	"encoding/json"
	"strings"
	"time"
)

// RequestDetail is one logged request in full, for the Requests tab's detail pane.
type RequestDetail struct {
	Request
	ResponseID, CallType, ModelID, APIBase, User, EndUser string
	TotalTokens, CacheReadTokens, CacheWriteTokens        int64
	ReasoningTokens                                       int64
	FirstToken                                            *time.Time
	Fallbacks, Retries                                    int
	Metadata                                              map[string]any
	// Body and Reply are the request and response JSON as stored, nil unless prompt storage
	// (store_prompts_in_spend_logs) was on when the request ran.
	Body, Reply []byte
}

// RequestDetail reads one request with its stored bodies. It queries SQLite: off the UI goroutine.
func (a *App) RequestDetail(ctx context.Context, id string) (RequestDetail, error) {
	st, err := a.flushedStore(ctx)
	if err != nil {
		return RequestDetail{}, err
	}
	l, err := st.GetSpendLog(ctx, id)
	if err != nil {
		return RequestDetail{}, err
	}
	return RequestDetail{Request: requestOf(l), ResponseID: l.ResponseID, CallType: l.CallType, ModelID: l.ModelID,
		APIBase: l.APIBase, User: l.User, EndUser: l.EndUser, TotalTokens: l.TotalTokens,
		CacheReadTokens: l.CacheReadTokens, CacheWriteTokens: l.CacheWriteTokens, ReasoningTokens: l.ReasoningTokens,
		FirstToken: l.CompletionStartTime, Fallbacks: l.Fallbacks, Retries: l.Retries, Metadata: l.Metadata,
		Body: l.Messages, Reply: l.Response}, nil
}

// KeyPlaceholder stands for the key in "Copy as curl": the command never carries a key, the
// user's shell fills it in.
const KeyPlaceholder = "$LITELLM_API_KEY"

// callPaths are the gateway's paths per LiteLLM call type.
var callPaths = map[string]string{
	"acompletion":        "/v1/chat/completions",
	"atext_completion":   "/v1/completions",
	"aembedding":         "/v1/embeddings",
	"anthropic_messages": "/v1/messages",
	"aresponses":         "/v1/responses",
}

// Curl is a shell command that sends d again to the gateway at base: the stored body when prompt
// storage kept it, else a minimal chat body for the same model. The key is the placeholder.
func (d RequestDetail) Curl(base string) string {
	path, ok := callPaths[d.CallType]
	if !ok {
		path = callPaths["acompletion"]
	}
	body := string(d.Body)
	var members map[string]json.RawMessage
	if json.Unmarshal(d.Body, &members) == nil && members["api_key"] != nil {
		// LiteLLM takes an upstream key in the body too: never copied out.
		delete(members, "api_key")
		b, _ := json.Marshal(members)
		body = string(b)
	}
	if len(d.Body) == 0 || !json.Valid(d.Body) {
		b, _ := json.Marshal(map[string]any{"model": d.Model,
			"messages": []map[string]string{{"role": "user", "content": "(prompt not stored)"}}})
		body = string(b)
	}
	auth := `-H "Authorization: Bearer ` + KeyPlaceholder + `"`
	if d.CallType == "anthropic_messages" {
		auth = `-H "x-api-key: ` + KeyPlaceholder + `" -H "anthropic-version: 2023-06-01"`
	}
	return "curl " + shellQuote(strings.TrimRight(base, "/")+path) + " \\\n  " + auth +
		" \\\n  -H 'Content-Type: application/json' \\\n  -d " + shellQuote(body)
}

// shellQuote quotes s for a POSIX shell: inside single quotes nothing is special but the quote.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
