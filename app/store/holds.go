package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Budgets shared by several gateways on one database (the ledger's shared mode). Each budget is a
// row in budgets (spend in its window, the window, the cap last enforced); each request in flight
// holds its expected cost on it as a row in budget_holds with a lease. A reservation locks its
// budgets' rows (one upsert each, in id order so that two reservations never wait on each other
// in a circle), reads spend and the live holds, and adds its holds only when every budget has
// room: the check runs on what the database holds under the lock, so gateways cannot both take
// the last room. A gateway renews its holds' leases while it runs; one that dies stops renewing,
// and its holds stop counting when their lease ends. Settlement adds the real cost to each budget
// (and to the key's spend column) and drops the hold in one transaction, so every gateway sees the
// spend at once; the spend log row then carries Settled so that InsertSpendLogs does not add it
// again.
//
// A window that ended is rolled by a conditional UPDATE on its old budget_reset_at, inside the
// transaction that found it due, so one gateway performs each reset and reports it. Alerts are
// claimed with an INSERT that only one gateway can make (ClaimAlert). rpm/tpm are counters per key
// and minute (one conditional upsert); max_parallel_requests is a budget of slots whose holds weigh 1.
//
// The SQL is portable (SQLite and PostgreSQL): ? placeholders, upserts with RETURNING.
const sharedBudgetsMigration = `
CREATE TABLE budgets (
	id              TEXT PRIMARY KEY,          -- "global", a key's token, "team:<id>", "user:<id>", "parallel:<token>"
	spend           REAL NOT NULL DEFAULT 0,   -- spend in the current window
	max_budget      REAL,                      -- the cap last enforced; NULL: none
	duration        TEXT NOT NULL DEFAULT '',  -- budget_duration; '' never resets
	budget_reset_at INTEGER,                   -- unix microseconds; NULL: never
	window_start    INTEGER NOT NULL DEFAULT 0,
	updated_at      INTEGER NOT NULL
);
CREATE TABLE budget_holds (
	hold_id   TEXT NOT NULL,   -- the request's call id
	budget_id TEXT NOT NULL,
	amount    REAL NOT NULL,
	owner     TEXT NOT NULL,   -- the gateway that renews it
	expires   INTEGER NOT NULL,
	PRIMARY KEY (hold_id, budget_id)
);
CREATE INDEX budget_holds_budget ON budget_holds(budget_id, expires);
CREATE INDEX budget_holds_owner ON budget_holds(owner);
CREATE TABLE budget_alerts (
	budget_id    TEXT NOT NULL,
	window_start INTEGER NOT NULL,
	threshold    TEXT NOT NULL,
	at           INTEGER NOT NULL,
	PRIMARY KEY (budget_id, window_start, threshold)
);
CREATE TABLE rate_counters (
	key_id   TEXT NOT NULL,
	minute   INTEGER NOT NULL,  -- unix minutes
	requests INTEGER NOT NULL DEFAULT 0,
	tokens   INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (key_id, minute)
);
`

// BudgetRow is one shared budget.
type BudgetRow struct {
	ID          string
	Spend       float64
	MaxBudget   *float64
	Duration    string // budget_duration; "" never resets
	ResetAt     *time.Time
	WindowStart time.Time // zero without a duration
}

// Roller computes the window after row's, which ended at *row.ResetAt (now is at or after it):
// the next reset time (nil: never again) and the new window's start.
type Roller func(row BudgetRow, now time.Time) (resetAt *time.Time, windowStart time.Time)

// BudgetReset reports a window this Store rolled (or restarted), and so must announce.
type BudgetReset struct {
	ID          string
	EndedSpend  float64
	WindowStart time.Time
	ResetAt     *time.Time
}

// HoldBudget is one budget of a reservation and what to hold on it.
type HoldBudget struct {
	// Seed is the budget as the caller knows it: the row is made from it when there is none yet.
	// Its MaxBudget is the cap checked, and written to the row.
	Seed   BudgetRow
	Amount float64
}

// RateCheck is an rpm/tpm admission: the key's counter for Minute takes one request and Tokens
// when it has made fewer than RPM requests and used fewer than TPM tokens in that minute.
type RateCheck struct {
	Key      string
	Minute   int64
	RPM, TPM int64 // math.MaxInt64: no limit
	Tokens   int64
}

// HoldRequest is a reservation.
type HoldRequest struct {
	HoldID  string
	Owner   string
	Now     time.Time
	Expires time.Time
	// Budgets are checked in this order: the first without room is the refusal reported.
	// Duplicate ids count once.
	Budgets []HoldBudget
	// Rates are rpm/tpm minute counters (the key's, its team's, its user's), each counted only
	// when every one has room: the first without is RateRefused (RateIndex), and none counts.
	Rates []RateCheck
	Roll  Roller
}

// BudgetState is a budget as a reservation found it.
type BudgetState struct {
	BudgetRow
	Held float64 // what live holds of other requests hold
}

// HoldResult says what Hold did. Refused is the index in HoldRequest.Budgets of the budget
// without room (-1: none); RateRefused is true when the rate check refused, with the minute's
// counts. Nothing is held when either refused; Resets happened either way.
type HoldResult struct {
	Budgets     []BudgetState
	Resets      []BudgetReset
	Refused     int
	RateRefused bool
	RateIndex   int // the refusing check in HoldRequest.Rates
	Requests    int64
	Tokens      int64
}

// Hold reserves amounts on budgets for a request (see the comment at the top of this file). A
// budget refuses when its spend plus the live holds on it has reached its cap, as the in-memory
// ledger does: the request's own amount may reach past the cap.
func (s *Store) Hold(ctx context.Context, q HoldRequest) (HoldResult, error) {
	var out HoldResult
	err := s.writeTx(ctx, "hold budgets", func(tx *txn) error { return hold(ctx, tx, q, &out) })
	return out, err
}

// execer is a transaction as the functions below use it (so they read the same on every engine's
// transaction type).
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func hold(ctx context.Context, tx execer, q HoldRequest, res *HoldResult) error {
	out := HoldResult{Budgets: make([]BudgetState, len(q.Budgets)), Refused: -1}
	defer func() { *res = out }()
	first := map[string]int{} // id -> index of its first appearance
	for _, i := range byID(q.Budgets, func(b HoldBudget) string { return b.Seed.ID }) {
		id := q.Budgets[i].Seed.ID
		if j, ok := first[id]; ok {
			out.Budgets[i] = out.Budgets[j]
			continue
		}
		first[id] = i
		row, err := lockBudget(ctx, tx, q.Budgets[i].Seed, q.Now, q.Roll, &out.Resets)
		if err != nil {
			return err
		}
		out.Budgets[i] = BudgetState{BudgetRow: row}
	}
	// Read once every row is locked: no hold on these budgets can commit meanwhile.
	held, err := heldOn(ctx, tx, q.Now, out.Budgets)
	if err != nil {
		return err
	}
	for i := range out.Budgets {
		out.Budgets[i].Held = held[out.Budgets[i].ID]
	}
	for i, b := range out.Budgets {
		if b.MaxBudget != nil && b.Spend+b.Held >= *b.MaxBudget {
			out.Refused = i
			return nil // commit: the resets stand
		}
	}
	for j := range q.Rates {
		ok, err := countRequest(ctx, tx, &q.Rates[j], &out)
		if err != nil {
			return err
		}
		if !ok {
			out.RateIndex = j
			// The counters before this one took the request: give it back (the refusal commits).
			for _, r := range q.Rates[:j] {
				if _, err := tx.ExecContext(ctx, `UPDATE rate_counters SET requests = requests - 1, tokens = tokens - ?
					WHERE key_id = ? AND minute = ?`, r.Tokens, r.Key, r.Minute); err != nil {
					return err
				}
			}
			return nil
		}
	}
	if len(first) == 0 {
		return nil
	}
	var args []any
	for id, i := range first {
		args = append(args, q.HoldID, id, q.Budgets[i].Amount, q.Owner, micros(q.Expires))
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO budget_holds (hold_id, budget_id, amount, owner, expires) VALUES `+
		list("(?, ?, ?, ?, ?)", len(first)), args...)
	return err
}

// heldOn is what live holds hold on each budget (by id).
func heldOn(ctx context.Context, tx execer, now time.Time, budgets []BudgetState) (map[string]float64, error) {
	held := map[string]float64{}
	if len(budgets) == 0 {
		return held, nil
	}
	args := []any{micros(now)}
	for _, b := range budgets {
		args = append(args, b.ID)
	}
	rows, err := tx.QueryContext(ctx, `SELECT budget_id, SUM(amount) FROM budget_holds WHERE expires > ? AND budget_id IN (`+
		list("?", len(budgets))+`) GROUP BY budget_id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var v float64
		if err := rows.Scan(&id, &v); err != nil {
			return nil, err
		}
		held[id] = v
	}
	return held, rows.Err()
}

// list is n copies of item, comma-separated.
func list(item string, n int) string {
	return strings.TrimSuffix(strings.Repeat(item+", ", n), ", ")
}

// countRequest counts a request in its key's minute unless the minute is full, and reports
// whether it was counted (else out has the minute's counts).
func countRequest(ctx context.Context, tx execer, r *RateCheck, out *HoldResult) (bool, error) {
	var n int64
	err := tx.QueryRowContext(ctx, `INSERT INTO rate_counters (key_id, minute, requests, tokens) VALUES (?, ?, 1, ?)
		ON CONFLICT (key_id, minute) DO UPDATE SET requests = rate_counters.requests + 1,
			tokens = rate_counters.tokens + excluded.tokens
		WHERE rate_counters.requests < ? AND rate_counters.tokens < ?
		RETURNING requests`, r.Key, r.Minute, r.Tokens, r.RPM, r.TPM).Scan(&n)
	if err == nil {
		return true, nil
	}
	if err != sql.ErrNoRows {
		return false, err
	}
	out.RateRefused = true
	return false, tx.QueryRowContext(ctx, `SELECT requests, tokens FROM rate_counters WHERE key_id = ? AND minute = ?`,
		r.Key, r.Minute).Scan(&out.Requests, &out.Tokens)
}

// lockBudget locks a budget's row, creating it from seed when missing (writing seed's cap
// otherwise), rolls its window if it ended, and returns it.
func lockBudget(ctx context.Context, tx execer, seed BudgetRow, now time.Time, roll Roller, resets *[]BudgetReset) (BudgetRow, error) {
	row, err := upsertBudget(ctx, tx, seed, 0, now)
	if err != nil {
		return BudgetRow{}, err
	}
	row, _, err = rollDue(ctx, tx, row, 0, row.Spend, now, roll, resets)
	return row, err
}

// addSpend adds cost to a budget, locking its row and creating it from seed when missing, in one
// statement; a window found ended is then rolled, with cost as the new window's spend.
func addSpend(ctx context.Context, tx execer, seed BudgetRow, cost float64, now time.Time, roll Roller, resets *[]BudgetReset) (SpendChange, error) {
	row, err := upsertBudget(ctx, tx, seed, cost, now)
	if err != nil {
		return SpendChange{}, err
	}
	prev := row.Spend - cost
	row, rolled, err := rollDue(ctx, tx, row, cost, prev, now, roll, resets)
	if rolled {
		prev = 0
	}
	return SpendChange{BudgetRow: row, Prev: prev}, err
}

// upsertBudget adds add to a budget's spend and writes seed's cap, creating the row from seed
// when missing, and returns the row: one statement that also locks it until the transaction ends.
func upsertBudget(ctx context.Context, tx execer, seed BudgetRow, add float64, now time.Time) (BudgetRow, error) {
	row := BudgetRow{ID: seed.ID, MaxBudget: seed.MaxBudget}
	var resetAt sql.NullInt64
	var ws int64
	if err := tx.QueryRowContext(ctx, `INSERT INTO budgets (id, spend, max_budget, duration, budget_reset_at, window_start, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET spend = budgets.spend + ?, max_budget = excluded.max_budget, updated_at = excluded.updated_at
		RETURNING spend, duration, budget_reset_at, window_start`,
		seed.ID, seed.Spend+add, nullFloat(seed.MaxBudget), seed.Duration, nullMicros(seed.ResetAt), windowMicros(seed.WindowStart),
		micros(now), add).Scan(&row.Spend, &row.Duration, &resetAt, &ws); err != nil {
		return BudgetRow{}, fmt.Errorf("budget %s: %w", seed.ID, err)
	}
	row.ResetAt, row.WindowStart = timePtr(resetAt), windowTime(ws)
	return row, nil
}

// rollDue starts the window after row's when row's ended by now, at spend (ended: what the
// ended window spent), and reports whether it did. The UPDATE is conditional on the old reset
// time: of the gateways that find the window ended, one moves it, and reports it in resets.
func rollDue(ctx context.Context, tx execer, row BudgetRow, spend, ended float64, now time.Time, roll Roller, resets *[]BudgetReset) (BudgetRow, bool, error) {
	if row.ResetAt == nil || now.Before(*row.ResetAt) {
		return row, false, nil
	}
	next, start := roll(row, now)
	res, err := tx.ExecContext(ctx, `UPDATE budgets SET spend = ?, budget_reset_at = ?, window_start = ?
		WHERE id = ? AND budget_reset_at = ?`, spend, nullMicros(next), windowMicros(start), row.ID, micros(*row.ResetAt))
	if err != nil {
		return BudgetRow{}, false, err
	}
	if n, _ := res.RowsAffected(); n == 1 {
		if err := resetKey(ctx, tx, row.ID, start, next, now); err != nil {
			return BudgetRow{}, false, err
		}
		*resets = append(*resets, BudgetReset{ID: row.ID, EndedSpend: ended, WindowStart: start, ResetAt: next})
	}
	row.Spend, row.ResetAt, row.WindowStart = spend, next, start
	return row, true, nil
}

// resetKey starts the key's new window when the budget is a key's (other ids match no key).
func resetKey(ctx context.Context, tx execer, id string, start time.Time, next *time.Time, now time.Time) error {
	since := start
	if since.IsZero() {
		since = now // no duration any more: count from now
	}
	_, err := tx.ExecContext(ctx, `UPDATE keys SET spend = 0, spend_since = ?, budget_reset_at = ? WHERE token = ?`,
		micros(since), nullMicros(next), id)
	return err
}

// byID returns the indexes of xs in order of their ids: rows are locked in one order everywhere.
func byID[T any](xs []T, id func(T) string) []int {
	idx := make([]int, len(xs))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		x, y := id(xs[a]), id(xs[b])
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	})
	return idx
}

