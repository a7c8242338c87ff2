package keychain

import (
	"errors"
	"fmt"
	"net"
	"runtime"
	"strings"
	"time"

	"github.com/zalando/go-keyring"
)

// unavailableError says there is no keychain to talk to, why, and what to do about it.
type unavailableError struct {
	reason string
	cause  error
}

func (e *unavailableError) Error() string {
	msg := fmt.Sprintf("%v: %s", ErrUnavailable, e.reason)
	if e.cause != nil {
		msg += " (" + e.cause.Error() + ")"
	}
	return msg + "; " + fixHint()
}

func (e *unavailableError) Is(target error) bool { return target == ErrUnavailable }
func (e *unavailableError) Unwrap() error        { return e.cause }

// fixHint is the advice appended to every ErrUnavailable. Secrets are never written to a file
// instead, so the way out is a keychain or environment variables.
func fixHint() string {
	const env = "or write os.environ/VAR references in config.yaml instead of keychain/NAME"
	switch runtime.GOOS {
	case "darwin":
		return "unlock the login keychain (security unlock-keychain), " + env
	case "windows":
		return "check that the Credential Manager service is running, " + env
	}
	return "on Linux, install and start a Secret Service (gnome-keyring or KeePassXC) in a desktop session, " + env
}

// timeoutError is a keychain call that never answered, typically waiting on an unlock prompt.
type timeoutError struct{ after time.Duration }

func (e *timeoutError) Error() string {
	return fmt.Sprintf("the keychain did not answer within %v", e.after)
}

// unavailable maps the errors go-keyring and godbus return when there is no usable keychain to an
// unavailableError, and anything else to nil. godbus has no typed errors for these, so this
// matches their messages, which are stable across the versions we use.
func unavailable(err error) error {
	var u *unavailableError
	if errors.As(err, &u) {
		return u
	}
	var t *timeoutError
	if errors.As(err, &t) {
		return &unavailableError{reason: t.Error() + ", perhaps a locked keyring is waiting for an unlock prompt nobody can see"}
	}
	msg := err.Error()
	var op *net.OpError
	switch {
	case errors.Is(err, keyring.ErrUnsupportedPlatform):
		return &unavailableError{reason: "go-keyring has no keychain for this platform", cause: err}
	case errors.As(err, &op),
		strings.Contains(msg, "failed to dial"),
		strings.Contains(msg, "couldn't determine address of session bus"),
		strings.Contains(msg, "dbus-launch"),
		strings.Contains(msg, "dbus: authentication failed"):
		return &unavailableError{reason: "no D-Bus session bus is reachable", cause: err}
	case strings.Contains(msg, "org.freedesktop.secrets was not provided"),
		strings.Contains(msg, "org.freedesktop.DBus.Error.ServiceUnknown"):
		return &unavailableError{reason: "the D-Bus session bus has no Secret Service (org.freedesktop.secrets)", cause: err}
	case strings.Contains(msg, "failed to unlock correct collection"):
		return &unavailableError{reason: "the Secret Service has no unlocked default keyring and could not unlock one", cause: err}
	case strings.Contains(msg, "User interaction is not allowed"):
		return &unavailableError{reason: "the macOS keychain is locked and cannot prompt here", cause: err}
	}
	return nil
}
