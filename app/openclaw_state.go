package app

// OpenClaw as the tray sees it: the state in Status, kept current by a watcher on OpenClaw's
// config, and the one-click operations the tray calls.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/clawgate/clawgate/app/openclaw"
)

// OpenClawState is what Status says about OpenClaw.
type OpenClawState struct {
	// Connected is true once the user connected OpenClaw (the "openclaw.manage" setting): only then
	// does Clawgate edit OpenClaw's config, and watch it while serving.
	Connected bool
	Path      string
	// Primary is OpenClaw's primary model as written, e.g. "litellm/gpt-4o-mini" ("" when unset).
	Primary string
	// Err says, briefly (the tray shows "OpenClaw: <Err>"), why the config at Path cannot be read:
	// "no config file", "config invalid: ...", "config file gone"; "" when it reads. An invalid file
	// keeps the last good Primary, as OpenClaw keeps its last good config.
	Err string
	// OutOfSync says why OpenClaw's copy of the routes is behind the gateway's (the tray shows
	// "OpenClaw out of sync: <OutOfSync>"): a sync after a config change could not run, OpenClaw
	// holding its lock, say. It is retried until it succeeds; "" when in step.
	OutOfSync string
	// Pinned names the agents whose own model beats Primary, "coder: anthropic/claude-opus-4-6;
	// ..." ("" when none): a switch of the default model does not reach them.
	Pinned string
	// BaseURL is the litellm provider's baseUrl as written ("" when unset): the local gateway,
	// or a team gateway (Status.UsingTeam).
	BaseURL string
}

// openClawTimeout bounds an edit started from the tray: OpenClaw may hold its lock, a disk may hang.
const openClawTimeout = 30 * time.Second

// ConnectOpenClaw is OpenClawConnect for the tray: bounded in time, logged, and published.
func (a *App) ConnectOpenClaw() error {
	ctx, cancel := context.WithTimeout(context.Background(), openClawTimeout)
	defer cancel()
	lines, err := a.OpenClawConnect(ctx, OpenClawConnectOptions{RestartGateway: true})
	a.logOpenClaw("connect", lines, err)
	a.openClawChanged(ctx)
	return err
}

// UseOpenClawModel is OpenClawUse of the default model for the tray: bounded in time, logged,
// and published. Agents that pin their own model keep it (see UseOpenClawModelFor).
func (a *App) UseOpenClawModel(model string) error {
	_, err := a.UseOpenClawModelFor(model, openclaw.AgentsDefault)
	return err
}

// UseOpenClawModelFor is OpenClawUse for the tray, for the default model only or for every agent
// (the tray asks once when Status().OpenClaw.Pinned is set). It returns the agents left on
// another model, "id: model" each.
func (a *App) UseOpenClawModelFor(model string, scope openclaw.AgentScope) ([]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), openClawTimeout)
	defer cancel()
	lines, kept, err := a.OpenClawUse(ctx, model, scope)
	a.logOpenClaw("use "+model, lines, err)
	a.openClawChanged(ctx)
	var out []string
	for _, k := range kept {
		out = append(out, k.ID+": "+k.Model)
	}
	return out, err
}

func (a *App) logOpenClaw(op string, lines []string, err error) {
	for _, l := range lines {
		a.log.Info("openclaw "+op, "result", l)
	}
	if err != nil {
		a.log.Warn("openclaw "+op, "err", err)
	}
}

// openClawChanged re-reads OpenClaw's state after an edit of ours (which the watcher ignores) and
// publishes it.
func (a *App) openClawChanged(ctx context.Context) {
	a.refreshOpenClaw(context.WithoutCancel(ctx))
	a.publish()
}

// refreshOpenClaw reads OpenClaw's config into the status and, once connected and serving, starts
// watching it. It does not publish.
func (a *App) refreshOpenClaw(ctx context.Context) {
	st := OpenClawState{Connected: a.openClawEnabled(ctx), Path: a.openClawPath()}
	var syn *openclaw.SyntaxError
	switch f, err := a.OpenClawStatus(); {
	case errors.As(err, &syn):
		st.Err = "config invalid: " + syn.Error()
	case err != nil:
		st.Err = err.Error()
	case !f.Exists:
		st.Err = "no config file"
	default:
		st.Primary, st.BaseURL = f.Status.Primary, f.Status.BaseURL
		st.Pinned = a.pinnedSummary()
	}
	a.loadTeam(ctx)
	a.mu.Lock()
	st.OutOfSync = a.status.OpenClaw.OutOfSync
	a.status.OpenClaw = st
	running := a.done != nil
	a.mu.Unlock()
	if st.Connected && running {
		a.startOpenClawWatch(st.Path)
	}
}

