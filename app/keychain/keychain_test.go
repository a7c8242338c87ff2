package keychain

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zalando/go-keyring"
)

// These tests talk to a real keychain. Each test gets its own service name ("clawgate-test-<run
// id>-<n>"), so a run never touches the user's real "clawgate" items, their index included, and
// everything it wrote is deleted at the end.

var (
	runID    = randomID()
	storeSeq atomic.Int64
)

func randomID() string {
	b := make([]byte, 4)
	rand.Read(b)
	return hex.EncodeToString(b)
}

const howToRun = "these tests need a real keychain: a Secret Service on a D-Bus session bus. " +
	"Run them as `bash scripts/with-session.sh go test -race ./app/keychain/`, which starts a throwaway " +
	"gnome-keyring (`make deps` installs dbus, dbus-x11, gnome-keyring, xvfb)"

// newTestStore returns a Store over the real keychain under a service of its own, and fails the
// test, loudly, when there is no keychain to talk to.
func newTestStore(t *testing.T) *Store {
	t.Helper()
	s := &Store{
		service:  fmt.Sprintf("%s-test-%s-%d", Service, runID, storeSeq.Add(1)),
		kr:       osKeyring{},
		timeout:  30 * time.Second,
		precheck: sessionBusCheck,
	}
	if _, err := s.List(); err != nil {
		t.Fatalf("%s\nkeychain error: %v", howToRun, err)
	}
	t.Cleanup(func() {
		if err := keyring.DeleteAll(s.service); err != nil {
			t.Errorf("cleaning up service %s: %v", s.service, err)
		}
	})
	return s
}

// testName prefixes name with the run id, so items are recognisable if a cleanup is ever missed.
func testName(name string) string { return "t" + runID + "-" + name }

// rawIndex is the index item as stored, or "" when there is none.
func rawIndex(t *testing.T, s *Store) string {
	t.Helper()
	v, err := keyring.Get(s.service, IndexName)
	if errors.Is(err, keyring.ErrNotFound) {
		return ""
	}
	if err != nil {
		t.Fatalf("reading raw index: %v", err)
	}
	return v
}

func mustList(t *testing.T, s *Store, want ...string) {
	t.Helper()
	got, err := s.List()
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if want == nil {
		want = []string{}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("List = %q, want %q", got, want)
	}
}

func TestNew(t *testing.T) {
	s := New()
	if s.service != "clawgate" || Service != "clawgate" {
		t.Errorf("service = %q, want clawgate", s.service)
	}
	if _, ok := s.kr.(osKeyring); !ok || s.timeout != DefaultTimeout || s.precheck == nil {
		t.Errorf("New() = %+v, want the OS keyring with the default timeout and the bus check", s)
	}
}

func TestRoundTrip(t *testing.T) {
	s := newTestStore(t)
	openai, anthropic := testName("openai"), testName("anthropic")

	if _, err := s.Get(openai); !errors.Is(err, ErrNotFound) || !errors.Is(err, keyring.ErrNotFound) {
		t.Fatalf("Get before Set: err = %v, want ErrNotFound", err)
	}
	mustList(t, s)

	for name, secret := range map[string]string{openai: "sk-openai-1", anthropic: "sk-ant-1"} {
		if err := s.Set(name, secret); err != nil {
			t.Fatalf("Set(%s): %v", name, err)
		}
	}
	mustList(t, s, anthropic, openai)

	// Replacing a secret keeps one item and one index entry.
	if err := s.Set(openai, "sk-openai-2"); err != nil {
		t.Fatalf("Set again: %v", err)
	}
	if got, err := s.Get(openai); err != nil || got != "sk-openai-2" {
		t.Fatalf("Get after replace = %q, %v; want sk-openai-2", got, err)
	}
	mustList(t, s, anthropic, openai)
	var idx []string
	if err := json.Unmarshal([]byte(rawIndex(t, s)), &idx); err != nil || !slices.Equal(idx, []string{anthropic, openai}) {
		t.Fatalf("stored index = %q (%v), want a JSON array of both names", rawIndex(t, s), err)
	}

	if err := s.Delete(openai); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := s.Get(openai); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after Delete: err = %v, want ErrNotFound", err)
	}
	if err := s.Delete(openai); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second Delete: err = %v, want ErrNotFound", err)
	}
	mustList(t, s, anthropic)
	if got, err := s.Get(anthropic); err != nil || got != "sk-ant-1" {
		t.Fatalf("the other secret: Get = %q, %v", got, err)
	}

	if err := s.Delete(anthropic); err != nil {
		t.Fatalf("Delete last: %v", err)
	}
	mustList(t, s)
	if raw := rawIndex(t, s); raw != "" {
		t.Errorf("index left behind with no names: %q", raw)
	}
}

