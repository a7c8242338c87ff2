package ui

import (
	"os"
	"path/filepath"

	"github.com/clawgate/clawgate/assets"
)

// iconFile writes the app icon where the notification daemon (or Windows' toasts) can read it
// ("" if it cannot).
func iconFile() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	p := filepath.Join(dir, "clawgate", "clawgate.png")
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return ""
	}
	if err := os.WriteFile(p, assets.Icon, 0o600); err != nil {
		return ""
	}
	return p
}
