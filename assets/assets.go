// Package assets embeds Clawgate's icons as PNG bytes. It stays free of Fyne so that any package can
// use them; the ui wraps them in fyne resources. The PNGs are drawn by scripts/genicons
// (go run scripts/genicons/main.go) and committed.
package assets

import _ "embed"

// Icon is the 256x256 application icon.
//
//go:embed icon.png
var Icon []byte

// Tray icons, 64x64, one per state.
var (
	//go:embed tray-ok.png
	TrayOK []byte
	//go:embed tray-warn.png
	TrayWarn []byte
	//go:embed tray-blocked.png
	TrayBlocked []byte
	//go:embed tray-paused.png
	TrayPaused []byte
	//go:embed tray-error.png
	TrayError []byte
)
