package app

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/clawgate/clawgate/app/ledger"
	"github.com/clawgate/clawgate/app/openclaw"
)

// settingOpenClaw is the store setting that opts in to editing OpenClaw's config: set by
// connect. A user who never connected is never edited.
const settingOpenClaw = "openclaw.manage"

// OpenClawFile is OpenClaw's config as found on this machine.
type OpenClawFile struct {
	Path   string
	Exists bool
	Status openclaw.Status
}

// openClawPath is where OpenClaw's config is: Options.OpenClawConfig, else OpenClaw's own rules.
func (a *App) openClawPath() string {
	if a.opts.OpenClawConfig != "" {
		return a.opts.OpenClawConfig
	}
	if p := a.openClawPathSetting(); p != "" { // Settings' custom path (openclaw_path.go)
		return p
	}
	home, _ := os.UserHomeDir()
	p, _ := openclaw.Locate(os.Getenv, home)
	return p
}

// gatewayURL is the base URL OpenClaw should use: the live address, else the configured one.
func (a *App) gatewayURL() string {
	if b := a.Status().BaseURL(); b != "" {
		return b + "/v1"
	}
	return fmt.Sprintf("http://127.0.0.1:%d/v1", a.opts.Port)
}

func (a *App) readOpenClaw() (path string, original []byte, d *openclaw.Doc, err error) {
	path = a.openClawPath()
	original, err = os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return path, nil, openclaw.New(), nil
	case err != nil:
		return path, nil, nil, fmt.Errorf("read OpenClaw's config: %w", err)
	}
	d, err = openclaw.Parse(original)
	if err != nil {
		return path, nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return path, original, d, nil
}

// OpenClawStatus reports what OpenClaw's config says about this gateway.
func (a *App) OpenClawStatus() (OpenClawFile, error) {
	path, original, d, err := a.readOpenClaw()
	if err != nil {
		return OpenClawFile{Path: path}, err
	}
	return OpenClawFile{Path: path, Exists: original != nil, Status: openclaw.Inspect(d, a.gatewayURL())}, nil
}

func (a *App) routes() []openclaw.Route {
	var out []openclaw.Route
	for _, r := range a.srv.Routes() {
		out = append(out, openclaw.Route{Name: r.Name, Provider: r.Provider, Model: r.Model})
	}
	return out
}

// write saves d over OpenClaw's config (refusing if it changed underneath), backing up first.
func (a *App) writeOpenClaw(path string, original []byte, d *openclaw.Doc) (bool, error) {
	return openclaw.Write(path, original, d, filepath.Join(a.opts.DataDir, "openclaw-backups"))
}

// led is the ledger, nil once Stop closed it (a tray action may still be running then).
func (a *App) led() *ledger.Ledger {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.ledger
}

func (a *App) openClawEnabled(ctx context.Context) bool {
	l := a.led()
	if l == nil {
		return false
	}
	v, ok, err := l.Store().GetSetting(ctx, settingOpenClaw)
	return err == nil && ok && v == "on"
}

// OpenClawConnectOptions tune OpenClawConnect.
type OpenClawConnectOptions struct {
	// Force writes the gateway's URL even when nothing answers there now.
	Force bool
	// API is the provider's api ("anthropic-messages" for OpenClaw's own cache breakpoints and
	// thinking on Claude); "" keeps what the file has.
	API string
	// RestartGateway restarts OpenClaw's gateway with `openclaw gateway restart` when the key
	// changed and a service manager runs it (a gateway started by hand is only reported).
	RestartGateway bool
}

