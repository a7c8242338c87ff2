package app

// Live checks of what OpenClaw's config promises: that a gateway answers at the URL written
// there, that it accepts the key OpenClaw will send, and which model each agent will really use.
// The config's port alone says nothing: another process, or none, may listen there.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/clawgate/clawgate/app/openclaw"
)

// probeTimeout bounds each live probe: a gateway on loopback answers in milliseconds.
const probeTimeout = 3 * time.Second

var probeClient = &http.Client{Timeout: probeTimeout}

// gatewayRoot is the server root of a baseUrl: OpenClaw's baseUrl may end in /v1.
func gatewayRoot(baseURL string) string {
	return strings.TrimSuffix(strings.TrimSuffix(baseURL, "/"), "/v1")
}

// probeGateway checks that a LiteLLM-compatible gateway answers its readiness probe at baseURL.
func probeGateway(ctx context.Context, baseURL string) error {
	res, body, err := probeGet(ctx, gatewayRoot(baseURL)+"/health/readiness", "")
	if err != nil {
		return err
	}
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("GET /health/readiness answered %s: %s", res.Status, snippet(body))
	}
	var ready struct {
		Status string `json:"status"`
	}
	if json.Unmarshal(body, &ready) != nil || ready.Status == "" {
		return fmt.Errorf("GET /health/readiness answered something that is not a LiteLLM-compatible gateway: %s", snippet(body))
	}
	return nil
}

// probeKey checks that the gateway at baseURL accepts key: GET /v1/models with it, which any
// live key may call.
func probeKey(ctx context.Context, baseURL, key string) error {
	res, body, err := probeGet(ctx, gatewayRoot(baseURL)+"/v1/models", key)
	if err != nil {
		return err
	}
	if res.StatusCode == http.StatusOK {
		return nil
	}
	var env struct {
		Error struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &env) == nil && env.Error.Message != "" {
		return fmt.Errorf("refused (%d): %s", res.StatusCode, env.Error.Message)
	}
	return fmt.Errorf("refused (%s): %s", res.Status, snippet(body))
}

func probeGet(ctx context.Context, url, key string) (*http.Response, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, nil, err
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	res, err := probeClient.Do(req)
	if err != nil {
		var ue interface{ Unwrap() error }
		if errors.As(err, &ue) && ue.Unwrap() != nil {
			err = ue.Unwrap()
		}
		return nil, nil, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	return res, body, err
}

func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}

// OpenClawLive is what OpenClaw would meet if it sent a turn now.
type OpenClawLive struct {
	// URL is the provider's baseUrl; URLErr is why nothing usable answers there ("" when a
	// gateway does).
	URL    string
	URLErr string
	// KeySource says where the key OpenClaw sends comes from ("LITELLM_API_KEY from
	// ~/.openclaw/.env", ...); KeyErr is why the gateway refuses it, or why it cannot be checked
	// ("" when it works).
	KeySource string
	KeyErr    string
	// Agents are the configured agents and the model each will use.
	Agents []openclaw.Agent
	// StaleModelsJSON are agents' models.json files whose baseUrl, which OpenClaw prefers over the
	// config's, points elsewhere: file → baseUrl.
	StaleModelsJSON map[string]string
}

// OpenClawCheck probes, live, the gateway OpenClaw's config points at and the key it will send,
// and lists what each agent will use.
func (a *App) OpenClawCheck(ctx context.Context) (OpenClawLive, error) {
	_, t, err := a.readOpenClawTree()
	if err != nil {
		return OpenClawLive{}, err
	}
	d := t.Doc
	st := openclaw.Inspect(d, a.gatewayURL())
	live := OpenClawLive{Agents: openclaw.Agents(t)}
	p := a.openClawProfile()
	if st.BaseURL != "" {
		live.StaleModelsJSON = openclaw.StaleModelsJSON(p.StateDir, st.BaseURL)
	}
	if !st.Provider || st.BaseURL == "" {
		live.URLErr = "no models.providers.litellm.baseUrl in the config"
		live.KeyErr = "not checked: no gateway URL"
		return live, nil
	}
	live.URL = st.BaseURL
	if err := probeGateway(ctx, st.BaseURL); err != nil {
		live.URLErr = err.Error()
	}
	key, source, why := a.keyOpenClawSends(d, p)
	live.KeySource = source
	switch {
	case why != "":
		live.KeyErr = why
	case live.URLErr != "":
		live.KeyErr = "not checked: the gateway does not answer"
	default:
		if err := probeKey(ctx, st.BaseURL, key); err != nil {
			live.KeyErr = err.Error()
		}
	}
	return live, nil
}

// OpenClawAgents lists OpenClaw's configured agents (through $include files) and the model each
// will use.
func (a *App) OpenClawAgents() ([]OpenClawAgent, error) {
	_, t, err := a.readOpenClawTree()
	if err != nil {
		return nil, err
	}
	return openclaw.Agents(t), nil
}

// keyOpenClawSends resolves the key OpenClaw will send the way OpenClaw does: request.auth's token
// when it is set, else apiKey; a ${VAR} from OpenClaw's environment, then the profile's .env. why
// says what stops a check (a secret reference, a missing variable).
func (a *App) keyOpenClawSends(d *openclaw.Doc, p ocProfile) (key, source, why string) {
	prov, _ := d.Get([]string{"models", "providers", openclaw.ProviderID})
	m, _ := prov.(map[string]any)
	raw := m["apiKey"]
	field := "apiKey"
	if auth, ok := m["request"].(map[string]any); ok {
		if am, ok := auth["auth"].(map[string]any); ok && am["mode"] == "authorization-bearer" {
			raw, field = am["token"], "request.auth.token"
		}
	}
	s, ok := raw.(string)
	if !ok {
		if raw == nil {
			return "", field + " is unset", "no key in the config (OpenClaw may use one `openclaw onboard` stored)"
		}
		return "", field + " is a secret reference", "not checked: a secret reference is resolved by OpenClaw only"
	}
	name, isRef := strings.CutPrefix(s, "${")
	if !isRef || !strings.HasSuffix(name, "}") {
		return s, "a literal key in " + field, ""
	}
	name = strings.TrimSuffix(name, "}")
	if v := os.Getenv(name); v != "" {
		return v, name + " from the environment", ""
	}
	if v, _ := openclaw.LookupEnvFile(p.envPath(), name); v != "" {
		return v, name + " from " + p.envPath(), ""
	}
	return "", name + " (set nowhere)", fmt.Sprintf("%s is not set in the environment nor in %s", name, p.envPath())
}

// syncAgentModelFiles keeps the agents' models.json baseUrl in step with the gateway's URL.
func (a *App) syncAgentModelFiles(p ocProfile, baseURL string) ([]string, error) {
	return openclaw.SyncModelsJSON(p.StateDir, baseURL, filepath.Join(a.opts.DataDir, "openclaw-backups"))
}