// SpendChange is a budget's spend before and after a settlement.
type SpendChange struct {
	BudgetRow // after
	Prev      float64
}

// SettleRequest settles a hold (HoldID "" for spend that was never held: it only adds).
type SettleRequest struct {
	HoldID  string
	Now     time.Time
	Budgets []BudgetRow // seeds, as for Hold; duplicates count once
	// Key is the token of the key whose budget is among Budgets ("": none): its spend column
	// takes Cost too.
	Key  string
	Cost float64
	// Rates correct the tokens counted at admission (the estimate) in each minute counter by
	// Tokens (actual - estimate).
	Rates []RateFix
	Roll  Roller
}

// RateFix corrects a minute counter's tokens once the request's real count is known.
type RateFix struct {
	Key    string
	Minute int64
	Tokens int64
}

// SettleResult lists each budget's spend change (Budgets' order, duplicates dropped) and the
// windows this settlement rolled.
type SettleResult struct {
	Changes []SpendChange
	Resets  []BudgetReset
}

// Settle adds Cost to every budget (and to Key's spend), drops
// the request's holds and corrects its token count, in one transaction.
func (s *Store) Settle(ctx context.Context, q SettleRequest) (SettleResult, error) {
	var out SettleResult
	err := s.writeTx(ctx, "settle budgets", func(tx *txn) error { return settle(ctx, tx, q, &out) })
	return out, err
}

