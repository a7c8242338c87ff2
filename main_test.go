package main

import (
	"bytes"
	"errors"
	"log"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clawgate/clawgate/internal/quietinit"
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
		{args: []string{"db"}, code: 2, err: "clawgate db migrate --to postgres://"},
		{args: []string{"db", "--help"}, code: 0, out: "one transaction"},
		{args: []string{"db", "migrate", "--help"}, code: 0, out: "-data-dir"},
		{args: []string{"db", "migrate"}, code: 2, err: "--to postgres://... is required"},
		{args: []string{"db", "migrate", "--to", "mysql://u:pw@h/x", "--data-dir", "/nonexistent-dir"}, code: 1, err: "must be a postgres://"},
		{args: []string{"db", "migrate", "--to", "postgres://u:pw@127.0.0.1:1/x", "--data-dir", "/nonexistent-dir"}, code: 1, err: "no ledger to copy in /nonexistent-dir"},
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
		{args: []string{"team", "--help"}, code: 0, out: "clawgate team join URL"},
		{args: []string{"team"}, code: 2, out: "clawgate team use team|local"},
		{args: []string{"team", "join"}, code: 2, err: "name the team gateway's URL"},
		{args: []string{"team", "use", "nope"}, code: 2, err: `"nope" is neither team nor local`},
		{args: []string{"team", "frob"}, code: 2, err: `unknown command "frob"`},
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

// A read-only command leaves the data folder as it found it: no database, no example config.
func TestMasterKeyTouchesNothing(t *testing.T) {
	t.Setenv("LITELLM_MASTER_KEY", "sk-from-env")
	dir := t.TempDir()
	data, cfg := filepath.Join(dir, "data"), filepath.Join(dir, "config", "config.yaml")
	var out, errb bytes.Buffer
	if code := run([]string{"master-key", "--data-dir", data, "--config", cfg}, &out, &errb); code != 0 || out.String() != "sk-from-env\n" {
		t.Fatalf("code %d, stdout %q, stderr %q", code, out.String(), errb.String())
	}
	for _, p := range []string{data, cfg} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("master-key created %s (%v)", p, err)
		}
	}
	// The config's own key wins, and a broken config is an error, not a key.
	os.MkdirAll(filepath.Dir(cfg), 0o700)
	os.WriteFile(cfg, []byte("general_settings: {master_key: sk-from-config}\n"), 0o600)
	out.Reset()
	if code := run([]string{"master-key", "--data-dir", data, "--config", cfg}, &out, &errb); code != 0 || out.String() != "sk-from-config\n" {
		t.Fatalf("code %d, stdout %q", code, out.String())
	}
	os.WriteFile(cfg, []byte("model_list: [\n"), 0o600)
	if code := run([]string{"master-key", "--data-dir", data, "--config", cfg}, &out, &errb); code != 1 {
		t.Errorf("broken config: code %d", code)
	}
	if _, err := os.Stat(data); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("master-key created the data folder")
	}
}

// initLog is where the standard logger wrote before main would have run: quietinit must have
// initialised before the log package, pointing os.Stderr (which log takes as its output when it
// initialises) at the null device, so that Fyne's lang init ("Error parsing user locale C" under
// LANG=C) reaches no terminal.
var initLog = log.Writer()

func TestMain(m *testing.M) {
	// What main does first; the tests then see the real stderr.
	quietinit.Restore()
	log.SetOutput(os.Stderr)
	os.Exit(m.Run())
}

func TestFyneInitNoiseGoesNowhere(t *testing.T) {
	if f, ok := initLog.(*os.File); !ok || f.Name() != os.DevNull {
		t.Fatalf("log wrote to %v during init, not %s: Fyne's locale noise reaches the terminal", initLog, os.DevNull)
	}
	if os.Stderr.Name() != "/dev/stderr" {
		t.Errorf("os.Stderr is %s after Restore", os.Stderr.Name())
	}
}
