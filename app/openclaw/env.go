package openclaw

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// EnvPath is the dotenv file OpenClaw reads after its own environment (and ./.env):
// $OPENCLAW_STATE_DIR/.env, else ~/.openclaw/.env, "~" being OPENCLAW_HOME when set.
func EnvPath(env func(string) string, home string) string {
	if env == nil {
		env = func(string) string { return "" }
	}
	if sd := strings.TrimSpace(env("OPENCLAW_STATE_DIR")); sd != "" {
		return filepath.Join(expand(sd, Home(env, home)), ".env")
	}
	return filepath.Join(Home(env, home), ".openclaw", ".env")
}

var (
	envNameRE  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	envPlainRE = regexp.MustCompile(`^[A-Za-z0-9_./:+=@-]*$`)
)

// EnsureEnv makes name available to OpenClaw through the dotenv file at path. When the file
// already gives name a non-empty value, nothing is written and that value is returned: the
// user's setting wins. Else "name=value" is appended, keeping every other line; the file is
// written by temp file and rename with mode 0600 (it holds a key), its folder created 0700.
func EnsureEnv(path, name, value string) (written bool, existing string, err error) {
	if !envNameRE.MatchString(name) {
		return false, "", fmt.Errorf("openclaw: bad variable name %q", name)
	}
	if value == "" || strings.ContainsAny(value, "\r\n\x00\"\\") {
		return false, "", fmt.Errorf("openclaw: %s: the value must be non-empty, on one line, without quotes or backslashes", name)
	}
	data, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, "", fmt.Errorf("openclaw: read %s: %w", path, err)
	}
	if v, ok := lookupEnv(string(data), name); ok && v != "" {
		return false, v, nil
	}
	line := name + "=" + value
	if !envPlainRE.MatchString(value) {
		line = name + `="` + value + `"`
	}
	out := string(data)
	if out != "" && !strings.HasSuffix(out, "\n") {
		out += "\n"
	}
	out += line + "\n"
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return false, "", fmt.Errorf("openclaw: %w", err)
	}
	if err := atomicWrite(path, []byte(out)); err != nil {
		return false, "", err
	}
	return true, "", nil
}

// lookupEnv finds name in dotenv text: KEY=VALUE lines, optional "export ", # comments, values
// optionally quoted. The last assignment wins.
func lookupEnv(text, name string) (string, bool) {
	val, found := "", false
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(strings.TrimSuffix(line, "\r"))
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		k, v, ok := strings.Cut(line, "=")
		if !ok || strings.TrimSpace(k) != name {
			continue
		}
		v = strings.TrimSpace(v)
		if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
			v = v[1 : len(v)-1]
		} else if i := strings.Index(v, " #"); i >= 0 {
			v = strings.TrimSpace(v[:i])
		}
		val, found = v, true
	}
	return val, found
}
