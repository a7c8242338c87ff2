package openai

import (
	"net/url"
	"strings"
	"time"
)

// AzureDefaultAPIVersion is the api-version sent when a deployment names none: the first GA
// version that streams usage (stream_options.include_usage), which the gateway asks for.
const AzureDefaultAPIVersion = "2024-10-21"

// AzureOptions configure one Azure OpenAI deployment.
type AzureOptions struct {
	// APIBase is the resource's endpoint, https://NAME.openai.azure.com (a trailing /openai or
	// /openai/v1 is understood).
	APIBase string
	// APIVersion is the api-version query parameter; "v1", "latest" and "preview" select Azure's
	// v1 API (no deployment in the path; the body's model names it).
	APIVersion string
	// Deployment is the deployment's name, litellm_params.model after "azure/".
	Deployment string
	// APIKey is sent as "api-key"; without one, ADToken is sent as "Authorization: Bearer".
	APIKey, ADToken string
	Headers         map[string]string
	Timeout         time.Duration
}

// NewAzure returns a provider for an Azure OpenAI deployment: Azure speaks OpenAI's chat
// completions format at its own URLs and with its own key header.
func NewAzure(o AzureOptions) *Provider {
	p := New(Options{Headers: o.Headers, Timeout: o.Timeout})
	p.url = azureURL(o.APIBase, o.APIVersion, o.Deployment)
	switch {
	case o.APIKey != "":
		p.authKey, p.auth = "Api-Key", []string{o.APIKey}
	case o.ADToken != "":
		p.auth = []string{"Bearer " + o.ADToken}
	}
	return p
}

func azureURL(base, version, deployment string) string {
	base = strings.TrimRight(strings.TrimSpace(base), "/")
	if base == "" {
		return ""
	}
	if version == "" {
		version = AzureDefaultAPIVersion
	}
	if v1 := strings.HasSuffix(base, "/openai/v1"); v1 || version == "v1" || version == "latest" || version == "preview" {
		if !v1 {
			base = strings.TrimSuffix(base, "/openai") + "/openai/v1"
		}
		u := base + "/chat/completions"
		if version == "preview" {
			u += "?api-version=preview"
		}
		return u
	}
	base = strings.TrimSuffix(base, "/openai")
	return base + "/openai/deployments/" + url.PathEscape(deployment) + "/chat/completions?api-version=" + url.QueryEscape(version)
}
