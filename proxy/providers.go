package proxy

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"

	"github.com/clawgate/clawgate/proxy/config"
	"github.com/clawgate/clawgate/proxy/pricing"
	"github.com/clawgate/clawgate/proxy/provider"
	"github.com/clawgate/clawgate/proxy/provider/anthropic"
	"github.com/clawgate/clawgate/proxy/provider/bedrock"
	"github.com/clawgate/clawgate/proxy/provider/gemini"
	"github.com/clawgate/clawgate/proxy/provider/openai"
	"github.com/clawgate/clawgate/proxy/provider/promptcache"
)

// NewProvider is the built-in route.Factory: it picks the provider package by the prefix of
// litellm_params.model. Claude deployments (Anthropic, Bedrock, Vertex AI) get prompt-cache
// breakpoints unless litellm_params turns them off (see promptcache).
func NewProvider(d config.Deployment, prefix, model string) (provider.Provider, error) {
	p, err := newProvider(d, prefix, model)
	if err != nil || !claude(prefix, model) {
		return p, err
	}
	plan, err := promptcache.FromParams(d.Params.Extra)
	if err != nil {
		return nil, fmt.Errorf("model_list entry %q: %w", d.ModelName, err)
	}
	if len(plan.Points) == 0 && !cacheable(d, prefix, model) {
		plan.Off = true // the default only; injection points the user wrote are sent as written
	}
	return promptcache.Wrap(p, plan), nil
}

// cacheable reports whether a Claude model takes breakpoints: model_info.supports_prompt_caching
// when set, else the price table's flag. Older Claude models on Bedrock (Claude 3 Haiku, Sonnet
// and Opus, Claude 2) have no prompt cache, and Bedrock refuses a cachePoint sent to them. A
// model the table does not know is taken to be a current one, which has.
func cacheable(d config.Deployment, prefix, model string) bool {
	if v, ok := d.Info.Extra["supports_prompt_caching"].(bool); ok {
		return v
	}
	p, known := pricing.Lookup(prefix, model)
	return !known || (p.SupportsPromptCaching != nil && *p.SupportsPromptCaching)
}

// claude reports whether a deployment's requests reach a Claude model through a provider whose
// translator turns cache_control into breakpoints.
func claude(prefix, model string) bool {
	switch prefix {
	case "anthropic":
		return true
	case "bedrock", "vertex_ai":
		return strings.Contains(model, "claude")
	}
	return false
}