func settle(ctx context.Context, tx execer, q SettleRequest, out *SettleResult) error {
	*out = SettleResult{}
	// A gateway that has not yet seen a regenerate made elsewhere settles under the old token:
	// the spend goes to the key (and its budget row) under its current one, or it would be lost.
	if q.Key != "" {
		var cur string
		err := tx.QueryRowContext(ctx, `SELECT new_token FROM key_renames WHERE old_token = ?`, q.Key).Scan(&cur)
		switch {
		case err == nil && cur != q.Key:
			q.Budgets = slices.Clone(q.Budgets)
			for i := range q.Budgets {
				if q.Budgets[i].ID == q.Key {
					q.Budgets[i].ID = cur
				}
			}
			q.Key = cur
		case err != nil && !errors.Is(err, sql.ErrNoRows):
			return err
		}
	}
	byIndex := map[int]SpendChange{}
	seen := map[string]bool{}
	for _, i := range byID(q.Budgets, func(b BudgetRow) string { return b.ID }) {
		seed := q.Budgets[i]
		if seen[seed.ID] || !(q.Cost > 0) {
			continue
		}
		seen[seed.ID] = true
		c, err := addSpend(ctx, tx, seed, q.Cost, q.Now, q.Roll, &out.Resets)
		if err != nil {
			return err
		}
		byIndex[i] = c
	}
	if q.Key != "" && q.Cost > 0 {
		if _, err := tx.ExecContext(ctx, `UPDATE keys SET spend = spend + ? WHERE token = ?`, q.Cost, q.Key); err != nil {
			return err
		}
	}
	for i := range q.Budgets {
		if c, ok := byIndex[i]; ok {
			out.Changes = append(out.Changes, c)
		}
	}
	if q.HoldID != "" {
		if _, err := tx.ExecContext(ctx, `DELETE FROM budget_holds WHERE hold_id = ?`, q.HoldID); err != nil {
			return err
		}
	}
	for _, r := range q.Rates {
		if r.Tokens == 0 {
			continue
		}
		if _, err := tx.ExecContext(ctx, `UPDATE rate_counters SET tokens = tokens + ? WHERE key_id = ? AND minute = ?`,
			r.Tokens, r.Key, r.Minute); err != nil {
			return err
		}
	}
	return nil
}

