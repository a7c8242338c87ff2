package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// masterRegenerator is the Keys tab's Regenerate (*app.App implements it); it writes the keychain,
// so it runs off the Fyne goroutine.
type masterRegenerator interface {
	RegenerateMasterKey() (string, error)
}

// regenWarning says what a new master key breaks before it is made.
const regenWarning = "Every client that sends the current master key (scripts, tools, another Clawgate) is refused " +
	"from now on, until you give it the new one. Virtual keys, OpenClaw's included, keep working."

// regenerateButton is the master key's Regenerate…, nil when the service cannot.
func (kt *keysTab) regenerateButton() *widget.Button {
	mr, ok := kt.svc.(masterRegenerator)
	if !ok {
		return nil
	}
	kt.regen = widget.NewButtonWithIcon("Regenerate…", theme.ViewRefreshIcon(), func() {
		dialog.ShowConfirm("Regenerate the master key?", regenWarning, func(yes bool) {
			if !yes {
				return
			}
			var err error
			kt.rw.background(func() { _, err = mr.RegenerateMasterKey() }, func() {
				if err != nil {
					kt.status.SetText("Master key not changed: " + err.Error())
					return
				}
				kt.status.SetText("New master key in force; Copy it for your clients.")
				kt.reread()
			})
		}, kt.rw.w)
	})
	return kt.regen
}

// masterButtons are Copy and, where the service can, Regenerate….
func (kt *keysTab) masterButtons() fyne.CanvasObject {
	if b := kt.regenerateButton(); b != nil {
		return container.NewHBox(kt.copy, b)
	}
	return kt.copy
}
