package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// SchemaObjects is what a PostgreSQL database holds in its current schema: its tables, views,
// sequences and functions, and the database's extensions, as "kind name". Taken before a Store is
// opened on a database, it tells afterwards what the Store's migrations created.
type SchemaObjects map[string]bool

// pgObjectsQuery lists SchemaObjects' entries, most dependent first: tables (a CASCADE drop takes
// their indexes, triggers and owned sequences), then functions, views, sequences, extensions.
// What belongs to an extension (pg_trgm's functions) goes with its extension.
const pgObjectsQuery = `
SELECT 1, 'table', c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND NOT ` + pgOfExtension + `
UNION ALL SELECT 2, 'function', p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
	WHERE n.nspname = current_schema() AND p.prokind = 'f' AND NOT ` + pgOfExtensionProc + `
UNION ALL SELECT 3, 'view', c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	WHERE n.nspname = current_schema() AND c.relkind IN ('v', 'm') AND NOT ` + pgOfExtension + `
UNION ALL SELECT 4, 'sequence', c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	WHERE n.nspname = current_schema() AND c.relkind = 'S' AND NOT ` + pgOfExtension + `
UNION ALL SELECT 5, 'extension', extname FROM pg_extension
ORDER BY 1, 3`

const (
	pgOfExtension     = `EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')`
	pgOfExtensionProc = `EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')`
)

// PostgresObjects reads the SchemaObjects of the database at rawURL.
func PostgresObjects(ctx context.Context, rawURL string) (SchemaObjects, error) {
	out := SchemaObjects{}
	err := withPostgres(ctx, rawURL, func(db *sql.DB) error {
		list, err := pgObjects(ctx, db)
		for _, o := range list {
			out[o] = true
		}
		return err
	})
	return out, err
}

// DropCreated removes from the database at rawURL every object it holds now and did not hold in
// before: what opening a Store on it created, for a copy that then failed. Nothing else is touched.
func DropCreated(ctx context.Context, rawURL string, before SchemaObjects) error {
	return withPostgres(ctx, rawURL, func(db *sql.DB) error {
		now, err := pgObjects(ctx, db)
		if err != nil {
			return err
		}
		for _, o := range now {
			if before[o] {
				continue
			}
			kind, name, _ := strings.Cut(o, " ")
			stmt := fmt.Sprintf("DROP %s IF EXISTS %s", strings.ToUpper(kind), pgx.Identifier{name}.Sanitize())
			switch kind {
			case "table", "function", "view", "sequence":
				stmt += " CASCADE" // a table's triggers and indexes; a function's triggers went with their tables
			}
			if _, err := db.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("%s: %s", stmt, scrub(err, rawURL))
			}
		}
		return nil
	})
}

// pgObjects lists the entries of SchemaObjects in drop order.
func pgObjects(ctx context.Context, db *sql.DB) ([]string, error) {
	rows, err := db.QueryContext(ctx, pgObjectsQuery)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var order int
		var kind, name string
		if err := rows.Scan(&order, &kind, &name); err != nil {
			return nil, err
		}
		if o := kind + " " + name; !slices.Contains(out, o) {
			out = append(out, o)
		}
	}
	return out, rows.Err()
}

// withPostgres runs fn on a connection of its own to the database at rawURL.
func withPostgres(ctx context.Context, rawURL string, fn func(*sql.DB) error) error {
	cfg, err := pgx.ParseConfig(rawURL)
	if err != nil {
		return fmt.Errorf("store: database URL %s: %s", Redact(rawURL), scrub(err, rawURL))
	}
	if cfg.ConnectTimeout == 0 || cfg.ConnectTimeout > pgConnectTimeout {
		cfg.ConnectTimeout = pgConnectTimeout
	}
	db := stdlib.OpenDB(*cfg)
	defer db.Close()
	db.SetMaxOpenConns(1)
	if err := fn(db); err != nil {
		return fmt.Errorf("store: %s: %s", Redact(rawURL), scrub(err, rawURL))
	}
	return nil
}
