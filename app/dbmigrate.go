package app

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/clawgate/clawgate/app/store"
)

// MigrateDatabase copies a solo user's ledger (keys, settings, budgets, spend logs) from the
// SQLite database in dataDir ("" = the default data folder) into the PostgreSQL database at
// url, which must hold no rows yet, in one transaction that commits only when every table's
// row count and the keys' and logs' spend totals agree on both sides. On failure the data folder
// is untouched and the database is as it was: what opening it created (the schema) is dropped. Stop
// Clawgate first: rows written during the copy stay behind. The report never holds the
// password.
func MigrateDatabase(ctx context.Context, dataDir, url string) (store.CopyReport, error) {
	var rep store.CopyReport
	if !store.IsURL(url) {
		return rep, errors.New("--to must be a postgres:// or postgresql:// URL")
	}
	dir, err := DataDir(dataDir)
	if err != nil {
		return rep, err
	}
	path := store.Path(dir)
	if _, err := os.Stat(path); err != nil {
		return rep, fmt.Errorf("no ledger to copy in %s: %w", dir, err)
	}
	// Rows the gateway could not write yet would be left behind.
	if _, err := os.Stat(path + store.SpillSuffix); err == nil {
		return rep, fmt.Errorf("%s holds spend logs not yet in the database: start and stop Clawgate once to write them back, then migrate",
			path+store.SpillSuffix)
	}
	src, err := store.Open(ctx, path)
	if err != nil {
		return rep, err
	}
	defer src.Close()
	before, err := store.PostgresObjects(ctx, url)
	if err != nil {
		return rep, err
	}
	dst, err := store.Open(ctx, url)
	if err == nil {
		rep, err = src.CopyInto(ctx, dst)
		dst.Close()
		if err != nil {
			err = fmt.Errorf("copy %s into %s: %w", path, store.Redact(url), err)
		}
	}
	if err != nil {
		// Open may have created the schema (or part of it, when a migration failed): take it away.
		if derr := store.DropCreated(context.WithoutCancel(ctx), url, before); derr != nil {
			err = fmt.Errorf("%w; and what the attempt created could not be removed: %v", err, derr)
		}
		return rep, err
	}
	return rep, nil
}
