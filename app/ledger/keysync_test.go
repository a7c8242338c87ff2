package ledger

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clawgate/clawgate/proxy"
)

// A change made elsewhere must reach a running gateway within keySyncSLA; the tests look for up
// to keySyncWait, so that a slow change fails with its time rather than a timeout.
const (
	keySyncSLA  = 2 * time.Second
	keySyncWait = 5 * time.Second
)

// seenWithin polls until cond holds, for up to keySyncWait, logs how long that took and fails
// when it took longer than keySyncSLA (or never happened).
func seenWithin(t *testing.T, what string, cond func() bool) {
	t.Helper()
	start := time.Now()
	for {
		if cond() {
			d := time.Since(start)
			t.Logf("%s: seen after %v", what, d.Round(time.Millisecond))
			if d > keySyncSLA {
				t.Errorf("%s: took %v, more than %v", what, d, keySyncSLA)
			}
			return
		}
		if time.Since(start) > keySyncWait {
			t.Fatalf("%s: not seen within %v", what, keySyncWait)
		}
		time.Sleep(10 * time.Millisecond) // a polling pace, not a synchronisation
	}
}

// answers reports whether a chat with key gets status.
func (e *env) answers(key string, status int) func() bool {
	return func() bool { return e.chat(key, exactChat).status == status }
}