// ReleaseHold drops a request's holds without spending (its tokens estimate stays counted).
func (s *Store) ReleaseHold(ctx context.Context, holdID string) error {
	if _, err := s.w.ExecContext(ctx, `DELETE FROM budget_holds WHERE hold_id = ?`, holdID); err != nil {
		return fmt.Errorf("store: release hold: %w", err)
	}
	return nil
}

// AdjustHold moves a request's hold on budgets from amount from to amount to, and returns what it
// holds now. A cut is given back whole; a raise takes only the room the capped budgets have left
// (cap - spend - live holds, none when negative), as the in-memory ledger does.
// Windows found ended are rolled and returned, to be announced.
func (s *Store) AdjustHold(ctx context.Context, holdID string, budgets []BudgetRow, from, to float64, now time.Time, roll Roller) (float64, []BudgetReset, error) {
	var next float64
	var resets []BudgetReset
	err := s.writeTx(ctx, "adjust hold", func(tx *txn) error {
		var err error
		next, resets, err = adjustHold(ctx, tx, holdID, budgets, from, to, now, roll)
		return err
	})
	return next, resets, err
}

func adjustHold(ctx context.Context, tx execer, holdID string, budgets []BudgetRow, from, to float64, now time.Time, roll Roller) (float64, []BudgetReset, error) {
	next := to
	var resets []BudgetReset
	for _, i := range byID(budgets, func(b BudgetRow) string { return b.ID }) {
		if to <= from {
			break
		}
		if budgets[i].MaxBudget == nil {
			continue
		}
		row, err := lockBudget(ctx, tx, budgets[i], now, roll, &resets)
		if err != nil {
			return 0, nil, err
		}
		held, err := heldOn(ctx, tx, now, []BudgetState{{BudgetRow: row}})
		if err != nil {
			return 0, nil, err
		}
		next = min(next, from+max(0, *row.MaxBudget-row.Spend-held[row.ID]))
	}
	for _, b := range budgets {
		if _, err := tx.ExecContext(ctx, `UPDATE budget_holds SET amount = ? WHERE hold_id = ? AND budget_id = ?`,
			next, holdID, b.ID); err != nil {
			return 0, nil, err
		}
	}
	return next, resets, nil
}

