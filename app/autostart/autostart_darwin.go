package autostart

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
)

// entryPath is the user's LaunchAgent for the app id.
func entryPath() (string, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(home, "Library", "LaunchAgents", "dev.clawgate.app.plist"), nil
}

// content is a LaunchAgent that runs the binary once at login.
func content(exe string) []byte {
	var esc strings.Builder
	xml.EscapeText(&esc, []byte(exe))
	return []byte(`<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>Label</key><string>dev.clawgate.app</string>
	<key>ProgramArguments</key><array><string>` + esc.String() + `</string></array>
	<key>RunAtLoad</key><true/>
	<key>ProcessType</key><string>Interactive</string>
</dict>
</plist>
`)
}
