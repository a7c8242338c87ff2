package openai

import (
	"testing"

	"github.com/clawgate/clawgate/proxy/provider"
)

func TestAzureURL(t *testing.T) {
	const res = "https://res.openai.azure.com"
	tests := []struct{ base, version, deployment, want string }{
		{res, "", "gpt4o", res + "/openai/deployments/gpt4o/chat/completions?api-version=" + AzureDefaultAPIVersion},
		{res + "/", "2024-06-01", "gpt4o", res + "/openai/deployments/gpt4o/chat/completions?api-version=2024-06-01"},
		{res + "/openai/", "2024-06-01", "my dep", res + "/openai/deployments/my%20dep/chat/completions?api-version=2024-06-01"},
		{res + "/openai/v1", "", "gpt4o", res + "/openai/v1/chat/completions"},
		{res, "v1", "gpt4o", res + "/openai/v1/chat/completions"},
		{res + "/openai", "latest", "gpt4o", res + "/openai/v1/chat/completions"},
		{res, "preview", "gpt4o", res + "/openai/v1/chat/completions?api-version=preview"},
		{"", "v1", "gpt4o", ""},
	}
	for _, tt := range tests {
		if got := azureURL(tt.base, tt.version, tt.deployment); got != tt.want {
			t.Errorf("azureURL(%q, %q, %q) = %q, want %q", tt.base, tt.version, tt.deployment, got, tt.want)
		}
	}
}

func TestAzureAuthHeader(t *testing.T) {
	h := NewAzure(AzureOptions{APIBase: "https://r.openai.azure.com", APIKey: "k", Deployment: "d"}).header(&provider.Request{})
	if h.Get("Api-Key") != "k" || h.Get("Authorization") != "" {
		t.Errorf("key auth: %v", h)
	}
	h = NewAzure(AzureOptions{APIBase: "https://r.openai.azure.com", ADToken: "tok", Deployment: "d"}).header(&provider.Request{})
	if h.Get("Authorization") != "Bearer tok" || h.Get("Api-Key") != "" {
		t.Errorf("token auth: %v", h)
	}
}