func newProvider(d config.Deployment, prefix, model string) (provider.Provider, error) {
	// str reads a provider-specific string from litellm_params (vertex_project, aws_region_name, ...).
	str := func(k string) string { v, _ := d.Params.Extra[k].(string); return v }
	maxOut := 0 // model_info.max_output_tokens: the default max_tokens for APIs that require one
	if m := d.Info.MaxOutputTokens; m != nil {
		maxOut = *m
	}
	if base, envKey, ok := openai.Compat(prefix); ok {
		if d.Params.APIBase != "" {
			base = d.Params.APIBase
			if (prefix == "ollama" || prefix == "ollama_chat") && !strings.HasSuffix(strings.TrimRight(base, "/"), "/v1") {
				// LiteLLM configs point ollama/ at the server root (it uses Ollama's native API);
				// Ollama's OpenAI-compatible API lives under /v1.
				base = strings.TrimRight(base, "/") + "/v1"
			}
		}
		if base == "" {
			return nil, fmt.Errorf("%s/ needs litellm_params.api_base (the server's URL, e.g. http://localhost:8000/v1)", prefix)
		}
		key := d.Params.APIKey
		if key == "" && envKey != "" {
			key = os.Getenv(envKey)
		}
		return openai.New(openai.Options{APIBase: base, APIKey: key, Headers: d.Params.ExtraHeaders, Timeout: d.Params.Timeout}), nil
	}
	if prefix == "" {
		// A bare catch-all ("*") or a bare model with an api_base: the only provider this build can
		// infer and call is OpenAI's API, at api_base when given.
		base, key := d.Params.APIBase, d.Params.APIKey
		if base == "" {
			base = "https://api.openai.com/v1"
		}
		if key == "" && d.Params.APIBase == "" {
			key = os.Getenv("OPENAI_API_KEY")
		}
		return openai.New(openai.Options{APIBase: base, APIKey: key, Headers: d.Params.ExtraHeaders, Timeout: d.Params.Timeout}), nil
	}
	switch prefix {
	case "anthropic":
		key := d.Params.APIKey
		if key == "" {
			key = os.Getenv("ANTHROPIC_API_KEY")
		}
		return anthropic.New(anthropic.Options{APIBase: d.Params.APIBase, APIKey: key, Headers: d.Params.ExtraHeaders, MaxTokens: maxOut}), nil
	case "gemini":
		key := d.Params.APIKey
		if key == "" {
			key = os.Getenv("GEMINI_API_KEY")
		}
		return gemini.New(gemini.Options{APIBase: d.Params.APIBase, APIKey: key, Headers: d.Params.ExtraHeaders}), nil
	case "bedrock":
		p, err := bedrock.New(context.Background(), bedrockOptions(d, maxOut))
		if err != nil {
			// One entry without AWS credentials must not keep the whole gateway down: its calls
			// fail with the reason (and go to their fallbacks).
			return failing{fmt.Sprintf("bedrock deployment %q cannot be used: %v", d.ModelName, err)}, nil
		}
		return p, nil
	case "azure":
		o := openai.AzureOptions{
			APIBase: firstSet(d.Params.APIBase, os.Getenv("AZURE_API_BASE")), APIVersion: firstSet(str("api_version"), os.Getenv("AZURE_API_VERSION")),
			Deployment: model, APIKey: firstSet(d.Params.APIKey, os.Getenv("AZURE_API_KEY")), ADToken: str("azure_ad_token"),
			Headers: d.Params.ExtraHeaders, Timeout: d.Params.Timeout,
		}
		if o.APIBase == "" {
			return failing{fmt.Sprintf("azure deployment %q cannot be used: set litellm_params.api_base (https://NAME.openai.azure.com) or AZURE_API_BASE", d.ModelName)}, nil
		}
		return openai.NewAzure(o), nil
	case "vertex_ai":
		var p provider.Provider
		var err error
		switch {
		case strings.HasPrefix(model, "gemini"), strings.Contains(model, "embedding"):
			// Google's text embedding models (text-embedding-005, ...) are served by Gemini's
			// provider too: it sends their embeddings to Vertex's predict.
			p, err = gemini.NewVertex(gemini.VertexOptions{Project: str("vertex_project"), Location: str("vertex_location"),
				Credentials: str("vertex_credentials"), APIBase: d.Params.APIBase, Headers: d.Params.ExtraHeaders})
		case strings.HasPrefix(model, "claude"):
			p, err = anthropic.NewVertex(anthropic.VertexOptions{Project: str("vertex_project"), Location: str("vertex_location"),
				Credentials: str("vertex_credentials"), APIBase: d.Params.APIBase, Headers: d.Params.ExtraHeaders, MaxTokens: maxOut})
		case strings.Contains(model, "/"):
			// A partner model by publisher ("meta/llama-..."): Vertex's OpenAI-compatible endpoint.
			p, err = openai.NewVertex(openai.VertexOptions{Project: str("vertex_project"), Location: str("vertex_location"),
				Credentials: str("vertex_credentials"), APIBase: d.Params.APIBase, Headers: d.Params.ExtraHeaders, Timeout: d.Params.Timeout})
		default:
			return unsupported{"vertex_ai/" + model, "on Vertex AI it serves gemini-*, claude-* and publisher/model ids such as meta/llama-..."}, nil
		}
		if err != nil {
			return failing{fmt.Sprintf("vertex_ai deployment %q cannot be used: %v", d.ModelName, err)}, nil
		}
		return p, nil
	}
	return nil, fmt.Errorf("unknown provider %q in %q: use openai/ (or an OpenAI-compatible prefix with api_base)", prefix, d.Params.Model)
}

func firstSet(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}

// failing stands in for a deployment that could not be set up.
type failing struct{ msg string }

func (f failing) Chat(context.Context, *provider.Request) (*provider.Response, error) {
	return nil, &provider.Error{Status: http.StatusInternalServerError, Type: "configuration_error", Message: f.msg}
}

// unsupported stands in for a model this build does not speak yet, so that a LiteLLM config
// naming it still loads, and calls to it fail clearly (and fall back, if fallbacks are set).
type unsupported struct{ what, note string }

func (u unsupported) Chat(context.Context, *provider.Request) (*provider.Response, error) {
	msg := u.what + " is not supported by this Clawgate build yet"
	if u.note != "" {
		msg += " (" + u.note + ")"
	}
	return nil, &provider.Error{Status: http.StatusNotImplemented, Type: "not_implemented",
		Message: msg + "; route this model through an OpenAI-compatible endpoint (openai/ with api_base) meanwhile"}
}

// defaultBase is the API base a deployment with no api_base calls.
func defaultBase(prefix string) string {
	if prefix == "" {
		prefix = "openai"
	}
	switch prefix {
	case "anthropic":
		return anthropic.DefaultAPIBase
	case "gemini":
		return gemini.DefaultAPIBase
	}
	base, _, _ := openai.Compat(prefix)
	return base
}