// OpenClawConnect points OpenClaw at this gateway: the litellm provider block (baseUrl, a key
// reference, request.auth so that the key wins over one `openclaw onboard` stored, the routes as
// models), and a virtual key for the profile (alias "openclaw", or "openclaw-<profile>") made
// available as LITELLM_API_KEY through the profile's .env unless OpenClaw already sends a key the
// gateway accepts. It refuses when nothing answers at the URL it would write, unless o.Force. It
// turns on editing OpenClaw's config.
func (a *App) OpenClawConnect(ctx context.Context, o OpenClawConnectOptions) ([]string, error) {
	gw := a.gatewayURL()
	var lines []string
	if err := probeGateway(ctx, gw); err != nil {
		if !o.Force {
			return nil, fmt.Errorf("no Clawgate gateway answers at %s (%v): start it (`clawgate serve`, or the tray), connect with --port set to the one it listens on, or pass --force to write the URL anyway", gw, err)
		}
		lines = append(lines, fmt.Sprintf("warning: nothing answers at %s now (%v); written anyway (--force)", gw, err))
	}
	path, original, d, err := a.readOpenClaw()
	if err != nil {
		return nil, err
	}
	p := a.openClawProfile()
	keyLines, wroteKey, err := a.ensureOpenClawKey(ctx, p)
	lines = append(lines, keyLines...)
	if err != nil {
		return lines, err
	}
	accepted := func(key string) bool { return key != "" && a.keyWorks(ctx, key) }
	changes, err := openclaw.Connect(d, openclaw.ConnectOptions{
		BaseURL: gw, BearerAuth: true, Models: openclaw.ModelsFor(a.routes()), API: o.API,
		KeepKey: func(k string) bool { return !strings.Contains(k, "${") && accepted(k) },
	})
	if err != nil {
		return lines, err
	}
	if _, err := a.writeOpenClaw(path, original, d); err != nil {
		return lines, err
	}
	lines = append(lines, changes...)
	if len(changes) == 0 {
		lines = append(lines, "OpenClaw's config already points at this gateway: nothing to change in "+path)
	} else {
		lines = append(lines, "wrote "+path)
	}
	more, err := a.syncAgentModelFiles(p, gw)
	lines = append(lines, more...)
	if err != nil {
		return lines, err
	}
	if wroteKey {
		lines = append(lines, a.restartAfterKey(ctx, d, path, p, o.RestartGateway)...)
	}
	l := a.led()
	if l == nil {
		return lines, errors.New("Clawgate is stopping: connect again after it starts")
	}
	err = l.Store().SetSetting(ctx, settingOpenClaw, "on")
	a.openClawChanged(ctx)
	return lines, err
}

// restartAfterKey tells whether OpenClaw's gateway for this profile must restart to send the key
// just written (it resolves ${LITELLM_API_KEY} once, at start), and restarts it when asked and a
// service manager runs it.
func (a *App) restartAfterKey(ctx context.Context, d *openclaw.Doc, path string, p ocProfile, restart bool) []string {
	port := openclaw.GatewayPort(d, os.Getenv)
	if !openclaw.GatewayLive(ctx, port) {
		return []string{fmt.Sprintf("no OpenClaw gateway answers on port %d: OpenClaw reads the new key when it next starts", port)}
	}
	stale := fmt.Sprintf("OpenClaw's gateway on port %d is running and keeps sending the key it started with", port)
	if !restart {
		return []string{stale + ": restart it (`openclaw gateway restart` for the service; a gateway started with `openclaw gateway run` must be stopped and started again)"}
	}
	env := append(os.Environ(), "OPENCLAW_STATE_DIR="+p.StateDir, "OPENCLAW_CONFIG_PATH="+path)
	r, err := openclaw.RestartGateway(ctx, env)
	switch {
	case errors.Is(err, openclaw.ErrNoCLI):
		return []string{stale + ": restart it; the openclaw command is not on PATH, so Clawgate could not"}
	case err != nil:
		return []string{fmt.Sprintf("%s; restarting it failed: %v %s", stale, err, r.Output)}
	case r.Restarted:
		return []string{fmt.Sprintf("restarted OpenClaw's gateway service on port %d (openclaw gateway restart): it now sends the new key", port)}
	}
	return []string{stale + ": it was started by hand (no service manager runs it), and OpenClaw's own restart keeps its old environment: stop it and start it again"}
}

// OpenClawSync mirrors the gateway's routes into the litellm provider's models[], and keeps the
// provider's baseUrl in the agents' generated models.json files in step.
func (a *App) OpenClawSync(ctx context.Context) ([]string, error) {
	if a.usingTeam(ctx) {
		return []string{"OpenClaw uses the team gateway: its models are the team's, not this gateway's routes"}, nil
	}
	lines, err := a.editOpenClaw(ctx, func(t *openclaw.Tree) ([]string, error) { return openclaw.SyncRoutes(t.Doc, a.routes()) })
	if err != nil {
		return lines, err
	}
	more, err := a.syncAgentModelFiles(a.openClawProfile(), a.gatewayURL())
	return append(lines, more...), err
}

