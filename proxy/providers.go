package proxy

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"

	"github.com/clawgate/clawgate/proxy/config"
	"github.com/clawgate/clawgate/proxy/provider"
	"github.com/clawgate/clawgate/proxy/provider/anthropic"
	"github.com/clawgate/clawgate/proxy/provider/gemini"
	"github.com/clawgate/clawgate/proxy/provider/openai"
)

// NewProvider is the built-in route.Factory: it picks the provider package by the prefix of
// litellm_params.model.
func NewProvider(d config.Deployment, prefix, model string) (provider.Provider, error) {
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
		maxOut := 0
		if m := d.Info.MaxOutputTokens; m != nil {
			maxOut = *m
		}
		return anthropic.New(anthropic.Options{APIBase: d.Params.APIBase, APIKey: key, Headers: d.Params.ExtraHeaders, MaxTokens: maxOut}), nil
	case "gemini":
		key := d.Params.APIKey
		if key == "" {
			key = os.Getenv("GEMINI_API_KEY")
		}
		return gemini.New(gemini.Options{APIBase: d.Params.APIBase, APIKey: key, Headers: d.Params.ExtraHeaders}), nil
	case "bedrock", "vertex_ai", "azure":
		return unsupported{prefix}, nil
	}
	return nil, fmt.Errorf("unknown provider %q in %q: use openai/ (or an OpenAI-compatible prefix with api_base)", prefix, d.Params.Model)
}

// unsupported stands in for a provider this build does not speak yet, so that a LiteLLM config
// naming it still loads, and calls to it fail clearly (and fall back, if fallbacks are set).
type unsupported struct{ prefix string }

func (u unsupported) Chat(context.Context, *provider.Request) (*provider.Response, error) {
	return nil, &provider.Error{Status: http.StatusNotImplemented, Type: "not_implemented",
		Message: fmt.Sprintf("the %s provider is not supported by this Clawgate build yet; route this model through an OpenAI-compatible endpoint (openai/ with api_base) meanwhile", u.prefix)}
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