// RenewHolds extends the lease of every hold owner has to expires.
func (s *Store) RenewHolds(ctx context.Context, owner string, expires time.Time) error {
	if _, err := s.w.ExecContext(ctx, `UPDATE budget_holds SET expires = ? WHERE owner = ?`, micros(expires), owner); err != nil {
		return fmt.Errorf("store: renew holds: %w", err)
	}
	return nil
}

// DropHolds deletes every hold of owner (a gateway closing with nothing in flight).
func (s *Store) DropHolds(ctx context.Context, owner string) error {
	if _, err := s.w.ExecContext(ctx, `DELETE FROM budget_holds WHERE owner = ?`, owner); err != nil {
		return fmt.Errorf("store: drop holds: %w", err)
	}
	return nil
}

// PruneHolds deletes holds whose lease ended before before (they count for nothing already) and
// rate counters of minutes before minute.
func (s *Store) PruneHolds(ctx context.Context, before time.Time, minute int64) error {
	if _, err := s.w.ExecContext(ctx, `DELETE FROM budget_holds WHERE expires < ?`, micros(before)); err != nil {
		return fmt.Errorf("store: prune holds: %w", err)
	}
	if _, err := s.w.ExecContext(ctx, `DELETE FROM rate_counters WHERE minute < ?`, minute); err != nil {
		return fmt.Errorf("store: prune rate counters: %w", err)
	}
	return nil
}

