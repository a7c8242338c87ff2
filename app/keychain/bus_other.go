//go:build !((dragonfly && cgo) || (freebsd && cgo) || linux || netbsd || openbsd)

package keychain

// sessionBusCheck has nothing to check where the keychain is not reached over D-Bus.
func sessionBusCheck() error { return nil }