// OpenClawUse makes model OpenClaw's primary model (litellm/MODEL). Agents that pin their own
// model are switched too with openclaw.AgentsAll, else each is named in a line; kept lists the
// agents whose turns will still use another model.
func (a *App) OpenClawUse(ctx context.Context, model string, scope OpenClawAgentScope) (lines []string, kept []OpenClawAgent, err error) {
	served := false
	for _, r := range a.srv.Routes() {
		if r.Name == model {
			served = true
		}
	}
	if !served && a.teamServes(ctx, model) {
		served = true // OpenClaw uses the team gateway, which serves it
	}
	if !served {
		return nil, nil, fmt.Errorf("the gateway does not serve %q; it serves: %s", model, strings.Join(a.srv.Models(), ", "))
	}
	lines, err = a.editOpenClaw(ctx, func(t *openclaw.Tree) ([]string, error) {
		var l []string
		var err error
		l, kept, err = openclaw.UseAgents(t, model, scope)
		return l, err
	})
	return lines, kept, err
}

// editAttempts is how often an edit is redone when OpenClaw changed the file between our read
// and our write (it writes while holding the lock we wait for).
const editAttempts = 3

func (a *App) editOpenClaw(ctx context.Context, op func(*openclaw.Tree) ([]string, error)) ([]string, error) {
	if !a.openClawEnabled(ctx) {
		return nil, errors.New("Clawgate edits OpenClaw's config only after `clawgate openclaw connect` (or Connect in the tray)")
	}
	for attempt := 1; ; attempt++ {
		lines, err := a.editOnce(ctx, op)
		if errors.Is(err, openclaw.ErrChangedOnDisk) && attempt < editAttempts {
			continue
		}
		return lines, err
	}
}

// readOpenClawTree reads OpenClaw's config and the files it includes.
func (a *App) readOpenClawTree() (original []byte, t *openclaw.Tree, err error) {
	path, original, d, err := a.readOpenClaw()
	if err != nil {
		return nil, nil, err
	}
	t, err = openclaw.NewTree(path, d)
	return original, t, err
}

func (a *App) editOnce(ctx context.Context, op func(*openclaw.Tree) ([]string, error)) ([]string, error) {
	original, t, err := a.readOpenClawTree()
	if err != nil {
		return nil, err
	}
	path, d := t.Path, t.Doc
	lines, err := op(t)
	if err != nil {
		return nil, err
	}
	changed, err := a.writeOpenClaw(path, original, d)
	if err != nil {
		return nil, err
	}
	included, err := t.Write(filepath.Join(a.opts.DataDir, "openclaw-backups"))
	if err != nil {
		return lines, err
	}
	for _, f := range included {
		lines = append(lines, "wrote "+f)
	}
	if changed {
		lines = append(lines, "wrote "+path)
	}
	if changed || len(included) > 0 {
		a.openClawChanged(ctx)
	} else {
		lines = append(lines, "nothing to change in "+path)
	}
	return lines, nil
}

// keyWorks reports whether the gateway accepts key: the master key, or a live virtual key. With
// no master key the gateway accepts anything, and no key is worth keeping.
func (a *App) keyWorks(ctx context.Context, key string) bool {
	if !a.srv.HasMasterKey() {
		return false
	}
	if subtle.ConstantTimeCompare([]byte(key), []byte(a.MasterKey())) == 1 {
		return true
	}
	l := a.led()
	if l == nil {
		return false
	}
	_, err := l.Authenticate(ctx, key)
	return err == nil
}

// OpenClawAgent is one configured OpenClaw agent and the model it will use.
type OpenClawAgent = openclaw.Agent

// OpenClawAgentScope says which agents OpenClawUse switches: openclaw.AgentsDefault or AgentsAll.
type OpenClawAgentScope = openclaw.AgentScope

// ParseOpenClawAgents reads the --agents flag: "default" or "all".
func ParseOpenClawAgents(s string) (OpenClawAgentScope, error) { return openclaw.ParseAgentScope(s) }
