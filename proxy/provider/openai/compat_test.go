package openai

import "testing"

func TestCompat(t *testing.T) {
	tests := []struct {
		prefix, base, env string
		ok                bool
	}{
		{"openai", "https://api.openai.com/v1", "OPENAI_API_KEY", true},
		{"groq", "https://api.groq.com/openai/v1", "GROQ_API_KEY", true},
		{"openrouter", "https://openrouter.ai/api/v1", "OPENROUTER_API_KEY", true},
		{"deepseek", "https://api.deepseek.com", "DEEPSEEK_API_KEY", true},
		{"xai", "https://api.x.ai/v1", "XAI_API_KEY", true},
		{"mistral", "https://api.mistral.ai/v1", "MISTRAL_API_KEY", true},
		{"together_ai", "https://api.together.xyz/v1", "TOGETHERAI_API_KEY", true},
		{"fireworks_ai", "https://api.fireworks.ai/inference/v1", "FIREWORKS_AI_API_KEY", true},
		{"perplexity", "https://api.perplexity.ai", "PERPLEXITYAI_API_KEY", true},
		{"ollama", "http://localhost:11434/v1", "", true},
		{"ollama_chat", "http://localhost:11434/v1", "", true},
		{"lm_studio", "http://localhost:1234/v1", "LM_STUDIO_API_KEY", true},
		{"hosted_vllm", "", "HOSTED_VLLM_API_KEY", true},
		{"anthropic", "", "", false},
		{"bedrock", "", "", false},
		{"OpenAI", "", "", false},
		{"", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.prefix, func(t *testing.T) {
			base, env, ok := Compat(tt.prefix)
			if base != tt.base || env != tt.env || ok != tt.ok {
				t.Errorf("Compat(%q) = %q, %q, %v; want %q, %q, %v", tt.prefix, base, env, ok, tt.base, tt.env, tt.ok)
			}
		})
	}
}
