package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"

	"github.com/clawgate/clawgate/app"
)

const dbUsage = `Move the ledger to a team database.

Usage:
  clawgate db migrate --to postgres://USER:PASSWORD@HOST:5432/DB [--data-dir DIR]

Copies the keys, settings, budgets and spend logs of the SQLite database in the data folder into
an empty PostgreSQL database, in one transaction that commits only when every table's row count
and the spend totals agree on both sides; on failure the database is left without a row and the
data folder untouched. Stop Clawgate first. Then set general_settings.database_url (or
DATABASE_URL) to the database for every gateway that shares it.

Flags:
`

// runDB implements `clawgate db`.
func runDB(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "migrate" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			fmt.Fprint(stdout, dbUsage)
			return 0
		}
		fmt.Fprint(stderr, dbUsage)
		return 2
	}
	fs := flag.NewFlagSet("db migrate", flag.ContinueOnError)
	fs.SetOutput(stdout)
	to := fs.String("to", "", "the PostgreSQL database to copy into (postgres:// or postgresql:// URL)")
	dataDir := fs.String("data-dir", "", "the data folder holding clawgate.db (default $CLAWGATE_DATA_DIR, else <user config dir>/clawgate)")
	fs.Usage = func() {
		fmt.Fprint(stdout, dbUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *to == "" || fs.NArg() > 0 {
		fmt.Fprintf(stderr, "clawgate db migrate: --to postgres://... is required (and takes no other argument)\n")
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	rep, err := app.MigrateDatabase(ctx, *dataDir, *to)
	if err != nil {
		fmt.Fprintf(stderr, "clawgate db migrate: %v\n", err)
		return 1
	}
	for _, t := range rep.Tables {
		fmt.Fprintf(stdout, "%-16s %8d rows\n", t.Table, t.Rows)
	}
	fmt.Fprintf(stdout, "spend: keys $%.6f, logs $%.6f (the same on both sides)\n", rep.KeySpend, rep.LogSpend)
	fmt.Fprintf(stdout, "copied into %s; set general_settings.database_url to it\n", rep.Target)
	return 0
}
