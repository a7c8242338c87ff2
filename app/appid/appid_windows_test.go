package appid

import (
	"testing"

	"golang.org/x/sys/windows/registry"
)

// Runs on Windows only: the name lands where the toast platform reads it, and a second call with
// the same values changes nothing.
func TestRegisterWritesTheDisplayName(t *testing.T) {
	id := "dev.clawgate.test-" + t.Name()
	path := `Software\Classes\AppUserModelId\` + id
	t.Cleanup(func() { registry.DeleteKey(registry.CURRENT_USER, path) })
	for range 2 {
		if err := Register(id, "Clawgate", `C:\icon.png`); err != nil {
			t.Fatal(err)
		}
	}
	k, err := registry.OpenKey(registry.CURRENT_USER, path, registry.QUERY_VALUE)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	for name, want := range map[string]string{"DisplayName": "Clawgate", "IconUri": `C:\icon.png`} {
		if got, _, err := k.GetStringValue(name); err != nil || got != want {
			t.Errorf("%s = %q (%v), want %q", name, got, err, want)
		}
	}
}
