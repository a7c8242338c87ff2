package store

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// pgPoolSize bounds the connections one Store opens to PostgreSQL. Reads and writes share them;
// three replicas stay well inside PostgreSQL's default max_connections (100).
const pgPoolSize = 16

// pgConnectTimeout bounds the first connection at Open, so an unreachable server is a clear
// error at start rather than a hang.
const pgConnectTimeout = 10 * time.Second

// openPostgres opens the database at rawURL (postgres:// or postgresql://) and brings its schema
// up to date. Errors name the server and database, never the password.
func openPostgres(ctx context.Context, rawURL string) (*Store, error) {
	where := Redact(rawURL)
	cfg, err := pgx.ParseConfig(rawURL)
	if err != nil {
		return nil, fmt.Errorf("store: database URL %s: %s", where, scrub(err, rawURL))
	}
	if cfg.ConnectTimeout == 0 || cfg.ConnectTimeout > pgConnectTimeout {
		cfg.ConnectTimeout = pgConnectTimeout
	}
	name := fmt.Sprintf("PostgreSQL at %s:%d, database %q", cfg.Host, cfg.Port, cfg.Database)
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(pgPoolSize)
	db.SetMaxIdleConns(pgPoolSize)
	db.SetConnMaxIdleTime(5 * time.Minute)
	d := postgresDialect{}
	p := &pool{db: db, d: d}
	s := &Store{path: where, d: d, w: p, r: p}
	pctx, cancel := context.WithTimeout(ctx, pgConnectTimeout)
	err = db.PingContext(pctx)
	cancel()
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("store: cannot reach %s: %s", name, scrub(err, rawURL))
	}
	texts, err := migrationTexts(d, migrations)
	if err == nil {
		err = migrate(ctx, p, texts)
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("store: %s: %w", name, err)
	}
	return s, nil
}

// Redact returns a database URL fit for logs and errors: the password in its user info is
// replaced by "xxxxx" (a password given as a query parameter is dropped too). A string that does
// not parse as a URL is replaced whole, since it may hold a password anywhere.
func Redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "(an unreadable database URL)"
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	if q := u.Query(); q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// scrub is err's text with any secret of rawURL (its password) cut out: driver errors may quote
// the connection string.
func scrub(err error, rawURL string) string {
	msg := err.Error()
	if u, perr := url.Parse(rawURL); perr == nil {
		if pw, ok := u.User.Password(); ok && pw != "" {
			msg = strings.ReplaceAll(msg, pw, "xxxxx")
		}
		if pw := u.Query().Get("password"); pw != "" {
			msg = strings.ReplaceAll(msg, pw, "xxxxx")
		}
	}
	if strings.Contains(msg, rawURL) {
		msg = strings.ReplaceAll(msg, rawURL, Redact(rawURL))
	}
	return msg
}
