package app

// Joining a team gateway: the user pastes the team server's URL and the virtual key it gave them.
// The URL is a setting in the store, the key lives only in the OS keychain. OpenClaw is pointed
// at the team with the same edits the local connect makes (openclaw.Connect): the litellm
// provider's baseUrl, its models (the team's /v1/models) and a key reference. The team key goes
// into the profile's .env under its own name, beside the local LITELLM_API_KEY, so switching back
// to the local gateway only edits the config and a running OpenClaw keeps both keys in hand.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/clawgate/clawgate/app/keychain"
	"github.com/clawgate/clawgate/app/openclaw"
	"github.com/clawgate/clawgate/proxy/provider/upstream"
)

const (
	// settingTeamURL is the store setting holding the joined team gateway's base URL.
	settingTeamURL = "team.url"
	// settingLocalPrimary is OpenClaw's primary model before a switch to the team moved it to a
	// model the team serves, so that going back restores it.
	settingLocalPrimary = "team.local_primary"
	// TeamKeyName is the keychain item holding the team key.
	TeamKeyName = "team-gateway-key"
	// teamKeyVar is the variable OpenClaw reads the team key from while it uses the team.
	teamKeyVar = "CLAWGATE_TEAM_KEY"
)

// ErrNotJoined is wrapped when a team operation needs a joined team gateway.
var ErrNotJoined = errors.New("no team gateway joined")

// TeamState is what Status says about the team gateway.
type TeamState struct {
	// URL is the joined team gateway ("" when none).
	URL string
	// Info is the last good read of the key's spend, budget and models (nil before one).
	Info *TeamInfo
	// Err says why the last read failed, "" when it worked.
	Err string
}

// Joined reports whether a team gateway is joined.
func (t TeamState) Joined() bool { return t.URL != "" }

// SpendLine is the tray's one line about the team key: "Team: $1.20 of $10.00".
func (t TeamState) SpendLine() string {
	switch {
	case !t.Joined():
		return ""
	case t.Info == nil && t.Err != "":
		return "Team: " + t.Err
	case t.Info == nil:
		return "Team: " + t.URL
	}
	k := t.Info.Key
	if k.MaxBudget == nil {
		return fmt.Sprintf("Team: %s spent, no budget", money(k.Spend))
	}
	line := fmt.Sprintf("Team: %s of %s", money(k.Spend), money(*k.MaxBudget))
	if k.BudgetDuration != "" {
		line += " per " + k.BudgetDuration
	}
	return line
}

func money(v float64) string { return fmt.Sprintf("$%.2f", v) }

// UsingTeam reports whether OpenClaw's litellm provider points at the joined team gateway.
func (s Status) UsingTeam() bool {
	return s.Team.Joined() && sameBase(s.OpenClaw.BaseURL, s.Team.URL)
}

// sameBase reports whether an OpenClaw baseUrl reaches the team gateway at base (with or
// without /v1, a trailing slash either way).
func sameBase(baseURL, base string) bool {
	n, err := NormalizeTeamURL(baseURL)
	return err == nil && base != "" && n == base
}

// Team is the team gateway's state as last read (no network).
func (a *App) Team() TeamState {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.status.Team
}

func (a *App) setTeam(t TeamState) {
	a.mu.Lock()
	a.status.Team = t
	a.mu.Unlock()
	a.publish()
}

// loadTeam reads the joined team's URL from the store into the status (no network). It does
// not publish.
func (a *App) loadTeam(ctx context.Context) {
	url := a.setting(ctx, settingTeamURL)
	a.mu.Lock()
	defer a.mu.Unlock()
	if url != a.status.Team.URL {
		a.status.Team = TeamState{URL: url}
	}
}

func (a *App) setting(ctx context.Context, name string) string {
	l := a.led()
	if l == nil {
		return ""
	}
	v, _, _ := l.Store().GetSetting(ctx, name)
	return v
}

// teamClient is the HTTP client for team gateways: the providers' transport, so Settings' upstream
// proxy and extra CA file apply (a team gateway behind the company's own certificate authority),
// else HTTPS_PROXY and the system's authorities.
func (a *App) teamClient() *http.Client { return &http.Client{Transport: upstream.Transport()} }

// teamDeleter is the keychain's Delete; the Secrets a test hands in may lack it.
type teamDeleter interface{ Delete(name string) error }

