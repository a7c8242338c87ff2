package ui

import (
	"errors"
	"strings"
	"sync/atomic"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/clawgate/clawgate/app"
)

// secretService is what the Keys tab shows and edits (*app.App implements it): the master key and
// the provider keys in the keychain. The keychain calls block (a locked keychain asks the user):
// they are made off the Fyne goroutine.
type secretService interface {
	MasterKey() string
	ProviderKeys() ([]app.ProviderKey, error)
	SetProviderKey(name, secret string) error
	DeleteProviderKey(name string) error
}

// errEmpty marks a form field that must be filled.
var errEmpty = errors.New("required")

// tabKeys is the Keys tab, added after the others when the service has secrets to show.
const tabKeys = tabRoutes + 1

// secretsRead is one read of the master key and the keychain's provider keys.
type secretsRead struct {
	master string
	keys   []app.ProviderKey
	err    error
}

// keysTab shows the master key (masked, with Copy) and the provider keys in the keychain.
type keysTab struct {
	rw     *activityWindow
	svc    secretService
	last   secretsRead
	master *widget.Label
	copy   *widget.Button
	regen  *widget.Button // nil without masterRegenerator (masterregen.go)
	table  *itemTable
	rows   [][]string

	set, replace, del *widget.Button
	status            *widget.Label
	selected          string // the selected key's name
	// stale asks the next read to read the keychain too: when the window opens, the tab is
	// chosen, or a key changed. Ticks leave it alone (a keychain call is a D-Bus round trip, and
	// a locked keychain would ask for the password).
	stale atomic.Bool
}

func (rw *activityWindow) enableSecrets(svc secretService) {
	kt := &keysTab{rw: rw, svc: svc}
	kt.stale.Store(true)
	rw.keys = kt
	kt.master = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})
	kt.copy = widget.NewButtonWithIcon("Copy", theme.ContentCopyIcon(), func() {
		if kt.last.master != "" {
			fyne.CurrentApp().Clipboard().SetContent(kt.last.master)
			kt.status.SetText("Master key copied.")
		}
	})
	kt.table = newItemTable([]string{"Keychain name", "Used by"}, []bool{false, true}, func(row int) {
		kt.selected = ""
		if row >= 0 && row < len(kt.last.keys) {
			kt.selected = kt.last.keys[row].Name
		}
		kt.buttons()
	})
	kt.set = widget.NewButtonWithIcon("Set…", theme.ContentAddIcon(), func() { kt.openSetForm("") })
	replace := widget.NewButton("Replace…", func() { kt.openSetForm(kt.selected) })
	kt.del = widget.NewButtonWithIcon("Delete…", theme.DeleteIcon(), kt.confirmDelete)
	kt.status = widget.NewLabel("Provider keys live in the system keychain; routes name them as keychain/NAME.")
	kt.status.Truncation = fyne.TextTruncateEllipsis
	kt.replace = replace
	kt.buttons()
	masterRow := container.NewBorder(nil, nil,
		widget.NewLabelWithStyle("Master key", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), kt.masterButtons(), kt.master)
	note := widget.NewLabel("Clients send the master key (or a virtual key) as their API key; it can call every model and the admin API.")
	note.Wrapping = fyne.TextWrapWord
	top := container.NewPadded(container.NewVBox(masterRow, note, widget.NewSeparator(),
		widget.NewLabelWithStyle("Provider keys", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})))
	bar := container.NewPadded(container.NewVBox(kt.status, container.NewHBox(kt.set, layout.NewSpacer(), replace, kt.del)))
	rw.tabs.Append(container.NewTabItem("Keys", container.NewBorder(top, bar, nil, nil, kt.table.object())))
	prev := rw.tabs.OnSelected
	rw.tabs.OnSelected = func(ti *container.TabItem) {
		if prev != nil {
			prev(ti)
		}
		if rw.tabs.SelectedIndex() == tabKeys && rw.visible {
			kt.reread()
		}
	}
}

// reread reads the keychain again with the next read, and starts one.
func (kt *keysTab) reread() {
	kt.stale.Store(true)
	kt.rw.refresh()
}

func (kt *keysTab) buttons() {
	if kt.selected == "" {
		kt.del.Disable()
		kt.replace.Disable()
	} else {
		kt.del.Enable()
		kt.replace.Enable()
	}
}

// read reads the master key and the keychain; off the Fyne goroutine.
func (kt *keysTab) read() secretsRead {
	keys, err := kt.svc.ProviderKeys()
	return secretsRead{master: kt.svc.MasterKey(), keys: keys, err: err}
}

// show puts a read on screen; Fyne goroutine.
func (kt *keysTab) show(r secretsRead) {
	kt.last = r
	kt.master.SetText(maskSecret(r.master))
	if r.master == "" {
		kt.master.SetText("none: the gateway accepts any key, on loopback only")
		kt.copy.Disable()
	} else {
		kt.copy.Enable()
	}
	if r.err != nil {
		kt.status.SetText("Cannot read the keychain: " + r.err.Error())
	}
	kt.rows = nil
	names := make([]string, 0, len(r.keys))
	for _, k := range r.keys {
		used := "no route"
		if len(k.Routes) > 0 {
			used = strings.Join(k.Routes, ", ")
		}
		kt.rows = append(kt.rows, []string{k.Name, used})
		names = append(names, k.Name)
	}
	kt.table.setRows(kt.rows, names)
}

// maskSecret shows a secret's kind and last four characters only.
func maskSecret(s string) string {
	if len(s) <= 8 {
		return strings.Repeat("•", len(s))
	}
	return s[:3] + strings.Repeat("•", 12) + s[len(s)-4:]
}

// openSetForm stores a key under a name (name "" asks for one; else it is replaced).
func (kt *keysTab) openSetForm(name string) {
	n := widget.NewEntry()
	n.SetText(name)
	n.SetPlaceHolder("e.g. openai")
	secret := widget.NewPasswordEntry()
	secret.SetPlaceHolder("paste the provider's API key")
	items := []*widget.FormItem{widget.NewFormItem("Name", n), widget.NewFormItem("Key", secret)}
	if name != "" {
		n.Disable()
	}
	n.Validator = func(s string) error {
		if s == "" {
			return errEmpty
		}
		return nil
	}
	secret.Validator = n.Validator
	showForm("Provider key", items, func(ok bool) {
		if !ok {
			return
		}
		nm, sec := strings.TrimSpace(n.Text), secret.Text
		var err error
		kt.rw.background(func() { err = kt.svc.SetProviderKey(nm, sec) }, func() {
			if err != nil {
				kt.status.SetText("Not saved: " + err.Error())
				return
			}
			kt.status.SetText(nm + " stored in the keychain.")
			kt.reread()
		})
	}, kt.rw.w)
}

func (kt *keysTab) confirmDelete() {
	name := kt.selected
	if name == "" {
		return
	}
	dialog.ShowConfirm("Delete "+name+"?", "The key is removed from the keychain.", func(ok bool) {
		if !ok {
			return
		}
		var err error
		kt.rw.background(func() { err = kt.svc.DeleteProviderKey(name) }, func() {
			if err != nil {
				kt.status.SetText("Not deleted: " + err.Error())
				return
			}
			kt.status.SetText(name + " deleted from the keychain.")
			kt.reread()
		})
	}, kt.rw.w)
}
