package ledger

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/clawgate/clawgate/app/store"
	"github.com/clawgate/clawgate/proxy"
)

// The key operations as Go calls: what the app uses to mint OpenClaw's key.
func TestKeyOperations(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	alias := "bot"
	key, k, err := e.l.GenerateKey(ctx, KeyRequest{KeyAlias: &alias})
	if err != nil || k.Token != proxy.HashKey(key) || k.KeyAlias != "bot" {
		t.Fatalf("GenerateKey: %v %+v", err, k)
	}
	if _, _, err := e.l.GenerateKey(ctx, KeyRequest{KeyAlias: &alias}); !errors.Is(err, store.ErrAliasTaken) {
		t.Fatalf("second alias: want ErrAliasTaken, got %v", err)
	}
	var op *OpError
	if _, _, err := e.l.GenerateKey(ctx, KeyRequest{KeyAlias: &alias}); !errors.As(err, &op) || op.Status != http.StatusBadRequest {
		t.Fatalf("second alias: want a 400 OpError, got %v", err)
	}
	found, err := e.l.KeysByAlias(ctx, "bot")
	if err != nil || len(found) != 1 || found[0].Token != k.Token {
		t.Fatalf("KeysByAlias: %v %+v", err, found)
	}
	newKey, k2, err := e.l.RegenerateKey(ctx, k.Token, KeyRequest{})
	if err != nil || newKey == key || k2.Token != proxy.HashKey(newKey) {
		t.Fatalf("RegenerateKey: %v", err)
	}
	if _, err := e.l.Authenticate(ctx, key); err == nil {
		t.Error("the old secret still works after RegenerateKey")
	}
	if _, err := e.l.Authenticate(ctx, newKey); err != nil {
		t.Errorf("the new secret: %v", err)
	}
	if k3, err := e.l.SetKeyBlocked(ctx, newKey, true); err != nil || !k3.Blocked {
		t.Fatalf("SetKeyBlocked: %v", err)
	}
	if _, err := e.l.Authenticate(ctx, newKey); err == nil {
		t.Error("a blocked key authenticates")
	}
	budget := 2.5
	if k4, err := e.l.UpdateKey(ctx, newKey, KeyRequest{MaxBudget: &budget}); err != nil || k4.MaxBudget == nil || *k4.MaxBudget != 2.5 {
		t.Fatalf("UpdateKey: %v", err)
	}
	if err := e.l.DeleteKeys(ctx, []string{newKey}, nil); err != nil {
		t.Fatalf("DeleteKeys: %v", err)
	}
	if _, err := e.l.KeyInfo(ctx, newKey); !errors.As(err, &op) || op.Status != http.StatusNotFound {
		t.Errorf("KeyInfo after delete: want a 404 OpError, got %v", err)
	}
}