func TestSecretValues(t *testing.T) {
	s := newTestStore(t)
	tests := []struct {
		name, secret string
	}{
		{"unicode", "clé-секрет-鍵-🔑"},
		{"whitespace", "  leading and trailing spaces, a tab\tand\nnewlines\n"},
		{"shell-chars", `'"$(rm -rf /)` + "`;|&<>\\"},
		{"one-byte", "x"},
		{"at-limit", strings.Repeat("é", MaxSecretBytes/2)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := testName(tt.name)
			if err := s.Set(name, tt.secret); err != nil {
				t.Fatalf("Set: %v", err)
			}
			got, err := s.Get(name)
			if err != nil {
				t.Fatalf("Get: %v", err)
			}
			if got != tt.secret {
				t.Fatalf("round trip changed the secret: got %q, want %q", got, tt.secret)
			}
		})
	}
}

func TestRejects(t *testing.T) {
	s := newTestStore(t)
	const secret = "sk-this-must-never-be-printed"
	tests := []struct {
		name, item, secret string
		want               error
	}{
		{"empty name", "", secret, ErrInvalidName},
		{"65 chars", strings.Repeat("a", 65), secret, ErrInvalidName},
		{"space", "my key", secret, ErrInvalidName},
		{"slash", "openai/prod", secret, ErrInvalidName},
		{"non-ascii", "clé", secret, ErrInvalidName},
		{"reserved index", IndexName, secret, ErrInvalidName},
		{"reserved prefix", "_mine", secret, ErrInvalidName},
		{"secret as name", "sk-this must-never-be-printed", secret, ErrInvalidName},
		{"oversize secret", "big", strings.Repeat("s", MaxSecretBytes+1), ErrTooLarge},
		{"oversize unicode secret", "big2", strings.Repeat("🔑", MaxSecretBytes/4+1), ErrTooLarge},
		{"empty secret", "empty", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.Set(tt.item, tt.secret)
			if err == nil || (tt.want != nil && !errors.Is(err, tt.want)) {
				t.Fatalf("Set: err = %v, want %v", err, tt.want)
			}
			if strings.Contains(err.Error(), "never-be-printed") || (len(tt.secret) > 0 && strings.Contains(err.Error(), tt.secret)) {
				t.Fatalf("Set's error leaks the secret: %v", err)
			}
			if tt.want == ErrInvalidName {
				if _, err := s.Get(tt.item); !errors.Is(err, ErrInvalidName) {
					t.Errorf("Get: err = %v, want ErrInvalidName", err)
				}
				if err := s.Delete(tt.item); !errors.Is(err, ErrInvalidName) {
					t.Errorf("Delete: err = %v, want ErrInvalidName", err)
				}
			}
		})
	}
	t.Run("64 chars is fine", func(t *testing.T) {
		name := testName(strings.Repeat("a", 64-len(testName(""))))
		if err := s.Set(name, "v"); err != nil {
			t.Fatalf("Set(%d-char name): %v", len(name), err)
		}
	})
	// Nothing rejected reached the keychain.
	if _, err := keyring.Get(s.service, "big"); !errors.Is(err, keyring.ErrNotFound) {
		t.Errorf("oversize secret was stored: %v", err)
	}
	mustList(t, s, testName(strings.Repeat("a", 64-len(testName("")))))
}

func TestIndexRepair(t *testing.T) {
	t.Run("corrupt index lists nothing and is rewritten by Set", func(t *testing.T) {
		s := newTestStore(t)
		if err := keyring.Set(s.service, IndexName, "{not json"); err != nil {
			t.Fatal(err)
		}
		mustList(t, s)
		a := testName("a")
		if err := s.Set(a, "va"); err != nil {
			t.Fatalf("Set over a corrupt index: %v", err)
		}
		mustList(t, s, a)
		if raw := rawIndex(t, s); raw != `["`+a+`"]` {
			t.Fatalf("index not rewritten: %q", raw)
		}
	})
	t.Run("bad entries are dropped", func(t *testing.T) {
		s := newTestStore(t)
		a, b := testName("a"), testName("b")
		if err := keyring.Set(s.service, IndexName, `["`+b+`","`+a+`","`+a+`","../x","","_index"]`); err != nil {
			t.Fatal(err)
		}
		mustList(t, s, a, b)
		// A write that changes nothing in the names still repairs the stored index.
		if err := s.Set(a, "va"); err != nil {
			t.Fatal(err)
		}
		if raw := rawIndex(t, s); raw != `["`+a+`","`+b+`"]` {
			t.Fatalf("index not repaired: %q", raw)
		}
	})
	t.Run("missing index: items written elsewhere reappear when set again", func(t *testing.T) {
		s := newTestStore(t)
		a, b := testName("a"), testName("b")
		if err := keyring.Set(s.service, a, "va"); err != nil {
			t.Fatal(err)
		}
		mustList(t, s)
		if got, err := s.Get(a); err != nil || got != "va" {
			t.Fatalf("Get of an unindexed item = %q, %v", got, err)
		}
		if err := s.Set(b, "vb"); err != nil {
			t.Fatal(err)
		}
		mustList(t, s, b)
		if err := s.Set(a, "va"); err != nil {
			t.Fatal(err)
		}
		mustList(t, s, a, b)
	})
	t.Run("stale entry is removed by Delete", func(t *testing.T) {
		s := newTestStore(t)
		a := testName("a")
		if err := s.Set(a, "va"); err != nil {
			t.Fatal(err)
		}
		// Another tool (seahorse, secret-tool) deletes the item.
		if err := keyring.Delete(s.service, a); err != nil {
			t.Fatal(err)
		}
		mustList(t, s, a)
		if err := s.Delete(a); err != nil {
			t.Fatalf("Delete of a stale entry: %v", err)
		}
		mustList(t, s)
	})
}

