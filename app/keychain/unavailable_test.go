package keychain

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/zalando/go-keyring"
)

// childEnv makes the test binary act as a keychain client instead of running tests: the parent
// (TestUnavailable) re-executes it with DBUS_SESSION_BUS_ADDRESS pointing at a bus of its choice.
// A new process is needed because godbus keeps its session bus connection for the process's life.
const childEnv = "CLAWGATE_KEYCHAIN_TEST_CHILD"

// childSecret is what the child tries to store; the parent checks no error message contains it.
const childSecret = "sk-child-secret-that-must-not-leak"

// childResult is one Store call made by the child.
type childResult struct {
	Op          string `json:"op"`
	Err         string `json:"err"`
	Unavailable bool   `json:"unavailable"`
}

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(runChild())
	}
	os.Exit(m.Run())
}

func runChild() int {
	s := &Store{service: Service + "-test-child", kr: osKeyring{}, timeout: 30 * time.Second, precheck: sessionBusCheck}
	record := func(op string, err error) childResult {
		r := childResult{Op: op, Unavailable: errors.Is(err, ErrUnavailable)}
		if err != nil {
			r.Err = err.Error()
		}
		return r
	}
	_, getErr := s.Get("openai")
	_, listErr := s.List()
	_, _, mkErr := MasterKey(s, func() string { return childSecret })
	_, _, refErr := Resolve("keychain/openai", s)
	results := []childResult{
		record("get", getErr),
		record("set", s.Set("openai", childSecret)),
		record("delete", s.Delete("openai")),
		record("list", listErr),
		record("masterkey", mkErr),
		record("resolve", refErr),
	}
	if err := json.NewEncoder(os.Stdout).Encode(results); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// TestUnavailableMapping checks the mapping from go-keyring's and godbus's errors, as they read on
// this go-keyring version, to ErrUnavailable. TestUnavailable provokes the real ones on Linux.
func TestUnavailableMapping(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		reason string // "" when the error is not an unavailability
	}{
		{"dial", &net.OpError{Op: "dial", Net: "unix", Err: errors.New("connect: no such file or directory")}, "no D-Bus session bus"},
		{"failed to dial", errors.New("dbus: failed to dial session bus"), "no D-Bus session bus"},
		{"no address", errors.New("dbus: couldn't determine address of session bus"), "no D-Bus session bus"},
		{"no dbus-launch", errors.New(`exec: "dbus-launch": executable file not found in $PATH`), "no D-Bus session bus"},
		{"no secret service", errors.New("The name org.freedesktop.secrets was not provided by any .service files"), "no Secret Service"},
		{"locked", errors.New("failed to unlock correct collection '/org/freedesktop/secrets/aliases/default'"), "no unlocked default keyring"},
		{"unsupported platform", keyring.ErrUnsupportedPlatform, "no keychain for this platform"},
		{"timeout", &timeoutError{after: time.Second}, "did not answer within 1s"},
		{"not found", keyring.ErrNotFound, ""},
		{"other", errors.New("org.freedesktop.DBus.Error.AccessDenied"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := wrap("get", "openai", tt.err)
			if tt.reason == "" {
				if errors.Is(err, ErrUnavailable) {
					t.Fatalf("%v mapped to ErrUnavailable", tt.err)
				}
				return
			}
			if !errors.Is(err, ErrUnavailable) {
				t.Fatalf("%v not mapped to ErrUnavailable: %v", tt.err, err)
			}
			for _, want := range []string{tt.reason, `keychain: get "openai"`, "os.environ/VAR"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("%q does not contain %q", err, want)
				}
			}
		})
	}
}
