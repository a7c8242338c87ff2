package store

import (
	"context"
	"testing"

	"github.com/clawgate/clawgate/internal/pgtest"
)

// pgStores opens Stores on one PostgreSQL schema of the test's own, as several gateways on
// several machines would share one database.
func pgStores(t *testing.T) storeOpener {
	url := pgtest.SchemaURL(t)
	return func(t *testing.T) *Store {
		t.Helper()
		s, err := Open(context.Background(), url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
}

func TestHoldsAtomicPostgres(t *testing.T)         { testHoldsAtomic(t, pgStores(t)) }
func TestHoldsOncePostgres(t *testing.T)           { testHoldsOnce(t, pgStores(t)) }
func TestHoldsRatePostgres(t *testing.T)           { testHoldsRate(t, pgStores(t)) }
func TestSettledLogsPostgres(t *testing.T)         { testSettledLogsNotAddedTwice(t, pgStores(t)) }
func TestHoldsRatesAllOrNonePostgres(t *testing.T) { testHoldsRatesAllOrNone(t, pgStores(t)) }
func TestGetBudgetsPostgres(t *testing.T)          { testGetBudgets(t, pgStores(t)) }