// openSecond opens another ledger on e's data folder: what the CLI, the tray or a second serve
// holds. It shares nothing with e.l but the file.
func openSecond(t *testing.T, e *env) *Ledger {
	t.Helper()
	l, err := Open(context.Background(), Options{DataDir: e.dir, DatabaseURL: e.opts.DatabaseURL, FlushInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatalf("second Open: %v", err)
	}
	t.Cleanup(func() {
		if err := l.Close(context.Background()); err != nil {
			t.Errorf("second Close: %v", err)
		}
	})
	return l
}

func ptr[T any](v T) *T { return &v }

// Every kind of key change made through another ledger on the same database reaches the running
// gateway, whose ledger has the key cached (each key answers once before it is changed).
func TestKeyChangesFromAnotherLedger(t *testing.T) { keyChangesFromAnotherLedger(t) }

func keyChangesFromAnotherLedger(t *testing.T, opts ...envOption) {
	e := newEnv(t, opts...)
	other := openSecond(t, e)
	ctx := context.Background()

	t.Run("blocked then unblocked", func(t *testing.T) {
		key, _ := e.generate(`{}`)
		seenWithin(t, "new key admitted", e.answers(key, 200))
		if _, err := other.SetKeyBlocked(ctx, key, true); err != nil {
			t.Fatal(err)
		}
		seenWithin(t, "blocked key refused", e.answers(key, 401))
		if _, err := other.SetKeyBlocked(ctx, key, false); err != nil {
			t.Fatal(err)
		}
		seenWithin(t, "unblocked key admitted", e.answers(key, 200))
	})
	t.Run("deleted", func(t *testing.T) {
		key, _ := e.generate(`{}`)
		seenWithin(t, "new key admitted", e.answers(key, 200))
		if err := other.DeleteKeys(ctx, []string{key}, nil); err != nil {
			t.Fatal(err)
		}
		seenWithin(t, "deleted key refused", e.answers(key, 401))
		if _, err := e.l.KeyInfo(ctx, key); err == nil {
			t.Error("KeyInfo still finds the deleted key")
		}
	})
	t.Run("regenerated", func(t *testing.T) {
		key, _ := e.generate(`{"max_budget": 5}`)
		// Until the change is seen, the old secret is still served: count every call answered.
		answered := 0
		answers := func(key string, status int) func() bool {
			return func() bool {
				got := e.chat(key, exactChat).status
				if got == 200 {
					answered++
				}
				return got == status
			}
		}
		seenWithin(t, "key admitted", answers(key, 200))
		newKey, k, err := other.RegenerateKey(ctx, key, KeyRequest{})
		if err != nil {
			t.Fatal(err)
		}
		seenWithin(t, "old secret refused", answers(key, 401))
		seenWithin(t, "new secret admitted", answers(newKey, 200))
		// The key kept its spend, and every call answered under either secret counts, those
		// written after the regenerate under the old token included.
		want := float64(answered) * callCost
		e.flush()
		if stored, err := e.l.Store().GetKey(ctx, k.Token); err != nil || !near(stored.Spend, want) {
			t.Errorf("stored spend %v (%v), want %v (%d calls)", stored.Spend, err, want, answered)
		}
		seenWithin(t, "spend here counts every call", func() bool {
			got, err := e.l.KeyInfo(ctx, newKey)
			spend, _, _ := e.l.bl.Spend(k.Token)
			return err == nil && got.Token == k.Token && near(spend, want)
		})
	})
	t.Run("budget raised", func(t *testing.T) {
		key, _ := e.generate(`{"max_budget": 0.001, "spend": 0.001}`)
		seenWithin(t, "spent key refused", e.answers(key, 429))
		if _, err := other.UpdateKey(ctx, key, KeyRequest{MaxBudget: ptr(1.0)}); err != nil {
			t.Fatal(err)
		}
		seenWithin(t, "raised budget admits", e.answers(key, 200))
	})
	t.Run("spend reset", func(t *testing.T) {
		key, _ := e.generate(`{"max_budget": 0.001}`)
		e.generate(`{}`) // a write to another key: not a change of this one
		seenWithin(t, "key admitted", e.answers(key, 200))
		seenWithin(t, "spent key refused", e.answers(key, 429))
		if _, err := other.UpdateKey(ctx, key, KeyRequest{Spend: ptr(0.0)}); err != nil {
			t.Fatal(err)
		}
		seenWithin(t, "key with spend set to 0 admitted", e.answers(key, 200))
	})
	t.Run("models and rate limit", func(t *testing.T) {
		key, _ := e.generate(`{}`)
		seenWithin(t, "key admitted", e.answers(key, 200))
		if _, err := other.UpdateKey(ctx, key, KeyRequest{Models: &[]string{"gpt-4o"}}); err != nil {
			t.Fatal(err)
		}
		seenWithin(t, "model no longer allowed", func() bool { return e.chat(key, exactChat).status/100 == 4 })
	})
}

// Requests served by another gateway on the same data folder count towards the key's budget
// here once that gateway has written them (its flush interval), whatever the key's window.
func TestSpendFromAnotherGateway(t *testing.T) {
	for _, dur := range []string{"", "daily", "30m"} {
		t.Run("budget_duration "+dur, func(t *testing.T) {
			a := newEnv(t)
			key, _ := a.generate(fmt.Sprintf(`{"max_budget": %v, "budget_duration": %q}`, 1.5*callCost, dur))
			if r := a.chat(key, exactChat); r.status != 200 {
				t.Fatalf("first call: %d %s", r.status, r.body)
			}
			a.flush()
			b := newEnv(t, withDir(a.dir))
			// b reads callCost from disk: 1 call of 1.5 fits.
			if r := b.chat(key, exactChat); r.status != 200 {
				t.Fatalf("call through the second gateway: %d %s", r.status, r.body)
			}
			b.flush()
			// Probed without spending here: a call through a would spend and refuse the next by itself.
			seenWithin(t, "other gateway's spend counted here", func() bool {
				return near(a.info(key)["spend"].(float64), 2*callCost)
			})
			// Without b's call, a holds callCost < 1.5 callCost and would admit.
			if r := a.chat(key, exactChat); r.status != 429 {
				t.Errorf("status %d, want 429: the other gateway's spend must count: %s", r.status, r.body)
			}
		})
	}
}

// keySyncEnv turns the test binary into a second process that changes one key through its own
// ledger and exits (see TestMain): the CLI or the tray changing a key under a running serve.
const keySyncEnv = "CLAWGATE_LEDGER_KEYSYNC"

// keySyncOp is what the child does: "update" (with Req), "delete" or "regenerate" Key.
type keySyncOp struct {
	Dir string     `json:"dir"`
	DB  string     `json:"db,omitempty"` // Options.DatabaseURL
	Op  string     `json:"op"`
	Key string     `json:"key"`
	Req KeyRequest `json:"req"`
}

// keySyncChild runs one keySyncOp from keySyncEnv and prints a regenerated key; its exit status
// says whether it worked.
func keySyncChild(spec string) int {
	var op keySyncOp
	if err := json.Unmarshal([]byte(spec), &op); err != nil {
		fmt.Fprintln(os.Stderr, "keysync child:", err)
		return 2
	}
	ctx := context.Background()
	l, err := Open(ctx, Options{DataDir: op.Dir, DatabaseURL: op.DB})
	if err != nil {
		fmt.Fprintln(os.Stderr, "keysync child:", err)
		return 2
	}
	switch op.Op {
	case "update":
		_, err = l.UpdateKey(ctx, op.Key, op.Req)
	case "delete":
		err = l.DeleteKeys(ctx, []string{op.Key}, nil)
	case "regenerate":
		var key string
		key, _, err = l.RegenerateKey(ctx, op.Key, op.Req)
		fmt.Println(key)
	default:
		err = fmt.Errorf("unknown op %q", op.Op)
	}
	if cerr := l.Close(ctx); err == nil {
		err = cerr
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "keysync child:", err)
		return 1
	}
	return 0
}

