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

// EnvPath is the dotenv file OpenClaw reads after its own environment (and ./.env): .env in
// the profile's state folder (see StateDir).
func EnvPath(env func(string) string, home string) string {
	return filepath.Join(StateDir(env, home), ".env")
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
	if err := checkEnv(name, value); err != nil {
		return false, "", err
	}
	data, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, "", fmt.Errorf("openclaw: read %s: %w", path, err)
	}
	if v, ok := lookupEnv(string(data), name); ok && v != "" {
		return false, v, nil
	}
	out := string(data)
	if out != "" && !strings.HasSuffix(out, "\n") {
		out += "\n"
	}
	out += envLine(name, value) + "\n"
	if err := writeEnv(path, out); err != nil {
		return false, "", err
	}
	return true, "", nil
}

// SetEnv makes the dotenv file at path give name the value: the first assignment of name is
// replaced in place, later ones are dropped (so no other line can win), and every other line is
// kept; with none, the line is appended. It writes nothing when name already has the value.
func SetEnv(path, name, value string) (changed bool, err error) {
	if err := checkEnv(name, value); err != nil {
		return false, err
	}
	data, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, fmt.Errorf("openclaw: read %s: %w", path, err)
	}
	lines := strings.SplitAfter(string(data), "\n")
	var out strings.Builder
	done := false
	for _, l := range lines {
		if k, _, ok := envAssignment(l); ok && k == name {
			if !done {
				out.WriteString(envLine(name, value) + "\n")
				done = true
			}
			continue
		}
		out.WriteString(l)
	}
	if !done {
		if out.Len() > 0 && !strings.HasSuffix(out.String(), "\n") {
			out.WriteString("\n")
		}
		out.WriteString(envLine(name, value) + "\n")
	}
	if out.String() == string(data) {
		return false, nil
	}
	return true, writeEnv(path, out.String())
}

// UnsetEnv removes every assignment of name from the dotenv file at path, keeping every other
// line; a missing file or name writes nothing. It undoes SetEnv of a name that was absent.
func UnsetEnv(path, name string) (changed bool, err error) {
	if !envNameRE.MatchString(name) {
		return false, fmt.Errorf("openclaw: bad variable name %q", name)
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("openclaw: read %s: %w", path, err)
	}
	var out strings.Builder
	for _, l := range strings.SplitAfter(string(data), "\n") {
		if k, _, ok := envAssignment(l); !ok || k != name {
			out.WriteString(l)
		}
	}
	if out.String() == string(data) {
		return false, nil
	}
	return true, writeEnv(path, out.String())
}

func checkEnv(name, value string) error {
	if !envNameRE.MatchString(name) {
		return fmt.Errorf("openclaw: bad variable name %q", name)
	}
	if value == "" || strings.ContainsAny(value, "\r\n\x00\"\\") {
		return fmt.Errorf("openclaw: %s: the value must be non-empty, on one line, without quotes or backslashes", name)
	}
	return nil
}

func envLine(name, value string) string {
	if !envPlainRE.MatchString(value) {
		return name + `="` + value + `"`
	}
	return name + "=" + value
}

// writeEnv writes a dotenv file by temp file and rename with mode 0600 (it holds keys), its folder
// created 0700.
func writeEnv(path, text string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("openclaw: %w", err)
	}
	return atomicWrite(path, []byte(text))
}

// lookupEnv finds name in dotenv text: KEY=VALUE lines, optional "export ", # comments, values
// optionally quoted. The last assignment wins.
func lookupEnv(text, name string) (string, bool) {
	val, found := "", false
	for _, line := range strings.Split(text, "\n") {
		if k, v, ok := envAssignment(line); ok && k == name {
			val, found = v, true
		}
	}
	return val, found
}

// LookupEnvFile reads name from a dotenv file ("" and false when the file or the name is absent).
func LookupEnvFile(path, name string) (string, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", false
	}
	return lookupEnv(string(b), name)
}

// envAssignment parses one dotenv line into its name and value.
func envAssignment(line string) (name, value string, ok bool) {
	line = strings.TrimSpace(strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r"))
	if line == "" || strings.HasPrefix(line, "#") {
		return "", "", false
	}
	line = strings.TrimPrefix(line, "export ")
	k, v, ok := strings.Cut(line, "=")
	if !ok {
		return "", "", false
	}
	v = strings.TrimSpace(v)
	if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
		v = v[1 : len(v)-1]
	} else if i := strings.Index(v, " #"); i >= 0 {
		v = strings.TrimSpace(v[:i])
	}
	return strings.TrimSpace(k), v, true
}
