package app

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package when goroutines outlive its tests (watchers, the gateway, the writer).
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
