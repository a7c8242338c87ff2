package app

// OpenClaw as the tray sees it: the state in Status, kept current by a watcher on OpenClaw's
// config, and the one-click operations the tray calls.

import (
	"context"
	"errors"
	"fmt"
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
}

// openClawTimeout bounds an edit started from the tray: OpenClaw may hold its lock, a disk may hang.
const openClawTimeout = 30 * time.Second

// ConnectOpenClaw is OpenClawConnect for the tray: bounded in time, logged, and published.
func (a *App) ConnectOpenClaw() error {
	ctx, cancel := context.WithTimeout(context.Background(), openClawTimeout)
	defer cancel()
	lines, err := a.OpenClawConnect(ctx)
	a.logOpenClaw("connect", lines, err)
	a.openClawChanged(ctx)
	return err
}

// UseOpenClawModel is OpenClawUse for the tray: bounded in time, logged, and published.
func (a *App) UseOpenClawModel(model string) error {
	ctx, cancel := context.WithTimeout(context.Background(), openClawTimeout)
	defer cancel()
	lines, err := a.OpenClawUse(ctx, model)
	a.logOpenClaw("use "+model, lines, err)
	a.openClawChanged(ctx)
	return err
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
		st.Primary = f.Status.Primary
	}
	a.mu.Lock()
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
		st.Primary, st.Err = ev.Status.Primary, ""
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
// config changed; only when the user connected OpenClaw.
func (a *App) syncOpenClawAfterReload() {
	ctx, cancel := context.WithTimeout(context.Background(), openClawTimeout)
	defer cancel()
	if !a.openClawEnabled(ctx) {
		return
	}
	lines, err := a.OpenClawSync(ctx)
	a.logOpenClaw("sync", lines, err)
}