// JoinTeam checks the team gateway at rawURL with key (CheckTeam), keeps the URL in the store
// and the key in the OS keychain, and points OpenClaw at the team. When the check fails nothing
// is kept. When only the OpenClaw step fails the team stays joined (UseTeamGateway retries it).
func (a *App) JoinTeam(ctx context.Context, rawURL, key string) ([]string, error) {
	key = strings.TrimSpace(key)
	info, err := CheckTeam(ctx, a.teamClient(), rawURL, key)
	if err != nil {
		return nil, err
	}
	l := a.led()
	if l == nil {
		return nil, errors.New("Clawgate is stopping: join again after it starts")
	}
	if a.secrets == nil {
		return nil, errors.New("Clawgate keeps a team key only in the OS keychain, and the keychain is switched off")
	}
	if err := a.secrets.Set(TeamKeyName, key); err != nil {
		if errors.Is(err, keychain.ErrUnavailable) {
			return nil, fmt.Errorf("Clawgate keeps a team key only in the OS keychain, and there is none to use: %w", err)
		}
		return nil, fmt.Errorf("store the team key: %w", err)
	}
	if err := l.Store().SetSetting(ctx, settingTeamURL, info.URL); err != nil {
		return nil, err
	}
	a.setTeam(TeamState{URL: info.URL, Info: &info})
	lines := []string{fmt.Sprintf("joined the team gateway %s (key %s, %d models); the key is in the OS keychain as %q", info.URL, keyLabel(info.Key), len(info.Models), TeamKeyName)}
	more, err := a.useTeam(ctx, info, key)
	return append(lines, more...), err
}

func keyLabel(k TeamKey) string {
	if k.Alias != "" {
		return k.Alias
	}
	return "without alias"
}

// teamCredentials are the joined team's URL and the key from the keychain.
func (a *App) teamCredentials(ctx context.Context) (url, key string, err error) {
	url = a.setting(ctx, settingTeamURL)
	if url == "" {
		return "", "", fmt.Errorf("%w: join one first", ErrNotJoined)
	}
	if a.secrets == nil {
		return url, "", errors.New("the keychain is switched off, and the team key is kept only there")
	}
	key, err = a.secrets.Get(TeamKeyName)
	if errors.Is(err, keychain.ErrNotFound) {
		return url, "", fmt.Errorf("the team key is no longer in the OS keychain (item %q): join %s again", TeamKeyName, url)
	}
	if err != nil {
		return url, "", fmt.Errorf("read the team key from the keychain: %w", err)
	}
	return url, key, nil
}

// RefreshTeam reads the team key's spend, budget and models from the team gateway now and
// publishes them. A failed read keeps the last good figures and says why in TeamState.Err.
func (a *App) RefreshTeam(ctx context.Context) (TeamState, error) {
	url, key, err := a.teamCredentials(ctx)
	if errors.Is(err, ErrNotJoined) {
		a.setTeam(TeamState{})
		return TeamState{}, err
	}
	t := a.Team()
	t.URL = url
	if err == nil {
		var info TeamInfo
		if info, err = CheckTeam(ctx, a.teamClient(), url, key); err == nil {
			t.Info = &info
		}
	}
	t.Err = ""
	if err != nil {
		t.Err = err.Error()
	}
	a.setTeam(t)
	return t, err
}

// UseTeamGateway points OpenClaw at the joined team gateway (reading its models afresh).
func (a *App) UseTeamGateway(ctx context.Context) ([]string, error) {
	url, key, err := a.teamCredentials(ctx)
	if err != nil {
		return nil, err
	}
	info, err := CheckTeam(ctx, a.teamClient(), url, key)
	if err != nil {
		t := a.Team()
		t.Err = err.Error()
		a.setTeam(t)
		return nil, err
	}
	a.setTeam(TeamState{URL: url, Info: &info})
	return a.useTeam(ctx, info, key)
}

// useTeam makes OpenClaw's litellm provider reach the team: baseUrl, the team's models, apiKey
// and request.auth as ${CLAWGATE_TEAM_KEY}, the key in the profile's .env. A primary model the
// team does not serve moves to one it does, and is remembered for the way back.
func (a *App) useTeam(ctx context.Context, info TeamInfo, key string) ([]string, error) {
	gw := info.URL + "/v1"
	path, original, d, err := a.readOpenClaw()
	if err != nil {
		return nil, err
	}
	p := a.openClawProfile()
	ref := "${" + teamKeyVar + "}"
	lines, err := openclaw.Connect(d, openclaw.ConnectOptions{
		BaseURL: gw, APIKeyRef: ref, BearerAuth: true, Models: teamModels(info.Models),
	})
	if err != nil {
		return nil, err
	}
	st := openclaw.Inspect(d, a.gatewayURL())
	if st.PrimaryLiteLLM && !slices.Contains(info.Models, st.PrimaryModel) && len(info.Models) > 0 {
		pick := info.Models[0]
		more, err := openclaw.Use(d, pick)
		if err != nil {
			return lines, err
		}
		lines = append(lines, more...)
		if l := a.led(); l != nil {
			if err := l.Store().SetSetting(ctx, settingLocalPrimary, st.PrimaryModel); err != nil {
				return lines, err
			}
		}
		lines = append(lines, fmt.Sprintf("the team does not serve %s: OpenClaw's primary model is now %s", st.PrimaryModel, pick))
	}
	wroteKey, err := openclaw.SetEnv(p.envPath(), teamKeyVar, key)
	if err != nil {
		return lines, err
	}
	if wroteKey {
		lines = append(lines, fmt.Sprintf("wrote %s to %s", teamKeyVar, p.envPath()))
	}
	changed, err := a.writeOpenClaw(path, original, d)
	if err != nil {
		return lines, err
	}
	if changed {
		lines = append(lines, "wrote "+path)
	} else {
		lines = append(lines, "OpenClaw's config already points at the team gateway: nothing to change in "+path)
	}
	more, err := a.syncAgentModelFiles(p, gw)
	lines = append(lines, more...)
	if err != nil {
		return lines, err
	}
	if wroteKey {
		lines = append(lines, a.restartAfterKey(ctx, d, path, p, true)...)
	}
	if l := a.led(); l != nil {
		err = l.Store().SetSetting(ctx, settingOpenClaw, "on")
	}
	a.openClawChanged(ctx)
	return lines, err
}

