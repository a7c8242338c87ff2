package app

import (
	"sort"
	"strings"

	"github.com/clawgate/clawgate/proxy/pricing"
)

// Preset is a provider as the Routes form offers it: what litellm_params.model starts with and
// which other fields the provider needs.
type Preset struct {
	ID, Label string
	// Prefix is litellm_params.model's provider prefix ("openai", "together_ai", ...).
	Prefix string
	// Priced are the price table's litellm_provider names whose models the form suggests.
	Priced []string
	// APIBase is filled in for the user; NeedsBase makes it required.
	APIBase   string
	NeedsBase bool
	// KeyEnv is the environment variable the provider's key is read from when none is written;
	// NoKey marks a provider that takes none (a local server, or credentials from the platform).
	KeyEnv string
	NoKey  bool
	// Region (Bedrock), Project and Location (Vertex AI) and APIVersion (Azure) are needed too.
	Region, Project, APIVersion bool
	// ModelIsDeployment: litellm_params.model names the deployment (Azure), not the model.
	ModelIsDeployment bool
}

// PresetCustom is any OpenAI-compatible server at a URL the user gives.
const PresetCustom = "custom"

// Presets are the providers the Routes form offers, in the order it lists them. The API bases are
// the ones the gateway calls by default (proxy/provider/openai's table), shown so the user sees
// where requests go.
var Presets = []Preset{
	{ID: "openai", Label: "OpenAI", Prefix: "openai", Priced: []string{"openai"}, APIBase: "https://api.openai.com/v1", KeyEnv: "OPENAI_API_KEY"},
	{ID: "anthropic", Label: "Anthropic", Prefix: "anthropic", Priced: []string{"anthropic"}, APIBase: "https://api.anthropic.com", KeyEnv: "ANTHROPIC_API_KEY"},
	{ID: "gemini", Label: "Gemini", Prefix: "gemini", Priced: []string{"gemini"}, APIBase: "https://generativelanguage.googleapis.com", KeyEnv: "GEMINI_API_KEY"},
	{ID: "bedrock", Label: "Amazon Bedrock", Prefix: "bedrock", Priced: []string{"bedrock_converse", "bedrock"}, Region: true,
		KeyEnv: "AWS_BEARER_TOKEN_BEDROCK"},
	{ID: "azure", Label: "Azure OpenAI", Prefix: "azure", Priced: []string{"azure"}, NeedsBase: true, APIVersion: true,
		KeyEnv: "AZURE_API_KEY", ModelIsDeployment: true},
	{ID: "vertex_ai", Label: "Vertex AI", Prefix: "vertex_ai", Priced: []string{"vertex_ai", "vertex_ai-anthropic_models", "gemini"},
		Project: true, NoKey: true},
	{ID: "openrouter", Label: "OpenRouter", Prefix: "openrouter", Priced: []string{"openrouter"}, APIBase: "https://openrouter.ai/api/v1", KeyEnv: "OPENROUTER_API_KEY"},
	{ID: "groq", Label: "Groq", Prefix: "groq", Priced: []string{"groq"}, APIBase: "https://api.groq.com/openai/v1", KeyEnv: "GROQ_API_KEY"},
	{ID: "deepseek", Label: "DeepSeek", Prefix: "deepseek", Priced: []string{"deepseek"}, APIBase: "https://api.deepseek.com", KeyEnv: "DEEPSEEK_API_KEY"},
	{ID: "xai", Label: "xAI", Prefix: "xai", Priced: []string{"xai"}, APIBase: "https://api.x.ai/v1", KeyEnv: "XAI_API_KEY"},
	{ID: "mistral", Label: "Mistral", Prefix: "mistral", Priced: []string{"mistral"}, APIBase: "https://api.mistral.ai/v1", KeyEnv: "MISTRAL_API_KEY"},
	{ID: "together_ai", Label: "Together", Prefix: "together_ai", Priced: []string{"together_ai"}, APIBase: "https://api.together.xyz/v1", KeyEnv: "TOGETHERAI_API_KEY"},
	{ID: "fireworks_ai", Label: "Fireworks", Prefix: "fireworks_ai", Priced: []string{"fireworks_ai"}, APIBase: "https://api.fireworks.ai/inference/v1", KeyEnv: "FIREWORKS_AI_API_KEY"},
	{ID: "ollama", Label: "Ollama", Prefix: "ollama_chat", APIBase: "http://localhost:11434", NoKey: true},
	{ID: "lm_studio", Label: "LM Studio", Prefix: "lm_studio", APIBase: "http://localhost:1234/v1", KeyEnv: "LM_STUDIO_API_KEY"},
	{ID: "hosted_vllm", Label: "vLLM", Prefix: "hosted_vllm", APIBase: "http://localhost:8000/v1", NeedsBase: true, KeyEnv: "HOSTED_VLLM_API_KEY"},
	{ID: PresetCustom, Label: "OpenAI-compatible URL", Prefix: "openai", NeedsBase: true},
}

// PresetByID returns the preset with id; ok is false for an unknown one.
func PresetByID(id string) (Preset, bool) {
	for _, p := range Presets {
		if p.ID == id {
			return p, true
		}
	}
	return Preset{}, false
}

// presetFor names the preset a model_list entry was written with: by its prefix, and for openai/
// by whether it calls OpenAI or a URL of the user's.
func presetFor(prefix, apiBase string) string {
	if prefix == "ollama" {
		prefix = "ollama_chat"
	}
	for _, p := range Presets {
		if p.Prefix != prefix {
			continue
		}
		if p.ID == "openai" && apiBase != "" && strings.TrimRight(apiBase, "/") != p.APIBase {
			return PresetCustom
		}
		return p.ID
	}
	return PresetCustom
}

// PresetModels lists the chat models the price table knows for a preset, as litellm_params.model
// names them after the prefix, sorted. Local servers have none: the user types the model.
func PresetModels(id string) []string {
	p, ok := PresetByID(id)
	if !ok || len(p.Priced) == 0 {
		return nil
	}
	want := map[string]bool{}
	for _, name := range p.Priced {
		want[name] = true
	}
	seen := map[string]bool{}
	var out []string
	for _, key := range pricing.Models() {
		pr, ok := pricing.Lookup("", key)
		if !ok || !want[pr.LiteLLMProvider] || (pr.Mode != "" && pr.Mode != "chat") {
			continue
		}
		m := key
		for name := range want {
			m = strings.TrimPrefix(m, name+"/")
		}
		m = strings.TrimPrefix(m, p.Prefix+"/")
		if !seen[m] {
			seen[m] = true
			out = append(out, m)
		}
	}
	sort.Strings(out)
	return out
}
