// Command mutate checks that the tests catch the bugs that would cost users money or send their
// requests to the wrong place. It reads a list of targeted mutations (mutations.txt: a file, an
// exact snippet, its replacement, the packages whose tests should fail), applies each one through
// go test -overlay so the source tree is never written, and reports which ones the tests caught.
// It exits 1 when any mutation survives or no longer applies, so the list cannot rot unnoticed.
//
//	go run ./internal/mutate [-only regexp] [-j n] [-v]
//
// A bespoke runner rather than an operator-mutation tool: the mutations worth paying a test run
// for are semantic (the client's model name sent upstream, a reservation settled instead of the
// real cost), which generic operator flips do not produce, and a short list keeps the run bounded.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("mutate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		list     = fs.String("list", "internal/mutate/mutations.txt", "the mutation list (a relative path is from the module root)")
		only     = fs.String("only", "", "run only the mutations whose name matches this regexp")
		jobs     = fs.Int("j", 1, "mutations tested at once")
		timeout  = fs.Duration("timeout", 5*time.Minute, "go test -timeout for each run (a mutation that hangs the tests counts as caught)")
		baseline = fs.Bool("baseline", true, "first run the packages' tests unmutated: they must pass, or no catch means anything")
		verbose  = fs.Bool("v", false, "print go test's output for every mutation")
		check    = fs.Bool("check", false, "only check that every entry applies to the current source, running no tests")
	)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	root, module, err := moduleRoot()
	if err != nil {
		fmt.Fprintln(stderr, "mutate:", err)
		return 2
	}
	listPath := filepath.FromSlash(*list)
	if !filepath.IsAbs(listPath) {
		listPath = filepath.Join(root, listPath)
	}
	muts, err := loadList(listPath)
	if err != nil {
		fmt.Fprintln(stderr, "mutate:", err)
		return 2
	}
	if *only != "" {
		re, err := regexp.Compile(*only)
		if err != nil {
			fmt.Fprintln(stderr, "mutate: -only:", err)
			return 2
		}
		muts = slices.DeleteFunc(muts, func(m Mutation) bool { return !re.MatchString(m.Name) })
	}
	if len(muts) == 0 {
		fmt.Fprintln(stderr, "mutate: no mutations to run")
		return 2
	}
	if errs := applyAll(root, muts); len(errs) > 0 {
		for _, e := range errs {
			fmt.Fprintln(stderr, "mutate:", e)
		}
		return 1
	}
	if *check {
		fmt.Fprintf(stdout, "all %d mutations apply to the current source\n", len(muts))
		return 0
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	tmp, err := os.MkdirTemp("", "clawgate-mutate-")
	if err != nil {
		fmt.Fprintln(stderr, "mutate:", err)
		return 2
	}
	defer os.RemoveAll(tmp)
	r := &runner{root: root, module: module, goCmd: goCommand(), timeout: *timeout, tmp: tmp}

	start := time.Now()
	if *baseline {
		pkgs := allPackages(muts)
		fmt.Fprintf(stdout, "baseline: go test %s\n", strings.Join(pkgs, " "))
		out, err := r.goTest(ctx, "", pkgs)
		if err != nil {
			fmt.Fprintf(stderr, "mutate: the unmutated tests fail, so a catch would mean nothing:\n%s", out)
			return 2
		}
		fmt.Fprintf(stdout, "baseline passed in %s\n", time.Since(start).Round(time.Second))
	}

	results := make([]Result, len(muts))
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		sem = make(chan struct{}, max(*jobs, 1))
	)
	for i, m := range muts {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			res := r.run(ctx, i, m)
			results[i] = res
			mu.Lock()
			defer mu.Unlock()
			fmt.Fprintf(stdout, "%-8s %-36s %5.1fs  %s\n", res.Outcome, m.Name, res.Took.Seconds(), res.By)
			if *verbose || res.Outcome == Broken {
				stdout.Write(indent(res.Output))
			}
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		fmt.Fprintln(stderr, "mutate: interrupted")
		return 2
	}
	report(stdout, results, time.Since(start))
	for _, res := range results {
		if res.Outcome != Caught {
			return 1
		}
	}
	return 0
}

// report prints the table and the caught/total line.
func report(w io.Writer, results []Result, took time.Duration) {
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "RESULT\tMUTATION\tFILE\tTIME\tCAUGHT BY / WHY IT MATTERS")
	caught := 0
	for _, res := range results {
		note := res.By
		switch res.Outcome {
		case Caught:
			caught++
		case Survived:
			note = res.M.Why
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.1fs\t%s\n", res.Outcome, res.M.Name, res.M.File, res.Took.Seconds(), note)
	}
	tw.Flush()
	fmt.Fprintf(w, "\ncaught %d/%d mutations in %s\n", caught, len(results), took.Round(time.Second))
}

func loadList(path string) ([]Mutation, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	muts, err := parseList(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return muts, nil
}

// applyAll checks, before any test runs, that every entry still applies to the current source.
func applyAll(root string, muts []Mutation) []error {
	var errs []error
	for _, m := range muts {
		src, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(m.File)))
		if err == nil {
			_, err = m.Apply(src)
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// allPackages is the union of every mutation's packages, in first-seen order.
func allPackages(muts []Mutation) []string {
	var pkgs []string
	for _, m := range muts {
		for _, p := range m.Packages {
			if !slices.Contains(pkgs, p) {
				pkgs = append(pkgs, p)
			}
		}
	}
	return pkgs
}

// moduleRoot finds go.mod from the working directory up and reads the module path from it.
func moduleRoot() (root, module string, err error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil {
			for line := range bytes.Lines(b) {
				if rest, ok := bytes.CutPrefix(bytes.TrimSpace(line), []byte("module ")); ok {
					return dir, string(bytes.Trim(bytes.TrimSpace(rest), `"`)), nil
				}
			}
			return "", "", fmt.Errorf("%s/go.mod has no module line", dir)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", "", errors.New("no go.mod in the working directory or above it")
		}
		dir = parent
	}
}

// goCommand is $GO (the Makefile passes its own) or the go on PATH.
func goCommand() string {
	if g := os.Getenv("GO"); g != "" {
		return g
	}
	return "go"
}

func indent(out []byte) []byte {
	var b bytes.Buffer
	for line := range bytes.Lines(out) {
		b.WriteString("    ")
		b.Write(line)
	}
	if b.Len() > 0 && !bytes.HasSuffix(b.Bytes(), []byte("\n")) {
		b.WriteByte('\n')
	}
	return b.Bytes()
}
