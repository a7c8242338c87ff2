// Package route maps a requested model name to deployments and runs an attempt against them with
// retries inside the group, fallbacks to other groups, and cooldowns for deployments that keep failing.
package route

import (
	"github.com/clawgate/clawgate/proxy/config"
	"github.com/clawgate/clawgate/proxy/provider"
)

// Deployment is one model_list entry made ready to call.
type Deployment struct {
	// ID is model_info.id, or a stable hash of the entry when the file gives none.
	ID string
	// Group is the model_name ("gpt-4o", "openai/*").
	Group string
	// ProviderName is the prefix of litellm_params.model ("openai", "anthropic", ...).
	ProviderName string
	// Model is the upstream model id without the provider prefix; may hold '*' for wildcards.
	Model string
	// APIBase is api_base as shown outside the process (ShownBase: no userinfo, no query); the
	// provider calls Config.Params.APIBase.
	APIBase string
	Config  config.Deployment
	// Provider sends the calls.
	Provider provider.Provider
}
