package store

import (
	"context"
	"database/sql"
)

// pool is a database/sql pool that speaks the store's one SQL text: its methods keep
// database/sql's names and signatures, and turn the query into the engine's spelling
// (placeholders, argument types) before it runs. Every query of the store goes through one.
type pool struct {
	db *sql.DB
	d  dialect
}

func (p *pool) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return p.db.ExecContext(ctx, p.d.rebind(query), p.d.args(args)...)
}

func (p *pool) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return p.db.QueryContext(ctx, p.d.rebind(query), p.d.args(args)...)
}

func (p *pool) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return p.db.QueryRowContext(ctx, p.d.rebind(query), p.d.args(args)...)
}

// Exec, Query and QueryRow are the calls without a context, as on a *sql.DB.
func (p *pool) Exec(query string, args ...any) (sql.Result, error) {
	return p.ExecContext(context.Background(), query, args...)
}

func (p *pool) Query(query string, args ...any) (*sql.Rows, error) {
	return p.QueryContext(context.Background(), query, args...)
}

func (p *pool) QueryRow(query string, args ...any) *sql.Row {
	return p.QueryRowContext(context.Background(), query, args...)
}

func (p *pool) BeginTx(ctx context.Context, opts *sql.TxOptions) (*txn, error) {
	tx, err := p.db.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &txn{tx: tx, d: p.d}, nil
}

func (p *pool) PingContext(ctx context.Context) error { return p.db.PingContext(ctx) }

func (p *pool) Close() error { return p.db.Close() }

// txn is a transaction of a pool, with the same translation.
type txn struct {
	tx *sql.Tx
	d  dialect
}

func (t *txn) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return t.tx.ExecContext(ctx, t.d.rebind(query), t.d.args(args)...)
}

func (t *txn) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return t.tx.QueryContext(ctx, t.d.rebind(query), t.d.args(args)...)
}

func (t *txn) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return t.tx.QueryRowContext(ctx, t.d.rebind(query), t.d.args(args)...)
}

// PrepareContext prepares query; the statement converts its arguments as the txn does.
func (t *txn) PrepareContext(ctx context.Context, query string) (*stmt, error) {
	s, err := t.tx.PrepareContext(ctx, t.d.rebind(query))
	if err != nil {
		return nil, err
	}
	return &stmt{s: s, d: t.d}, nil
}

func (t *txn) Commit() error   { return t.tx.Commit() }
func (t *txn) Rollback() error { return t.tx.Rollback() }

// stmt is a prepared statement of a txn; it converts arguments as the txn does.
type stmt struct {
	s *sql.Stmt
	d dialect
}

func (s *stmt) ExecContext(ctx context.Context, args ...any) (sql.Result, error) {
	return s.s.ExecContext(ctx, s.d.args(args)...)
}

func (s *stmt) QueryContext(ctx context.Context, args ...any) (*sql.Rows, error) {
	return s.s.QueryContext(ctx, s.d.args(args)...)
}

func (s *stmt) QueryRowContext(ctx context.Context, args ...any) *sql.Row {
	return s.s.QueryRowContext(ctx, s.d.args(args)...)
}

func (s *stmt) Close() error { return s.s.Close() }
