package openclaw

import (
	"net/url"
	"regexp"
	"strings"
)

// ProviderID is the provider block Clawgate owns: models.providers.litellm. OpenClaw's own
// onboarding (`--auth-choice litellm-api-key`) writes the same block, so both can repair it.
const ProviderID = "litellm"

// DefaultAPIKeyRef is the apiKey Connect writes: OpenClaw resolves it from its environment, then
// from ~/.openclaw/.env, so the key itself never lands in openclaw.json.
const DefaultAPIKeyRef = "${LITELLM_API_KEY}"

var (
	providerPath = []string{"models", "providers", ProviderID}
	modelsPath   = []string{"models", "providers", ProviderID, "models"}
	primaryPath  = []string{"agents", "defaults", "model"}
	allowPath    = []string{"agents", "defaults", "modelPolicy", "allow"}
	aliasesPath  = []string{"agents", "defaults", "models"}
)

// KeyForm says how a key is written in the file.
type KeyForm string

const (
	KeyMissing   KeyForm = "missing"
	KeyEnv       KeyForm = "env"        // "${VAR}", resolved by OpenClaw
	KeyLiteral   KeyForm = "literal"    // the key itself
	KeySecretRef KeyForm = "secret-ref" // {source, provider, id}
	KeyOther     KeyForm = "other"      // a value of the wrong type
)

// Status is what a config says about Clawgate.
type Status struct {
	// Provider is true when models.providers.litellm exists.
	Provider bool
	BaseURL  string
	// PointsHere is true when BaseURL is this gateway: http://127.0.0.1:PORT or
	// http://localhost:PORT, with or without /v1.
	PointsHere bool
	APIKey     KeyForm
	// APIKeyEnv is VAR when APIKey is KeyEnv.
	APIKeyEnv string
	// API is the provider's api ("" when unset: OpenClaw then uses openai-completions).
	API string
	// Models are the ids in models.providers.litellm.models, in file order.
	Models []string
	// Mode is models.mode ("merge", "replace" or "").
	Mode string
	// Primary is agents.defaults.model (its primary when it is an object).
	Primary   string
	Fallbacks []string
	// PrimaryLiteLLM is true when Primary is "litellm/<PrimaryModel>".
	PrimaryLiteLLM bool
	PrimaryModel   string
	// Allow is agents.defaults.modelPolicy.allow; empty means any model.
	Allow []string
	// RequestAuth is true when the provider sets request.auth, which beats every other key source.
	RequestAuth     bool
	RequestAuthMode string
	// AuthProfile is true when auth.profiles names a litellm profile: `openclaw onboard` then keeps
	// the key in its own store, and that key beats apiKey (but not request.auth).
	AuthProfile bool
	// AgentModels are agents (agents.entries.<id>) that set their own model, which the defaults
	// do not reach: id → model.
	AgentModels map[string]string
}

var envRefRE = regexp.MustCompile(`^\$\{([A-Z_][A-Z0-9_]*)\}$`)

// Inspect reads a config's Clawgate-relevant settings. gatewayBaseURL is this gateway
// (http://127.0.0.1:4000/v1); only its port is compared.
func Inspect(d *Doc, gatewayBaseURL string) Status {
	var s Status
	v := d.Value()
	if p, ok := at(v, providerPath...).(map[string]any); ok {
		s.Provider = true
		s.BaseURL, _ = p["baseUrl"].(string)
		s.PointsHere = reaches(s.BaseURL, gatewayBaseURL)
		s.API, _ = p["api"].(string)
		raw, present := p["apiKey"]
		s.APIKey, s.APIKeyEnv = keyForm(raw, present)
		if ms, ok := p["models"].([]any); ok {
			for _, m := range ms {
				if id, ok := at(m, "id").(string); ok {
					s.Models = append(s.Models, id)
				}
			}
		}
		if a, ok := at(p, "request", "auth").(map[string]any); ok {
			s.RequestAuth = true
			s.RequestAuthMode, _ = a["mode"].(string)
		}
	}
	s.Mode, _ = at(v, "models", "mode").(string)
	switch m := at(v, primaryPath...).(type) {
	case string:
		s.Primary = m
	case map[string]any:
		s.Primary, _ = m["primary"].(string)
		s.Fallbacks = stringList(m["fallbacks"])
	}
	if rest, ok := strings.CutPrefix(s.Primary, ProviderID+"/"); ok && rest != "" {
		s.PrimaryLiteLLM, s.PrimaryModel = true, rest
	}
	s.Allow = stringList(at(v, allowPath...))
	if profiles, ok := at(v, "auth", "profiles").(map[string]any); ok {
		for id, p := range profiles {
			if prov, _ := at(p, "provider").(string); prov == ProviderID || strings.HasPrefix(id, ProviderID+":") {
				s.AuthProfile = true
			}
		}
	}
	if entries, ok := at(v, "agents", "entries").(map[string]any); ok {
		for id, e := range entries {
			var m string
			switch mv := at(e, "model").(type) {
			case string:
				m = mv
			case map[string]any:
				m, _ = mv["primary"].(string)
			}
			if m != "" {
				if s.AgentModels == nil {
					s.AgentModels = map[string]string{}
				}
				s.AgentModels[id] = m
			}
		}
	}
	return s
}

func keyForm(v any, present bool) (KeyForm, string) {
	switch v := v.(type) {
	case string:
		if m := envRefRE.FindStringSubmatch(v); m != nil {
			return KeyEnv, m[1]
		}
		if v == "" {
			return KeyMissing, ""
		}
		return KeyLiteral, ""
	case map[string]any:
		return KeySecretRef, ""
	case nil:
		if !present {
			return KeyMissing, ""
		}
	}
	return KeyOther, ""
}

// at walks plain values by object keys.
func at(v any, path ...string) any {
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// stringList returns the strings of an array value.
func stringList(v any) []string {
	a, ok := v.([]any)
	if !ok {
		return nil
	}
	out := []string{}
	for _, e := range a {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// pointsAt reports whether baseURL reaches the gateway at gateway (same port, a loopback name
// Clawgate listens on, path "" or /v1: the gateway serves both).
func pointsAt(baseURL, gateway string) bool {
	u, err := url.Parse(strings.TrimSpace(baseURL))
	if err != nil || u.Scheme != "http" || u.RawQuery != "" || u.User != nil {
		return false
	}
	g, err := url.Parse(strings.TrimSpace(gateway))
	if err != nil || g.Host == "" {
		return false
	}
	port := func(u *url.URL) string {
		if p := u.Port(); p != "" {
			return p
		}
		if u.Scheme == "https" {
			return "443"
		}
		return "80"
	}
	switch strings.ToLower(u.Hostname()) {
	case "127.0.0.1", "localhost":
	default:
		return false
	}
	if port(u) != port(g) {
		return false
	}
	switch strings.TrimSuffix(u.Path, "/") {
	case "", "/v1":
		return true
	}
	return false
}
