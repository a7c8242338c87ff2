package app

import (
	"context"
	"strings"

	"github.com/clawgate/clawgate/app/openclaw"
)

// OpenClawPreview is what OpenClawConnect would change in OpenClaw's config, without writing
// anything: the file's path and its changed lines as a diff ("- " removed, "+ " added, "  " the
// unchanged line before each change for context). An empty diff means nothing would change. It
// reads the file: call it off the UI goroutine.
func (a *App) OpenClawPreview(ctx context.Context) (path string, diff []string, err error) {
	path, original, d, err := a.readOpenClaw()
	if err != nil {
		return path, nil, err
	}
	accepted := func(key string) bool { return key != "" && a.keyWorks(ctx, key) }
	if _, err := openclaw.Connect(d, openclaw.ConnectOptions{
		BaseURL: a.gatewayURL(), BearerAuth: true, Models: openclaw.ModelsFor(a.routes()),
		KeepKey: func(k string) bool { return !strings.Contains(k, "${") && accepted(k) },
	}); err != nil {
		return path, nil, err
	}
	return path, lineDiff(string(original), string(d.Bytes())), nil
}

// lineDiff is a line diff of a and b by longest common subsequence (config files are small).
func lineDiff(a, b string) []string {
	if a == b {
		return nil
	}
	x, y := splitLines(a), splitLines(b)
	// lcs[i][j] is the common length of x[i:] and y[j:].
	lcs := make([][]int, len(x)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(y)+1)
	}
	for i := len(x) - 1; i >= 0; i-- {
		for j := len(y) - 1; j >= 0; j-- {
			if x[i] == y[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out []string
	last := "" // the last unchanged line, shown once before a change
	shown := true
	context := func() {
		if !shown && last != "" {
			out = append(out, "  "+last)
		}
		shown = true
	}
	i, j := 0, 0
	for i < len(x) || j < len(y) {
		switch {
		case i < len(x) && j < len(y) && x[i] == y[j]:
			last, shown = x[i], false
			i, j = i+1, j+1
		case i < len(x) && (j == len(y) || lcs[i+1][j] >= lcs[i][j+1]):
			context()
			out = append(out, "- "+x[i])
			i++
		default:
			context()
			out = append(out, "+ "+y[j])
			j++
		}
	}
	return out
}

func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}
