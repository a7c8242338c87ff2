package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestCommandLine(t *testing.T) {
	for _, tc := range []struct {
		args     []string
		code     int
		out, err string
	}{
		{args: []string{"version"}, code: 0, out: "clawgate " + version},
		{args: []string{"help"}, code: 0, out: "clawgate serve [flags]"},
		{args: []string{"serve", "--help"}, code: 0, out: "-port int"},
		{args: []string{"--help"}, code: 0, out: "Run the tray app"},
		{args: []string{"help", "serve"}, code: 0, out: "-drain-timeout"},
		{args: []string{"keys", "--help"}, code: 0, out: "keychain/NAME"},
		{args: []string{"keys"}, code: 2, out: "clawgate keys set NAME"},
		{args: []string{"keys", "frobnicate"}, code: 2, err: "unexpected arguments"},
		{args: []string{"nonsense"}, code: 2, err: `unknown command "nonsense"`},
		{args: []string{"serve", "--port", "x"}, code: 2, out: "invalid value"},
		{args: []string{"serve", "extra"}, code: 2, out: `unexpected argument "extra"`},
		{args: []string{"serve", "--config", "/nonexistent-dir/sub/config.yaml", "--data-dir", "/proc/clawgate-cannot"}, code: 1, err: "clawgate:"},
		{args: []string{"prices", "--help"}, code: 0, out: "per provider"},
		{args: []string{"prices", "--config", "/nonexistent-dir/config.yaml"}, code: 0, out: "@pydantic/genai-prices"},
		{args: []string{"prices", "anthropic/claude-opus-5-5", "--config", "/nonexistent-dir/config.yaml"}, code: 0, out: "input $4, output $20"},
		{args: []string{"prices", "--config", "/nonexistent-dir/config.yaml", "gpt-4o"}, code: 0, out: "entry          gpt-4o"},
		{args: []string{"prices", "--config", "/nonexistent-dir/config.yaml", "nobody/gpt-nope"}, code: 1, err: "no price for nobody/gpt-nope"},
		{args: []string{"prices", "a", "b"}, code: 2, err: "one MODEL at most"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(tc.args, &out, &errb)
			if code != tc.code || !strings.Contains(out.String(), tc.out) || !strings.Contains(errb.String(), tc.err) {
				t.Errorf("code %d (want %d)\nstdout: %s\nstderr: %s", code, tc.code, out.String(), errb.String())
			}
		})
	}
}

func TestReadSecret(t *testing.T) {
	for in, want := range map[string]string{"sk-abc\n": "sk-abc", "  sk-abc  \r\n": "sk-abc", "sk-abc": "sk-abc", "sk-a\nsecond line": "sk-a"} {
		got, err := readSecret(strings.NewReader(in))
		if err != nil || got != want {
			t.Errorf("readSecret(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := readSecret(strings.NewReader("\n")); err == nil || !strings.Contains(err.Error(), "no secret") {
		t.Errorf("empty input: %v", err)
	}
}