// runChild runs op in a second OS process and returns what it printed. The change is committed
// when it returns.
func runChild(t *testing.T, op keySyncOp) string {
	t.Helper()
	spec, err := json.Marshal(op)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), keySyncEnv+"="+string(spec))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child %s: %v", op.Op, err)
	}
	return strings.TrimSpace(string(out))
}

// The same changes made by another OS process, against a gateway serving over HTTP.
func TestKeyChangesFromAnotherProcess(t *testing.T) { keyChangesFromAnotherProcess(t) }

func keyChangesFromAnotherProcess(t *testing.T, opts ...envOption) {
	e := newEnv(t, opts...)
	key, _ := e.generate(`{"max_budget": 0.001, "spend": 0.001}`)
	seenWithin(t, "spent key refused", e.answers(key, 429))

	runChild(t, keySyncOp{Dir: e.dir, DB: e.opts.DatabaseURL, Op: "update", Key: key, Req: KeyRequest{MaxBudget: ptr(1.0)}})
	seenWithin(t, "budget raised by another process admits", e.answers(key, 200))

	runChild(t, keySyncOp{Dir: e.dir, DB: e.opts.DatabaseURL, Op: "update", Key: key, Req: KeyRequest{Blocked: ptr(true)}})
	seenWithin(t, "key blocked by another process refused", e.answers(key, 401))

	runChild(t, keySyncOp{Dir: e.dir, DB: e.opts.DatabaseURL, Op: "update", Key: key, Req: KeyRequest{Blocked: ptr(false)}})
	seenWithin(t, "key unblocked by another process admitted", e.answers(key, 200))

	newKey := runChild(t, keySyncOp{Dir: e.dir, DB: e.opts.DatabaseURL, Op: "regenerate", Key: key})
	if !strings.HasPrefix(newKey, "sk-") {
		t.Fatalf("child printed %q, want a key", newKey)
	}
	seenWithin(t, "old secret refused after another process regenerated it", e.answers(key, 401))
	seenWithin(t, "new secret admitted", e.answers(newKey, 200))

	runChild(t, keySyncOp{Dir: e.dir, DB: e.opts.DatabaseURL, Op: "delete", Key: newKey})
	seenWithin(t, "key deleted by another process refused", e.answers(newKey, 401))
}