// SetBudgetSpend sets a shared budget's spend in its current window (an admin's "spend").
func (s *Store) SetBudgetSpend(ctx context.Context, id string, spend float64) error {
	if _, err := s.w.ExecContext(ctx, `UPDATE budgets SET spend = ? WHERE id = ?`, spend, id); err != nil {
		return fmt.Errorf("store: set budget spend: %w", err)
	}
	return nil
}

// RestartBudget starts the window seed describes, at spend 0, on a budget whose duration changed
// to seed.Duration, and reports whether this call did it: of several gateways applying the same
// change (a reloaded config), the first does, the others find the duration already changed. A
// budget with no row yet gets one from seed.
func (s *Store) RestartBudget(ctx context.Context, seed BudgetRow, now time.Time) (bool, error) {
	var took bool
	err := s.writeTx(ctx, "restart budget", func(tx *txn) error {
		var err error
		took, err = restartBudget(ctx, tx, seed, now)
		return err
	})
	return took, err
}

func restartBudget(ctx context.Context, tx execer, seed BudgetRow, now time.Time) (bool, error) {
	res, err := tx.ExecContext(ctx, `UPDATE budgets SET spend = 0, duration = ?, budget_reset_at = ?, window_start = ?,
		max_budget = ?, updated_at = ? WHERE id = ? AND duration <> ?`,
		seed.Duration, nullMicros(seed.ResetAt), windowMicros(seed.WindowStart), nullFloat(seed.MaxBudget), micros(now),
		seed.ID, seed.Duration)
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	if n == 0 {
		if res, err = tx.ExecContext(ctx, `INSERT INTO budgets (id, spend, max_budget, duration, budget_reset_at, window_start, updated_at)
			VALUES (?, 0, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, seed.ID, nullFloat(seed.MaxBudget), seed.Duration,
			nullMicros(seed.ResetAt), windowMicros(seed.WindowStart), micros(now)); err != nil {
			return false, err
		}
		n, _ = res.RowsAffected()
	}
	if n != 1 {
		return false, nil
	}
	return true, resetKey(ctx, tx, seed.ID, seed.WindowStart, seed.ResetAt, now)
}

// GetBudget returns a shared budget's row and what live holds hold on it, or ErrNotFound.
func (s *Store) GetBudget(ctx context.Context, id string, now time.Time) (BudgetState, error) {
	m, err := s.GetBudgets(ctx, []string{id}, now)
	if err != nil {
		return BudgetState{}, err
	}
	b, ok := m[id]
	if !ok {
		return BudgetState{}, wrapGet("budget", sql.ErrNoRows)
	}
	return b, nil
}

// GetBudgets is GetBudget for many budgets at once (a list of keys), a query per 500 ids; a
// budget with no row is absent from the map.
func (s *Store) GetBudgets(ctx context.Context, ids []string, now time.Time) (map[string]BudgetState, error) {
	out := make(map[string]BudgetState, len(ids))
	for chunk := range slices.Chunk(ids, 500) {
		args := []any{micros(now)}
		for _, id := range chunk {
			args = append(args, id)
		}
		rows, err := s.r.QueryContext(ctx, `SELECT id, spend, max_budget, duration, budget_reset_at, window_start,
			(SELECT COALESCE(SUM(amount), 0) FROM budget_holds WHERE budget_id = budgets.id AND expires > ?)
			FROM budgets WHERE id IN (`+list("?", len(chunk))+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("store: get budgets: %w", err)
		}
		for rows.Next() {
			var b BudgetState
			var maxB sql.NullFloat64
			var resetAt sql.NullInt64
			var ws int64
			if err := rows.Scan(&b.ID, &b.Spend, &maxB, &b.Duration, &resetAt, &ws, &b.Held); err != nil {
				rows.Close()
				return nil, fmt.Errorf("store: get budgets: %w", err)
			}
			b.MaxBudget, b.ResetAt, b.WindowStart = floatPtr(maxB), timePtr(resetAt), windowTime(ws)
			out[b.ID] = b
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("store: get budgets: %w", err)
		}
	}
	return out, nil
}

// ClaimAlert records that threshold fired for the budget's window and reports whether this call
// was the first to: of several gateways seeing the same crossing, only the claimer announces it.
func (s *Store) ClaimAlert(ctx context.Context, budgetID string, window time.Time, threshold string, now time.Time) (bool, error) {
	res, err := s.w.ExecContext(ctx, `INSERT INTO budget_alerts (budget_id, window_start, threshold, at) VALUES (?, ?, ?, ?)
		ON CONFLICT DO NOTHING`, budgetID, windowMicros(window), threshold, micros(now))
	if err != nil {
		return false, fmt.Errorf("store: claim alert: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: claim alert: %w", err)
	}
	return n == 1, nil
}

// windowMicros stores a window start, 0 for the zero time (a budget without a duration).
func windowMicros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return micros(t)
}

func windowTime(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return fromMicros(v)
}
