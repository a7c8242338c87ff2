//go:build !darwin && !windows

package autostart

import (
	"os"
	"path/filepath"
	"strings"
)

// entryPath is $XDG_CONFIG_HOME/autostart/clawgate.desktop (default ~/.config), per the XDG
// Autostart specification.
func entryPath() (string, error) {
	dir := os.Getenv("XDG_CONFIG_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", err
		}
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "autostart", "clawgate.desktop"), nil
}

// content is a desktop entry; the Exec path is quoted as the Desktop Entry spec asks.
func content(exe string) []byte {
	quoted := `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "`", "\\`", "$", `\$`).Replace(exe) + `"`
	return []byte("[Desktop Entry]\nType=Application\nName=Clawgate\nComment=LLM gateway for OpenClaw in your tray\n" +
		"Exec=" + quoted + "\nIcon=clawgate\nTerminal=false\nX-GNOME-Autostart-enabled=true\n")
}