// A gateway that fell behind the pruning of key_changes (asleep for longer than they are kept)
// re-reads every key it holds: it does not miss a change whose row is gone.
func TestKeyChangesPrunedUnseen(t *testing.T) {
	e := newEnv(t)
	other := openSecond(t, e)
	ctx := context.Background()
	key, _ := e.generate(`{}`)
	seenWithin(t, "key admitted", e.answers(key, 200))
	e.flush() // its spend row, written later, would be a change of the key kept by the pruning
	if _, err := other.SetKeyBlocked(ctx, key, true); err != nil {
		t.Fatal(err)
	}
	if _, _, err := other.GenerateKey(ctx, KeyRequest{}); err != nil { // a later change, kept
		t.Fatal(err)
	}
	if n, err := other.Store().PruneKeyChanges(ctx, time.Now().Add(time.Hour)); err != nil || n == 0 {
		t.Fatalf("PruneKeyChanges = %d, %v", n, err)
	}
	// Probed by a read: a request answered would write the key's spend, a change of its own.
	seenWithin(t, "key blocked before the pruning seen", func() bool {
		k, err := e.l.KeyInfo(ctx, key)
		return err == nil && k.Blocked
	})
	if r := e.chat(key, exactChat); r.status != 401 {
		t.Errorf("status %d, want 401: %s", r.status, r.body)
	}
}

// A request this gateway answered under the old secret, but wrote only after another process
// regenerated the key, still counts towards the key: here at once (the key moves to its new
// token with the spend counted here), and on disk once written.
func TestLateRowAfterRegenerateElsewhere(t *testing.T) {
	e := newEnv(t)
	e.opts.FlushInterval = time.Hour // rows wait for e.flush
	e.restart()
	other := openSecond(t, e)
	ctx := context.Background()
	key, _ := e.generate(`{"max_budget": 5}`)
	if r := e.chat(key, exactChat); r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	newKey, k, err := other.RegenerateKey(ctx, key, KeyRequest{})
	if err != nil {
		t.Fatal(err)
	}
	seenWithin(t, "old secret gone here", func() bool {
		_, err := e.l.KeyInfo(ctx, key)
		return err != nil
	})
	// The row is not written yet: only the spend carried over from the old token can show it.
	if info := e.info(newKey); !near(info["spend"].(float64), callCost) {
		t.Errorf("spend here before the row is written %v, want %v", info["spend"], callCost)
	}
	e.flush() // the row, built under the old token
	stored, err := e.l.Store().GetKey(ctx, k.Token)
	if err != nil || !near(stored.Spend, callCost) {
		t.Fatalf("stored spend of the regenerated key %v (%v), want %v", stored.Spend, err, callCost)
	}
	if info := e.info(newKey); !near(info["spend"].(float64), callCost) {
		t.Errorf("spend here after the row is written %v, want %v", info["spend"], callCost)
	}
}

// Requests keep flowing while another process flips a key back and forth and raises its budget:
// nothing races (run with -race), and the gateway ends on the store's last word.
func TestKeyChangesUnderLoad(t *testing.T) {
	e := newEnv(t)
	other := openSecond(t, e)
	ctx := context.Background()
	key, _ := e.generate(`{"max_budget": 100}`)
	stop := make(chan struct{})
	done := make(chan error, 4)
	var once sync.Once
	halt := func() { once.Do(func() { close(stop); <-done; <-done; <-done; <-done }) }
	defer halt() // a failure below stops the load before the ledgers close, so its error is the one shown
	for range 4 {
		go func() {
			for {
				select {
				case <-stop:
					done <- nil
					return
				default:
				}
				if p, err := e.l.Authenticate(ctx, key); err == nil {
					if a, err := e.l.Admit(ctx, p, "exact", 0.001, 10); err == nil {
						a.Done(&proxy.Usage{CallID: newID(), Start: time.Now(), End: time.Now(), Status: 200})
					}
				}
			}
		}()
	}
	for i := range 6 {
		if _, err := other.SetKeyBlocked(ctx, key, i%2 == 0); err != nil {
			t.Fatalf("change %d, block: %v", i, err)
		}
		if _, err := other.UpdateKey(ctx, key, KeyRequest{MaxBudget: ptr(float64(100 + i))}); err != nil {
			t.Fatalf("change %d, max_budget: %v", i, err)
		}
	}
	halt()
	seenWithin(t, "last change (unblocked, max_budget 105) applied", func() bool {
		k, err := e.l.KeyInfo(ctx, key)
		return err == nil && !k.Blocked && k.MaxBudget != nil && *k.MaxBudget == 105
	})
}
