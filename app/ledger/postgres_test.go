package ledger

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/clawgate/clawgate/internal/pgtest"
)

// The ledger on PostgreSQL (Options.DatabaseURL): the same gateway tests as on SQLite, and
// gateways that share nothing but the database, as replicas do. They need
// scripts/with-postgres.sh and fail without it.

// withDatabase puts the ledger on the PostgreSQL database at url; the data folder keeps only
// the spill file.
func withDatabase(url string) envOption { return func(e *env) { e.opts.DatabaseURL = url } }

func TestPostgresKeySpendsItsBudgetThen429(t *testing.T) {
	keySpendsItsBudgetThen429(t, withDatabase(pgtest.URL(t)))
}

func TestPostgresKeyChangesFromAnotherLedger(t *testing.T) {
	keyChangesFromAnotherLedger(t, withDatabase(pgtest.URL(t)))
}

func TestPostgresKeyChangesFromAnotherProcess(t *testing.T) {
	keyChangesFromAnotherProcess(t, withDatabase(pgtest.URL(t)))
}

// Two gateways with data folders of their own on one database: a key made through one is
// served by the other, the spend of both counts against its budget in both, and a block made
// through one is refused by the other.
func TestPostgresReplicasShareKeysAndSpend(t *testing.T) {
	db := pgtest.URL(t)
	a := newEnv(t, withDatabase(db))
	b := newEnv(t, withDatabase(db))
	if a.dir == b.dir {
		t.Fatal("the replicas share a data folder")
	}
	key, _ := a.generate(fmt.Sprintf(`{"max_budget": %v}`, 1.5*callCost))
	if r := b.chat(key, exactChat); r.status != 200 {
		t.Fatalf("key made through a, called through b: %d %s", r.status, r.body)
	}
	b.flush()
	seenWithin(t, "b's spend counted in a", func() bool { return near(a.info(key)["spend"].(float64), callCost) })
	// The key lists (read in one query for the page) show it too.
	listed := func(path string) float64 {
		r := a.master("GET", path, "")
		var body struct{ Keys []map[string]any }
		r.json(t, &body)
		for _, k := range body.Keys {
			if k["token"] == tokenOf(key) {
				return k["spend"].(float64)
			}
		}
		t.Fatalf("%s does not list the key: %s", path, r.body)
		return 0
	}
	if got := listed("/key/list?return_full_object=true&size=100"); !near(got, callCost) {
		t.Errorf("/key/list on a shows spend %v, want b's %v", got, callCost)
	}
	if r := a.chat(key, exactChat); r.status != 200 {
		t.Fatalf("second call through a: %d %s", r.status, r.body)
	}
	a.flush()
	seenWithin(t, "a's spend refuses in b", b.answers(key, 429))

	other, _ := a.generate(`{}`)
	seenWithin(t, "other key admitted by b", b.answers(other, 200))
	if _, err := a.l.SetKeyBlocked(context.Background(), other, true); err != nil {
		t.Fatal(err)
	}
	seenWithin(t, "key blocked through a refused by b", b.answers(other, 401))
}

// A database that cannot be reached is a clear error at Open that names the server and the
// database and never the password.
func TestPostgresUnreachable(t *testing.T) {
	url := "postgres://clawgate:s3cret-pw@127.0.0.1:1/teamdb?sslmode=disable&connect_timeout=2"
	_, err := Open(context.Background(), Options{DataDir: t.TempDir(), DatabaseURL: url})
	if err == nil {
		t.Fatal("Open succeeded without a server")
	}
	t.Logf("Open: %v", err)
	for _, want := range []string{"127.0.0.1:1", "teamdb"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "s3cret-pw") {
		t.Errorf("error shows the password: %q", err)
	}
}

// pgReplicas opens gateways on one PostgreSQL schema, each with a data folder of its own (which
// holds only its spill file), as replicas on several machines.
func pgReplicas(t *testing.T) replicaOpener {
	db := pgtest.SchemaURL(t)
	return func(t *testing.T, o Options) *Ledger {
		o.DatabaseURL, o.DataDir = db, t.TempDir()
		return openReplica(t, o)
	}
}

// The shared-mode tests on PostgreSQL, where replicas really are separate machines' gateways.
func TestPostgresSharedOvershoot(t *testing.T)     { testSharedOvershoot(t, pgReplicas) }
func TestPostgresSharedTeamOvershoot(t *testing.T) { testSharedTeamOvershoot(t, pgReplicas) }
func TestPostgresSharedHoldsExpire(t *testing.T)   { testSharedHoldsExpire(t, pgReplicas(t)) }
func TestPostgresSharedResetOnce(t *testing.T)     { testSharedResetOnce(t, pgReplicas(t)) }
func TestPostgresSharedThresholdOnce(t *testing.T) { testSharedThresholdOnce(t, pgReplicas(t)) }
func TestPostgresSharedRPM(t *testing.T)           { testSharedRPM(t, pgReplicas(t)) }
func TestPostgresSharedParallel(t *testing.T)      { testSharedParallel(t, pgReplicas(t)) }
func TestPostgresSharedRecord(t *testing.T)        { testSharedRecord(t, pgReplicas(t)) }
func TestPostgresSharedRegenerateInFlight(t *testing.T) {
	testSharedRegenerateInFlight(t, pgReplicas(t))
}
func TestPostgresSharedTeamLimits(t *testing.T) { testSharedTeamLimits(t, pgReplicas) }
