package ui

import (
	"fyne.io/fyne/v2"

	"github.com/clawgate/clawgate/assets"
)

// Static resources are created once: Fyne caches rendered images by resource name.
var (
	appIcon   = fyne.NewStaticResource("clawgate.png", assets.Icon)
	trayIcons = map[iconState]fyne.Resource{
		iconOK:      fyne.NewStaticResource("tray-ok.png", assets.TrayOK),
		iconWarn:    fyne.NewStaticResource("tray-warn.png", assets.TrayWarn),
		iconBlocked: fyne.NewStaticResource("tray-blocked.png", assets.TrayBlocked),
		iconPaused:  fyne.NewStaticResource("tray-paused.png", assets.TrayPaused),
		iconError:   fyne.NewStaticResource("tray-error.png", assets.TrayError),
	}
)

func trayResource(s iconState) fyne.Resource {
	if r, ok := trayIcons[s]; ok {
		return r
	}
	return trayIcons[iconError]
}
