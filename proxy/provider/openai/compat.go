package openai

// compatEntry is where an OpenAI-compatible provider lives by default and which variable holds its
// key, following LiteLLM's names for the variables so that existing environments keep working.
type compatEntry struct {
	base, env string
}

// compat lists the litellm_params.model prefixes served by this package. Bases are from each
// provider's API documentation.
var compat = map[string]compatEntry{
	"openai":       {"https://api.openai.com/v1", "OPENAI_API_KEY"},
	"groq":         {"https://api.groq.com/openai/v1", "GROQ_API_KEY"},
	"openrouter":   {"https://openrouter.ai/api/v1", "OPENROUTER_API_KEY"},
	"deepseek":     {"https://api.deepseek.com", "DEEPSEEK_API_KEY"},
	"xai":          {"https://api.x.ai/v1", "XAI_API_KEY"},
	"mistral":      {"https://api.mistral.ai/v1", "MISTRAL_API_KEY"},
	"together_ai":  {"https://api.together.xyz/v1", "TOGETHERAI_API_KEY"},
	"fireworks_ai": {"https://api.fireworks.ai/inference/v1", "FIREWORKS_AI_API_KEY"},
	"perplexity":   {"https://api.perplexity.ai", "PERPLEXITYAI_API_KEY"},
	// Local servers: Ollama's OpenAI endpoint needs no key; LM Studio accepts an optional one.
	"ollama":      {"http://localhost:11434/v1", ""},
	"ollama_chat": {"http://localhost:11434/v1", ""},
	"lm_studio":   {"http://localhost:1234/v1", "LM_STUDIO_API_KEY"},
	// vLLM runs wherever the user put it: api_base is required.
	"hosted_vllm": {"", "HOSTED_VLLM_API_KEY"},
}

// Compat returns the default API base and the API key's environment variable for an
// OpenAI-compatible provider prefix ("groq", "ollama", ...). ok is false for prefixes this package
// does not serve. An empty apiBase with ok true means the deployment must set api_base; an empty
// envKey means the provider takes no key.
func Compat(prefix string) (apiBase, envKey string, ok bool) {
	e, ok := compat[prefix]
	return e.base, e.env, ok
}