// startOpenClawWatch watches OpenClaw's config so that edits made elsewhere (OpenClaw's own
// `openclaw config set`, an editor) reach the tray. Once; never after Stop.
func (a *App) startOpenClawWatch(path string) {
	a.ocMu.Lock()
	defer a.ocMu.Unlock()
	if a.ocWatch != nil || a.ocClosed {
		return
	}
	w, err := openclaw.Watch(path, a.gatewayURL(), a.onOpenClawEvent)
	if err != nil {
		a.log.Warn("changes to OpenClaw's config will not show until a restart", "err", err)
		return
	}
	a.ocWatch = w
}

func (a *App) stopOpenClawWatch() {
	a.ocMu.Lock()
	w := a.ocWatch
	a.ocWatch, a.ocClosed = nil, true
	if a.ocRetry != nil {
		a.ocRetry.Stop()
		a.ocRetry = nil
	}
	a.ocMu.Unlock()
	if w != nil {
		w.Close() // waits for onOpenClawEvent to return
	}
}

// onOpenClawEvent runs on the watcher's goroutine for each settled change made by someone else.
func (a *App) onOpenClawEvent(ev openclaw.Event) {
	a.mu.Lock()
	st := a.status.OpenClaw
	switch {
	case ev.Kind.Has(openclaw.Gone):
		st.Primary, st.Err = "", "config file gone"
	case ev.Kind.Has(openclaw.Invalid):
		st.Err = fmt.Sprintf("config invalid: %v", ev.Err)
	default:
		st.Primary, st.Err, st.BaseURL = ev.Status.Primary, "", ev.Status.BaseURL
		st.Pinned = a.pinnedSummary()
	}
	changed := st != a.status.OpenClaw
	a.status.OpenClaw = st
	a.mu.Unlock()
	if changed || ev.Kind&(openclaw.PrimaryChanged|openclaw.LiteLLMModelsChanged) != 0 {
		a.log.Info("OpenClaw's config changed", "change", ev.Kind.String(), "primary", st.Primary)
		a.publish()
	}
}

// syncOpenClawAfterReload keeps OpenClaw's models[] in step with the routes after the gateway's
// config changed; only when the user connected OpenClaw. A sync that fails (OpenClaw holding its
// lock past LockWait, the file changing under every attempt) marks OpenClaw out of sync and is
// retried, with a growing pause, until it succeeds or the app stops.
func (a *App) syncOpenClawAfterReload() {
	a.trySyncOpenClaw(0)
}

// syncRetryFirst and syncRetryMax bound the pause between retries of a failed sync.
var (
	syncRetryFirst = 2 * time.Second
	syncRetryMax   = time.Minute
)

func (a *App) trySyncOpenClaw(pause time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), openClawTimeout)
	defer cancel()
	if !a.openClawEnabled(ctx) {
		return
	}
	lines, err := a.OpenClawSync(ctx)
	a.logOpenClaw("sync", lines, err)
	reason := ""
	if err != nil {
		reason = err.Error()
	}
	a.mu.Lock()
	changed := a.status.OpenClaw.OutOfSync != reason
	a.status.OpenClaw.OutOfSync = reason
	a.mu.Unlock()
	if changed {
		a.publish()
	}
	if err == nil {
		return
	}
	pause = min(max(2*pause, syncRetryFirst), syncRetryMax)
	a.ocMu.Lock()
	defer a.ocMu.Unlock()
	if a.ocClosed {
		return
	}
	if a.ocRetry != nil {
		a.ocRetry.Stop()
	}
	a.ocRetry = time.AfterFunc(pause, func() { a.trySyncOpenClaw(pause) })
}

// pinnedSummary names the agents whose own model beats the default, "" when none (or when the
// config cannot be read through its includes).
func (a *App) pinnedSummary() string {
	agents, err := a.OpenClawAgents()
	if err != nil {
		return ""
	}
	var parts []string
	for _, ag := range agents {
		if ag.Pinned {
			parts = append(parts, ag.ID+": "+ag.Model)
		}
	}
	return strings.Join(parts, "; ")
}