func TestConcurrentSet(t *testing.T) {
	s := newTestStore(t)
	var want []string
	for i := range 12 {
		want = append(want, testName(fmt.Sprintf("k%02d", i)))
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(want))
	for _, name := range want {
		wg.Go(func() {
			if err := s.Set(name, "v-"+name); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent Set: %v", err)
	}
	mustList(t, s, want...)
}

func TestMasterKey(t *testing.T) {
	s := newTestStore(t)
	calls := 0
	gen := func() string { calls++; return "sk-" + runID + "-generated-master-key" }

	key, created, err := MasterKey(s, gen)
	if err != nil || !created || key != gen() {
		t.Fatalf("first run: MasterKey = %q, %v, %v; want the generated key, created", key, created, err)
	}
	calls = 0
	again, created, err := MasterKey(s, gen)
	if err != nil || created || again != key || calls != 0 {
		t.Fatalf("second run: MasterKey = %q, %v, %v (gen called %d times); want the stored key, not created", again, created, err, calls)
	}
	if stored, err := s.Get(MasterKeyName); err != nil || stored != key {
		t.Fatalf("keychain holds %q, %v", stored, err)
	}
	mustList(t, s, MasterKeyName)

	t.Run("default generator", func(t *testing.T) {
		s := newTestStore(t)
		key, created, err := MasterKey(s, nil)
		if err != nil || !created {
			t.Fatalf("MasterKey(nil gen) = %q, %v, %v", key, created, err)
		}
		if !strings.HasPrefix(key, "sk-") || len(key) != 35 || strings.Trim(key[3:], "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
			t.Fatalf("generated key %q is not sk- and 32 URL-safe characters", key)
		}
		if k2, _, _ := MasterKey(s, nil); k2 != key {
			t.Fatalf("second call returned a different key")
		}
		if NewMasterKey() == NewMasterKey() {
			t.Fatal("NewMasterKey repeats itself")
		}
	})
	t.Run("unstorable generated key", func(t *testing.T) {
		s := newTestStore(t)
		if _, _, err := MasterKey(s, func() string { return "" }); err == nil {
			t.Fatal("an empty generated key was accepted")
		}
	})
}

// blockingKeyring never answers until released, like a Secret Service waiting on an unlock prompt.
type blockingKeyring struct{ release chan struct{} }

func (b blockingKeyring) Get(string, string) (string, error) { <-b.release; return "", nil }
func (b blockingKeyring) Set(string, string, string) error   { <-b.release; return nil }
func (b blockingKeyring) Delete(string, string) error        { <-b.release; return nil }

func TestTimeout(t *testing.T) {
	kr := blockingKeyring{release: make(chan struct{})}
	defer close(kr.release)
	s := &Store{service: "clawgate-test-timeout", kr: kr, timeout: 20 * time.Millisecond}
	const secret = "sk-timeout-secret"
	for op, call := range map[string]func() error{
		"get":    func() error { _, err := s.Get("x"); return err },
		"set":    func() error { return s.Set("x", secret) },
		"delete": func() error { return s.Delete("x") },
		"list":   func() error { _, err := s.List(); return err },
	} {
		t.Run(op, func(t *testing.T) {
			err := call()
			if !errors.Is(err, ErrUnavailable) {
				t.Fatalf("err = %v, want ErrUnavailable", err)
			}
			for _, want := range []string{"did not answer within 20ms", "unlock prompt", "os.environ/VAR"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error leaks the secret: %v", err)
			}
		})
	}
}
