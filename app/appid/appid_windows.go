package appid

import (
	"fmt"

	"golang.org/x/sys/windows/registry"
)

// Register records name and icon (a PNG or ICO file, "" for none) as what toasts sent under the
// AppUserModelID id show, in the user's registry (no administrator rights); it writes only values
// that differ.
func Register(id, name, icon string) error {
	k, _, err := registry.CreateKey(registry.CURRENT_USER, `Software\Classes\AppUserModelId\`+id,
		registry.QUERY_VALUE|registry.SET_VALUE)
	if err != nil {
		return fmt.Errorf("register %s for notifications: %w", id, err)
	}
	defer k.Close()
	for _, v := range [][2]string{{"DisplayName", name}, {"IconUri", icon}} {
		if v[1] == "" {
			continue
		}
		if old, _, err := k.GetStringValue(v[0]); err == nil && old == v[1] {
			continue
		}
		if err := k.SetStringValue(v[0], v[1]); err != nil {
			return fmt.Errorf("register %s for notifications: %s: %w", id, v[0], err)
		}
	}
	return nil
}

// Notify leaves notifications to Fyne's toast, which Register names.
func Notify(app, title, body string) bool { return false }
