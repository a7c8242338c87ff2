// Package keychain keeps Clawgate's secrets (provider API keys, the master key) in the OS keychain
// through go-keyring: the Secret Service on Linux, Keychain on macOS, the Credential Manager on
// Windows. It never falls back to a plain file: where no keychain exists it says so and how to fix
// it, and config.yaml can use os.environ/VAR references instead.
//
// go-keyring cannot list items, so the Store keeps the names it wrote in one reserved item
// (IndexName), a JSON array of names.
package keychain

import (
	"errors"
	"fmt"
	"regexp"
	"sync"
	"time"

	"github.com/zalando/go-keyring"
)

// Service is the keychain service every Clawgate secret is stored under.
const Service = "clawgate"

// IndexName is the reserved item holding the JSON array of stored names. Names starting with "_"
// are reserved for such bookkeeping.
const IndexName = "_index"

// MaxSecretBytes is the largest secret Set accepts. Windows' Credential Manager takes 2560 bytes
// and macOS's keychain a little under 3000 once go-keyring has base64-encoded it; the smaller
// limit everywhere means a secret that works on one machine works on all of them.
const MaxSecretBytes = 2560

// DefaultTimeout bounds one keychain operation. A locked keyring may show an unlock prompt, which
// deserves time, but a prompt nobody can see must not hang the gateway forever.
const DefaultTimeout = 2 * time.Minute

var (
	// ErrNotFound is wrapped when no secret has the name. It is go-keyring's own sentinel, so
	// errors.Is works with either.
	ErrNotFound = keyring.ErrNotFound
	// ErrUnavailable is wrapped when there is no keychain to talk to (no D-Bus session bus, no
	// Secret Service on it, a keyring that cannot be unlocked, no answer).
	ErrUnavailable = errors.New("keychain unavailable")
	// ErrInvalidName is wrapped when a name is not 1-64 of [A-Za-z0-9_.-] or is reserved.
	ErrInvalidName = errors.New("invalid secret name")
	// ErrTooLarge is wrapped when a secret exceeds MaxSecretBytes (or the OS keychain's own limit).
	ErrTooLarge = errors.New("secret too large")
)

var nameRE = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

// backend is the part of go-keyring the Store uses; tests swap in one that never answers.
type backend interface {
	Get(service, user string) (string, error)
	Set(service, user, secret string) error
	Delete(service, user string) error
}

type osKeyring struct{}

func (osKeyring) Get(service, user string) (string, error) { return keyring.Get(service, user) }
func (osKeyring) Set(service, user, secret string) error   { return keyring.Set(service, user, secret) }
func (osKeyring) Delete(service, user string) error        { return keyring.Delete(service, user) }

// Store reads and writes secrets in the OS keychain. It is safe for concurrent use; the name index
// is updated under a lock, which serialises writers in this process only.
type Store struct {
	service  string
	kr       backend
	timeout  time.Duration
	precheck func() error // reports a missing session bus before go-keyring would autolaunch one

	mu sync.Mutex // guards the index's read-modify-write
}

// New returns a Store over the OS keychain under Service.
func New() *Store {
	return &Store{service: Service, kr: osKeyring{}, timeout: DefaultTimeout, precheck: sessionBusCheck}
}

// Get returns the secret stored under name. The error wraps ErrNotFound, ErrUnavailable or
// ErrInvalidName as the case may be.
func (s *Store) Get(name string) (string, error) {
	if err := checkName(name); err != nil {
		return "", fmt.Errorf("keychain: get: %w", err)
	}
	var v string
	err := s.call(func() error {
		var err error
		v, err = s.kr.Get(s.service, name)
		return err
	})
	if err != nil {
		return "", wrap("get", name, err)
	}
	return v, nil
}

