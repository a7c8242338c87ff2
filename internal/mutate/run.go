package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// Outcome is what the tests made of one mutation.
type Outcome int

const (
	Caught   Outcome = iota // the tests failed: good
	Survived                // the tests passed with the bug in place
	Broken                  // the mutated code did not build, or the entry no longer applies
)

func (o Outcome) String() string {
	return [...]string{"caught", "SURVIVED", "ERROR"}[o]
}

// Result is one mutation's run.
type Result struct {
	M       Mutation
	Outcome Outcome
	By      string // the first failing test (or package) when caught; the reason when broken
	Took    time.Duration
	Output  []byte
}

// runner runs go test in the module root.
type runner struct {
	root    string
	module  string // the module path, trimmed from package names in the report
	goCmd   string
	timeout time.Duration // go test -timeout, per run
	tmp     string
}

// goTest runs go test -count=1 over pkgs, with overlay when it is not "".
func (r *runner) goTest(ctx context.Context, overlay string, pkgs []string) ([]byte, error) {
	args := []string{"test", "-count=1", "-timeout=" + r.timeout.String()}
	if overlay != "" {
		args = append(args, "-overlay="+overlay)
	}
	args = append(args, pkgs...)
	cmd := exec.CommandContext(ctx, r.goCmd, args...)
	cmd.Dir = r.root
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.Bytes(), err
}

// run applies m through an overlay (the source tree is never written) and runs its packages' tests.
func (r *runner) run(ctx context.Context, i int, m Mutation) Result {
	start := time.Now()
	res := Result{M: m}
	overlay, err := r.writeOverlay(i, m)
	if err != nil {
		res.Outcome, res.By = Broken, err.Error()
		return res
	}
	out, err := r.goTest(ctx, overlay, m.Packages)
	res.Took, res.Output = time.Since(start), out
	res.Outcome, res.By = classify(r.module, out, err)
	return res
}

func (r *runner) writeOverlay(i int, m Mutation) (string, error) {
	path := filepath.Join(r.root, filepath.FromSlash(m.File))
	src, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	mutated, err := m.Apply(src)
	if err != nil {
		return "", err
	}
	dir := filepath.Join(r.tmp, fmt.Sprintf("%02d-%s", i, m.Name))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	file := filepath.Join(dir, filepath.Base(path))
	if err := os.WriteFile(file, mutated, 0o644); err != nil {
		return "", err
	}
	b, err := json.Marshal(map[string]map[string]string{"Replace": {path: file}})
	if err != nil {
		return "", err
	}
	overlay := filepath.Join(dir, "overlay.json")
	return overlay, os.WriteFile(overlay, b, 0o644)
}

var (
	buildFailed = regexp.MustCompile(`\[(build|setup) failed\]|cannot find package|matched no packages|is not in std|no required module`)
	failedTest  = regexp.MustCompile(`(?m)^\s*--- FAIL: (\S+)`)
	failedPkg   = regexp.MustCompile(`(?m)^FAIL[ \t]+(\S+)`)
	panicked    = regexp.MustCompile(`(?m)^panic: (.*)$`)
)

// classify reads go test's exit and output. A failure to build is not a catch: the mutation
// must compile for its survival to mean anything.
func classify(mod string, out []byte, err error) (Outcome, string) {
	if err == nil {
		return Survived, ""
	}
	if _, ok := err.(*exec.ExitError); !ok {
		return Broken, "go test did not run: " + err.Error()
	}
	if buildFailed.Match(out) {
		return Broken, "does not build: " + firstLines(out, 3)
	}
	by := ""
	if m := failedPkg.FindSubmatch(out); m != nil {
		by = shortPkg(mod, string(m[1]))
	}
	switch {
	case failedTest.Match(out):
		by += ": " + string(failedTest.FindSubmatch(out)[1])
	case panicked.Match(out):
		by += ": panic: " + string(panicked.FindSubmatch(out)[1])
	}
	if by == "" {
		by = firstLines(out, 1)
	}
	return Caught, by
}

// shortPkg drops the module path from an import path.
func shortPkg(mod, p string) string {
	if rest, ok := strings.CutPrefix(p, mod+"/"); ok {
		return rest
	}
	return p
}

func firstLines(out []byte, n int) string {
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, " | ")
}