// teamModels describes the team's models for OpenClaw as the local routes are: context window,
// output limit, vision and prices from the price table where it knows the name.
func teamModels(ids []string) []openclaw.Model {
	routes := make([]openclaw.Route, 0, len(ids))
	for _, id := range ids {
		routes = append(routes, openclaw.Route{Name: id})
	}
	return openclaw.ModelsFor(routes)
}

// UseLocalGateway points OpenClaw back at this machine's gateway: OpenClawConnect's edits
// (baseUrl, the routes as models, ${LITELLM_API_KEY}), and the primary model OpenClaw had before
// the switch to the team. The team stays joined.
func (a *App) UseLocalGateway(ctx context.Context) ([]string, error) {
	return a.useLocal(ctx, false)
}

func (a *App) useLocal(ctx context.Context, force bool) ([]string, error) {
	lines, err := a.OpenClawConnect(ctx, OpenClawConnectOptions{Force: force, RestartGateway: true})
	if err != nil {
		return lines, err
	}
	prev := a.setting(ctx, settingLocalPrimary)
	if prev == "" {
		return lines, nil
	}
	st, err := a.OpenClawStatus()
	if err == nil && st.Status.PrimaryLiteLLM && !slices.Contains(a.srv.Models(), st.Status.PrimaryModel) && slices.Contains(a.srv.Models(), prev) {
		var more []string
		more, _, err = a.OpenClawUse(ctx, prev, openclaw.AgentsDefault)
		lines = append(lines, more...)
	}
	if err != nil {
		return lines, err
	}
	if l := a.led(); l != nil {
		err = l.Store().DeleteSetting(ctx, settingLocalPrimary)
	}
	return lines, err
}

// LeaveTeam points OpenClaw back at the local gateway when it uses the team (even when the local
// one does not answer now), removes the team key from the profile's .env and from the keychain,
// and forgets the URL.
func (a *App) LeaveTeam(ctx context.Context) ([]string, error) {
	url := a.setting(ctx, settingTeamURL)
	if url == "" {
		return nil, fmt.Errorf("%w: nothing to leave", ErrNotJoined)
	}
	var lines []string
	if st, err := a.OpenClawStatus(); err == nil && sameBase(st.Status.BaseURL, url) {
		more, err := a.useLocal(ctx, true)
		lines = append(lines, more...)
		if err != nil {
			return lines, fmt.Errorf("point OpenClaw back at the local gateway: %w", err)
		}
	}
	p := a.openClawProfile()
	if ch, err := openclaw.UnsetEnv(p.envPath(), teamKeyVar); err != nil {
		return lines, err
	} else if ch {
		lines = append(lines, fmt.Sprintf("removed %s from %s", teamKeyVar, p.envPath()))
	}
	if del, ok := a.secrets.(teamDeleter); ok {
		if err := del.Delete(TeamKeyName); err != nil && !errors.Is(err, keychain.ErrNotFound) {
			return lines, fmt.Errorf("delete the team key from the keychain: %w", err)
		}
		lines = append(lines, "deleted the team key from the OS keychain")
	}
	if l := a.led(); l != nil {
		if err := l.Store().DeleteSetting(ctx, settingTeamURL); err != nil {
			return lines, err
		}
		_ = l.Store().DeleteSetting(ctx, settingLocalPrimary)
	}
	a.setTeam(TeamState{})
	return append(lines, "left the team gateway "+url), nil
}

// usingTeam reports whether OpenClaw's config points at the joined team gateway now (it reads
// the file: the status is current only while the app serves).
func (a *App) usingTeam(ctx context.Context) bool {
	url := a.setting(ctx, settingTeamURL)
	if url == "" {
		return false
	}
	st, err := a.OpenClawStatus()
	return err == nil && sameBase(st.Status.BaseURL, url)
}

// teamServes reports whether OpenClaw uses the team gateway and the team serves model.
func (a *App) teamServes(ctx context.Context, model string) bool {
	t := a.Team()
	return t.Info != nil && slices.Contains(t.Info.Models, model) && a.usingTeam(ctx)
}
