package main

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// Mutation is one deliberate bug: in File, the one place Original matches becomes Replacement,
// and the tests of Packages must then fail.
type Mutation struct {
	Name        string
	File        string   // relative to the module root, slash-separated
	Packages    []string // go test patterns, e.g. ./proxy
	Why         string   // what the bug would cost a user
	Original    string   // lines joined with \n
	Replacement string
	Line        int // where the entry starts in the list, for messages
}

// parseList reads the mutation list. An entry is
//
//	[name]
//	file: proxy/chat.go
//	test: ./proxy ./proxy/route
//	why: one line
//	- original line
//	+ replacement line
//
// with one or more "-" and "+" lines (the marker and one space after it are dropped). Blank lines
// and lines starting with # are ignored.
func parseList(r io.Reader) ([]Mutation, error) {
	var (
		out  []Mutation
		cur  *Mutation
		orig []string
		repl []string
	)
	seen := map[string]int{}
	end := func() error {
		if cur == nil {
			return nil
		}
		cur.Original, cur.Replacement = strings.Join(orig, "\n"), strings.Join(repl, "\n")
		orig, repl = nil, nil
		if err := cur.check(); err != nil {
			return fmt.Errorf("line %d: [%s]: %w", cur.Line, cur.Name, err)
		}
		out = append(out, *cur)
		return nil
	}
	sc := bufio.NewScanner(r)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimRight(sc.Text(), " \t\r")
		trimmed := strings.TrimLeft(line, " \t")
		switch {
		case trimmed == "" || strings.HasPrefix(trimmed, "#"):
			continue
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			if err := end(); err != nil {
				return nil, err
			}
			name := line[1 : len(line)-1]
			if prev, dup := seen[name]; dup {
				return nil, fmt.Errorf("line %d: [%s] is already defined on line %d", n, name, prev)
			}
			seen[name] = n
			cur = &Mutation{Name: name, Line: n}
		case cur == nil:
			return nil, fmt.Errorf("line %d: %q comes before the first [name]", n, line)
		case strings.HasPrefix(line, "-"):
			if len(repl) > 0 {
				return nil, fmt.Errorf("line %d: a - line after the + lines", n)
			}
			orig = append(orig, strings.TrimPrefix(strings.TrimPrefix(line, "-"), " "))
		case strings.HasPrefix(line, "+"):
			repl = append(repl, strings.TrimPrefix(strings.TrimPrefix(line, "+"), " "))
		default:
			key, val, ok := strings.Cut(line, ":")
			if !ok {
				return nil, fmt.Errorf("line %d: want key: value, - or + (got %q)", n, line)
			}
			val = strings.TrimSpace(val)
			switch strings.TrimSpace(key) {
			case "file":
				cur.File = val
			case "test":
				cur.Packages = strings.Fields(val)
			case "why":
				cur.Why = val
			default:
				return nil, fmt.Errorf("line %d: unknown key %q (file, test, why)", n, key)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if err := end(); err != nil {
		return nil, err
	}
	return out, nil
}

func (m *Mutation) check() error {
	switch {
	case m.File == "":
		return fmt.Errorf("no file:")
	case len(m.Packages) == 0:
		return fmt.Errorf("no test: packages")
	case strings.TrimSpace(m.Original) == "":
		return fmt.Errorf("no - lines (the original)")
	case m.Original == m.Replacement:
		return fmt.Errorf("the replacement equals the original")
	}
	return nil
}

// Apply returns src with the mutation made. The original is matched token for token: each run of
// whitespace in it matches any run of whitespace in src, so that gofmt realigning a struct or a
// change of indentation does not break an entry, while any change to the code itself does. It
// must match exactly once: zero means the list has gone stale, two means the snippet is ambiguous.
func (m *Mutation) Apply(src []byte) ([]byte, error) {
	re := snippetPattern(m.Original)
	locs := re.FindAllIndex(src, 2)
	switch len(locs) {
	case 0:
		return nil, fmt.Errorf("%s: [%s] (list line %d): the original no longer appears in the file; update the entry to the current code", m.File, m.Name, m.Line)
	case 2:
		return nil, fmt.Errorf("%s: [%s] (list line %d): the original appears more than once; make it longer so it names one place", m.File, m.Name, m.Line)
	}
	loc := locs[0]
	out := make([]byte, 0, len(src)+len(m.Replacement))
	out = append(out, src[:loc[0]]...)
	out = append(out, m.Replacement...)
	return append(out, src[loc[1]:]...), nil
}

// snippetPattern matches s token for token, and only as whole words at its ends: "A int" does
// not match inside "DATA int".
func snippetPattern(s string) *regexp.Regexp {
	toks := strings.Fields(s)
	for i, t := range toks {
		toks[i] = regexp.QuoteMeta(t)
	}
	p := strings.Join(toks, `\s+`)
	if isWord(s[firstNonSpace(s)]) {
		p = `\b` + p
	}
	if isWord(strings.TrimSpace(s)[len(strings.TrimSpace(s))-1]) {
		p += `\b`
	}
	return regexp.MustCompile(p)
}

func firstNonSpace(s string) int { return len(s) - len(strings.TrimLeft(s, " \t\n")) }

func isWord(c byte) bool {
	return c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}
