package app

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// openClawPathKey is where Settings keeps a custom location of OpenClaw's config (a WSL home seen
// from Windows, a profile elsewhere): a Clawgate addition to general_settings. --openclaw-config
// wins over it; with neither, OpenClaw's own rules find the file.
const openClawPathKey = "clawgate_openclaw_config"

// openClawPathSetting is the custom path in the config in force, "" when none.
func (a *App) openClawPathSetting() string {
	a.mu.Lock()
	cfg := a.inForce
	a.mu.Unlock()
	if cfg == nil {
		return ""
	}
	p, _ := cfg.General.Extra[openClawPathKey].(string)
	return strings.TrimSpace(p)
}

// checkOpenClawPath says what is wrong with a custom path to OpenClaw's config ("" when usable):
// it must be absolute, in a folder that exists, and not a folder itself.
func checkOpenClawPath(p string) string {
	p = strings.TrimSpace(p)
	if p == "" {
		return ""
	}
	if !filepath.IsAbs(p) {
		return "a full path, such as /home/me/.openclaw/openclaw.json"
	}
	if st, err := os.Stat(p); err == nil && st.IsDir() {
		return "a file, not a folder (OpenClaw's is openclaw.json)"
	}
	if st, err := os.Stat(filepath.Dir(p)); err != nil || !st.IsDir() {
		return fmt.Sprintf("the folder %s does not exist", filepath.Dir(p))
	}
	return ""
}

// rewatchOpenClaw follows OpenClaw's config again after its path or the gateway's address
// changed: the watcher is made anew and the status re-read.
func (a *App) rewatchOpenClaw(ctx context.Context) {
	a.ocMu.Lock()
	w := a.ocWatch
	a.ocWatch = nil
	a.ocMu.Unlock()
	if w != nil {
		w.Close()
	}
	a.refreshOpenClaw(ctx)
	a.publish()
}
