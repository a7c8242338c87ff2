package store

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// The store's SQL is written once, with `?` placeholders and SQLite's portable subset; these
// turn it into PostgreSQL's spelling where the two differ only in form.

// eachCode calls f with each stretch of query outside string literals ('...'), quoted
// identifiers ("...") and comments (-- and /* */), and returns query with those stretches
// replaced by what f returns; the quoted parts and comments are kept as they are.
func eachCode(query string, f func(code string) string) string {
	var b strings.Builder
	b.Grow(len(query) + 16)
	start := 0 // of the current code stretch
	flush := func(end int) {
		if end > start {
			b.WriteString(f(query[start:end]))
		}
	}
	for i := 0; i < len(query); {
		c := query[i]
		var end int // end of the quoted part or comment starting at i
		switch {
		case c == '\'' || c == '"':
			// A doubled quote inside is two adjacent literals to this scan: same result.
			j := strings.IndexByte(query[i+1:], c)
			if j < 0 {
				end = len(query)
			} else {
				end = i + 1 + j + 1
			}
		case c == '-' && strings.HasPrefix(query[i:], "--"):
			j := strings.IndexByte(query[i:], '\n')
			if j < 0 {
				end = len(query)
			} else {
				end = i + j
			}
		case c == '/' && strings.HasPrefix(query[i:], "/*"):
			j := strings.Index(query[i+2:], "*/")
			if j < 0 {
				end = len(query)
			} else {
				end = i + 2 + j + 2
			}
		default:
			i++
			continue
		}
		flush(i)
		b.WriteString(query[i:end])
		i, start = end, end
	}
	flush(len(query))
	return b.String()
}

// rebindDollar turns each `?` placeholder outside literals and comments into $1, $2, ...
func rebindDollar(query string) string {
	if !strings.Contains(query, "?") {
		return query
	}
	n := 0
	return eachCode(query, func(code string) string {
		if !strings.Contains(code, "?") {
			return code
		}
		var b strings.Builder
		for i := 0; i < len(code); i++ {
			if code[i] == '?' {
				n++
				b.WriteString("$" + strconv.Itoa(n))
				continue
			}
			b.WriteByte(code[i])
		}
		return b.String()
	})
}

// notPortable matches what a migration in the portable subset must not use: SQLite's own
// statements, conflict clauses and functions. A migration that uses them needs its PostgreSQL
// text written by hand (migration.postgres).
var notPortable = regexp.MustCompile(`(?i)\b(TRIGGER|AUTOINCREMENT|VIRTUAL\s+TABLE|OR\s+(IGNORE|REPLACE|ABORT|FAIL|ROLLBACK)|` +
	`json_\w+|unixepoch|datetime|strftime|julianday|PRAGMA|rowid|GLOB)\b`)

// sqliteTypes are the column types of SQLite's STRICT tables and their PostgreSQL spelling.
// INTEGER is 64-bit in SQLite: BIGINT keeps the range (times are microseconds).
var sqliteTypes = regexp.MustCompile(`(?i)\b(INTEGER|REAL|BLOB|ANY)\b`)

// tableOptions are SQLite's table options after the closing parenthesis.
var tableOptions = regexp.MustCompile(`(?i)\)\s*(STRICT|WITHOUT\s+ROWID)(\s*,\s*(STRICT|WITHOUT\s+ROWID))?`)

// portableToPostgres derives a migration's PostgreSQL text from its SQLite text, for the
// portable subset: plain CREATE TABLE / CREATE INDEX / DROP INDEX / ALTER TABLE ADD COLUMN with
// TEXT, INTEGER and REAL columns, INSERT ... ON CONFLICT ... DO UPDATE, UPDATE, DELETE. It
// refuses (rather than guesses at) anything else.
func portableToPostgres(sqlite string) (string, error) {
	var bad string
	out := eachCode(sqlite, func(code string) string {
		code = tableOptions.ReplaceAllString(code, ")")
		if m := notPortable.FindString(code); m != "" && bad == "" {
			bad = m
		}
		return sqliteTypes.ReplaceAllStringFunc(code, func(t string) string {
			switch strings.ToUpper(t) {
			case "INTEGER":
				return "BIGINT"
			case "REAL":
				return "DOUBLE PRECISION"
			case "BLOB":
				return "BYTEA"
			}
			bad = t
			return t
		})
	})
	if bad != "" {
		return "", fmt.Errorf("%q is not in the portable subset: write this migration's PostgreSQL text by hand", bad)
	}
	return out, nil
}
