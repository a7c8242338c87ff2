//go:build ignore

// Command fyneidle is the baseline of the idle bench (scripts/idle-bench.sh): an empty Fyne app
// with a tray icon and a one-item menu, no window, nothing else. What it costs at rest is what Fyne
// itself costs, the floor the tray app is measured against.
// Build it with: go build -o bin/fyneidle scripts/fyneidle/main.go
package main

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
)

func main() {
	a := app.NewWithID("dev.clawgate.fyneidle")
	d, ok := a.(desktop.App)
	if !ok {
		panic("fyneidle: this driver has no system tray")
	}
	d.SetSystemTrayIcon(theme.FyneLogo())
	d.SetSystemTrayMenu(fyne.NewMenu("fyneidle", fyne.NewMenuItem("Hello", func() {})))
	a.Run()
}
