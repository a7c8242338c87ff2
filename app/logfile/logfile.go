// Package logfile keeps the tray app's log: a size-bounded set of rotated files in the data folder
// (clawgate.log, clawgate.log.1, ...) and the last lines in memory for the tray's Problems/Log view.
// It writes what it is given; keeping secrets out of log lines is the loggers' rule, not this one's.
package logfile

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// Defaults: 5 MB a file, the current one and two older ones, the last 200 lines in memory.
const (
	DefaultMaxBytes = 5 << 20
	DefaultKeep     = 3
	DefaultTail     = 200
)

// Log is an io.Writer for a slog handler. It is safe for concurrent use.
type Log struct {
	path     string
	maxBytes int64
	keep     int

	mu   sync.Mutex
	f    *os.File
	size int64
	tail []string // ring of the last lines, oldest first once full
	next int
	full bool
	part []byte // a line not yet ended
}

// Open appends to dir/clawgate.log, rotating at maxBytes and keeping keep files in all (zero
// values take the defaults).
func Open(dir string, maxBytes int64, keep int) (*Log, error) {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	if keep <= 0 {
		keep = DefaultKeep
	}
	l := &Log{path: filepath.Join(dir, "clawgate.log"), maxBytes: maxBytes, keep: keep, tail: make([]string, DefaultTail)}
	if err := l.open(); err != nil {
		return nil, err
	}
	return l, nil
}

// Path is the current log file.
func (l *Log) Path() string { return l.path }

func (l *Log) open() error {
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("open log: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("open log: %w", err)
	}
	l.f, l.size = f, fi.Size()
	return nil
}

// Write appends p (one or more log lines) to the file, rotating first when p would pass the bound.
// A failing disk does not fail the caller's logging: the line still reaches the memory tail.
func (l *Log) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.remember(p)
	if l.f == nil {
		return len(p), nil
	}
	if l.size > 0 && l.size+int64(len(p)) > l.maxBytes {
		l.rotate()
		if l.f == nil {
			return len(p), nil
		}
	}
	n, _ := l.f.Write(p)
	l.size += int64(n)
	return len(p), nil
}

// rotate shifts clawgate.log.N-1 to .N (dropping the oldest) and starts a new file.
func (l *Log) rotate() {
	l.f.Close()
	l.f = nil
	for i := l.keep - 1; i >= 1; i-- {
		from := l.path
		if i > 1 {
			from = fmt.Sprintf("%s.%d", l.path, i-1)
		}
		_ = os.Rename(from, fmt.Sprintf("%s.%d", l.path, i))
	}
	if l.keep == 1 {
		_ = os.Remove(l.path)
	}
	_ = l.open()
}

func (l *Log) remember(p []byte) {
	l.part = append(l.part, p...)
	for {
		i := bytes.IndexByte(l.part, '\n')
		if i < 0 {
			break
		}
		l.tail[l.next] = string(l.part[:i])
		l.next = (l.next + 1) % len(l.tail)
		if l.next == 0 {
			l.full = true
		}
		l.part = l.part[i+1:]
	}
	if len(l.part) == 0 {
		l.part = nil
	}
}

// Tail returns up to n of the last lines, oldest first.
func (l *Log) Tail(n int) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var lines []string
	if l.full {
		lines = append(lines, l.tail[l.next:]...)
	}
	lines = append(lines, l.tail[:l.next]...)
	if n >= 0 && len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return lines
}

// Close closes the file.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}
