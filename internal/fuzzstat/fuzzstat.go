// Package fuzzstat counts, inside a fuzz worker, how many inputs reached the code under test and
// how many a target turned away early, so that scripts/fuzz.sh can print the share next to Go's
// own exec count. A fuzzer whose inputs almost all fail a first parse fuzzes only that parse.
//
// Go runs a fuzz target in worker processes whose output it discards, so the counts go to a
// file: with CLAWGATE_FUZZSTATS set to a folder, each worker rewrites <folder>/<pid> at most
// every 200 ms ("reached N early M"). Without the variable (plain go test) it only counts.
package fuzzstat

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

var (
	mu             sync.Mutex
	reached, early int64
	last           time.Time
	dir            = os.Getenv("CLAWGATE_FUZZSTATS")
)

// Reached records an input that got to the code under test.
func Reached() { count(true) }

// Early records an input the target returned on before the code under test.
func Early() { count(false) }

// Reach records ok as Reached or Early and returns it, for `if !fuzzstat.Reach(err == nil) { return }`.
func Reach(ok bool) bool {
	count(ok)
	return ok
}

func count(ok bool) {
	mu.Lock()
	defer mu.Unlock()
	if ok {
		reached++
	} else {
		early++
	}
	if dir == "" || time.Since(last) < 200*time.Millisecond {
		return
	}
	last = time.Now()
	// A lost write only makes the printed share a little stale; the fuzzer must not stop for it.
	_ = os.WriteFile(filepath.Join(dir, fmt.Sprint(os.Getpid())), fmt.Appendf(nil, "reached %d early %d\n", reached, early), 0o644)
}
