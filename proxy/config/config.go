// Package config reads the LiteLLM proxy's config.yaml: the model list, router settings and
// general settings that Clawgate honours, so that users can bring the file they already have.
package config

import "time"

// Config is a parsed and resolved config.yaml. Secrets referenced as os.environ/VAR are already
// resolved in the values below; Params.APIKeyEnv names the variable an api_key came from.
type Config struct {
	// Path is the file the config was read from ("" when built in code).
	Path      string
	ModelList []Deployment
	Router    RouterSettings
	General   GeneralSettings
	LiteLLM   LiteLLMSettings
}

// Deployment is one model_list entry.
type Deployment struct {
	// ModelName is the public name (the "model group") clients send; may hold '*' wildcards.
	ModelName string
	Params    Params
	Info      ModelInfo
	// Line is the line of the entry in the file, for error messages (0 when unknown).
	Line int
}

// Params is litellm_params.
type Params struct {
	// Model is "provider/model-id", e.g. "openai/gpt-4o" or "openai/*".
	Model   string
	APIBase string
	// APIKey is the resolved key ("" when none). Never log it.
	APIKey string
	// APIKeyEnv is VAR when api_key was written os.environ/VAR, so that a call made while VAR is
	// unset (APIKey "") can say which variable to set.
	APIKeyEnv string
	// Timeout is the per-deployment timeout (0 = router default).
	Timeout      time.Duration
	ExtraHeaders map[string]string
	// Extra holds every other litellm_params key (aws_region_name, weight, rpm, ...), values resolved.
	Extra map[string]any
}

// ModelInfo is model_info. Unknown keys are kept in Extra and echoed by /model/info.
type ModelInfo struct {
	ID                 string
	InputCostPerToken  *float64
	OutputCostPerToken *float64
	MaxInputTokens     *int
	MaxOutputTokens    *int
	Extra              map[string]any
}

// RouterSettings is router_settings (litellm_settings values are merged in underneath).
type RouterSettings struct {
	// Fallbacks maps a model group to the groups tried after it, in order.
	Fallbacks []Fallback
	// NumRetries is the number of retries inside a group before falling back (defaults: see Default).
	NumRetries   int
	Timeout      time.Duration
	AllowedFails int
	CooldownTime time.Duration
	// RetryAfter is the minimum wait before a retry.
	RetryAfter time.Duration
}

// Fallback is one entry of router_settings.fallbacks: {"gpt-4o": ["claude-sonnet"]}.
type Fallback struct {
	Group string
	To    []string
}

// GeneralSettings is general_settings.
type GeneralSettings struct {
	MasterKey string
	// MaxRequestSizeMB limits request bodies (0 = default).
	MaxRequestSizeMB float64
	// ResponsesStoreTTL is how long a stored Responses API response is kept for
	// previous_response_id and GET (0 = the default, 24 h).
	ResponsesStoreTTL time.Duration
	// CORSAllowOrigins are the web origins (scheme://host[:port], or "*") that may call the
	// gateway from a browser; honoured only with a master key (proxy/cors.go).
	CORSAllowOrigins []string
	// Extra keeps every other key.
	Extra map[string]any
}

// LiteLLMSettings is litellm_settings; only what Clawgate uses is typed.
type LiteLLMSettings struct {
	Extra map[string]any
}
