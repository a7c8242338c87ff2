package app

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package when goroutines outlive its tests (watchers, the gateway, the writer).
// The keychain's D-Bus session connection is go-keyring's, shared for the life of the process.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreAnyFunction("github.com/godbus/dbus/v5.(*Conn).inWorker"),
		goleak.IgnoreTopFunction("github.com/godbus/dbus/v5.newConn.func1"))
}