// Set stores secret under name, replacing any previous one, and records name in the index.
func (s *Store) Set(name, secret string) error {
	if err := checkName(name); err != nil {
		return fmt.Errorf("keychain: set: %w", err)
	}
	if err := checkSecret(secret); err != nil {
		return fmt.Errorf("keychain: set %q: %w", name, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.call(func() error { return s.kr.Set(s.service, name, secret) }); err != nil {
		return wrap("set", name, err)
	}
	if err := s.updateIndex(name, true); err != nil {
		return fmt.Errorf("keychain: set %q: the secret is stored but the name index was not updated: %w", name, err)
	}
	return nil
}

// Delete removes the secret under name and drops name from the index. A name that is in the index
// but no longer in the keychain (deleted by another tool) is dropped without error; a name that is
// in neither gives ErrNotFound.
func (s *Store) Delete(name string) error {
	if err := checkName(name); err != nil {
		return fmt.Errorf("keychain: delete: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.call(func() error { return s.kr.Delete(s.service, name) })
	if err != nil && !errors.Is(err, keyring.ErrNotFound) {
		return wrap("delete", name, err)
	}
	missing := err != nil
	names, _, ierr := s.readIndex()
	if ierr != nil {
		return fmt.Errorf("keychain: delete %q: reading the name index: %w", name, ierr)
	}
	if missing && !contains(names, name) {
		return wrap("delete", name, err)
	}
	if ierr := s.updateIndex(name, false); ierr != nil {
		return fmt.Errorf("keychain: delete %q: the secret is gone but the name index was not updated: %w", name, ierr)
	}
	return nil
}

// List returns the stored names, sorted. It reads only the index, never the secrets, so names of
// items removed behind Clawgate's back stay listed until Delete is called for them. A missing or
// corrupt index lists nothing and is rewritten by the next Set.
func (s *Store) List() ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	names, _, err := s.readIndex()
	if err != nil {
		return nil, fmt.Errorf("keychain: list: %w", err)
	}
	if names == nil {
		names = []string{}
	}
	return names, nil
}

// call runs one keychain operation, bounded by the Store's timeout. On timeout the operation's
// goroutine is left behind, blocked in D-Bus; there is no way to cancel it.
func (s *Store) call(op func() error) error {
	if s.precheck != nil {
		if err := s.precheck(); err != nil {
			return err
		}
	}
	done := make(chan error, 1)
	go func() { done <- op() }()
	timer := time.NewTimer(s.timeout)
	defer timer.Stop()
	select {
	case err := <-done:
		return err
	case <-timer.C:
		return &timeoutError{after: s.timeout}
	}
}

func checkName(name string) error {
	// The name is not echoed: a user who pastes the secret where the name goes must not see it
	// printed back in an error or a log.
	if !nameRE.MatchString(name) {
		return fmt.Errorf("%w: want 1 to 64 of A-Z a-z 0-9 _ . - (got %d bytes)", ErrInvalidName, len(name))
	}
	if name[0] == '_' {
		return fmt.Errorf("%w: names starting with _ are reserved for Clawgate's bookkeeping", ErrInvalidName)
	}
	return nil
}

func checkSecret(secret string) error {
	if secret == "" {
		return errors.New("empty secret")
	}
	if len(secret) > MaxSecretBytes {
		return fmt.Errorf("%w: %d bytes, the OS keychains take at most %d", ErrTooLarge, len(secret), MaxSecretBytes)
	}
	return nil
}

// wrap turns a go-keyring error into one of this package's, naming the operation and the item.
func wrap(op, name string, err error) error {
	return fmt.Errorf("keychain: %s %q: %w", op, name, classify(err))
}

// classify maps go-keyring's errors to this package's sentinels.
func classify(err error) error {
	switch {
	case errors.Is(err, keyring.ErrNotFound):
		return ErrNotFound
	case errors.Is(err, keyring.ErrSetDataTooBig):
		return fmt.Errorf("%w: %w", ErrTooLarge, err)
	}
	if u := unavailable(err); u != nil {
		return u
	}
	return err
}
