package store

// PostgreSQL is reached through database/sql with pgx's driver (registered as "pgx"), so the
// store's queries and transactions are the same code on both engines.
import _ "github.com/jackc/pgx/v5/stdlib"
