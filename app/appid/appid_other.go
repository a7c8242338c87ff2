//go:build !windows && !darwin

package appid

// Register does nothing here: the notification carries the name.
func Register(id, name, icon string) error { return nil }

// Notify leaves notifications to the caller here.
func Notify(app, title, body string) bool { return false }
