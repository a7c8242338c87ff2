package openai

import "testing"

func TestResponsesURL(t *testing.T) {
	const res = "https://res.openai.azure.com"
	for _, tt := range []struct{ chat, want string }{
		{"https://api.openai.com/v1/chat/completions", "https://api.openai.com/v1/responses"},
		{"http://h/v1/chat/completions?api-key=k", "http://h/v1/responses?api-key=k"},
		{res + "/openai/deployments/gpt4o/chat/completions?api-version=2024-10-21", res + "/openai/v1/responses"},
		{res + "/openai/v1/chat/completions?api-version=preview", res + "/openai/v1/responses?api-version=preview"},
		{"", ""},
	} {
		if got := responsesURL(tt.chat); got != tt.want {
			t.Errorf("responsesURL(%q) = %q, want %q", tt.chat, got, tt.want)
		}
	}
}
