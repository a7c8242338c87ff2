package autostart

import (
	"errors"
	"os"
	"path/filepath"
)

// entryPath is a command file in the user's Startup folder, which Explorer runs at login.
func entryPath() (string, error) {
	appData := os.Getenv("APPDATA")
	if appData == "" {
		return "", errors.New("APPDATA is not set")
	}
	return filepath.Join(appData, "Microsoft", "Windows", "Start Menu", "Programs", "Startup", "Clawgate.cmd"), nil
}

// content starts the binary without keeping a console window open.
func content(exe string) []byte {
	return []byte("@echo off\r\nstart \"\" \"" + exe + "\"\r\n")
}
