package app

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"

	"github.com/clawgate/clawgate/proxy"
	"github.com/clawgate/clawgate/proxy/config"
	"github.com/clawgate/clawgate/proxy/route"
)

// ErrConfigChanged is returned by an edit when config.yaml changed on disk since the caller read
// it (an edit in a text editor meanwhile): nothing is written, the caller reloads and shows it.
var ErrConfigChanged = errors.New("config.yaml changed on disk since it was read (edited elsewhere?); reload it and edit again")

// editMu makes edits of the config file one at a time (the windows' saves run off the UI
// goroutine and may overlap).
var editMu sync.Mutex

// ConfigVersion names one state of config.yaml: the hash of its bytes. An edit carries the version
// it was made against and is refused when the file is no longer that version.
type ConfigVersion string

func versionOf(b []byte) ConfigVersion {
	h := sha256.Sum256(b)
	return ConfigVersion(hex.EncodeToString(h[:8]))
}

// configFile is config.yaml as read for an edit: its bytes, lines and node tree.
type configFile struct {
	raw   []byte
	lines []string // without their newlines
	root  *yaml.Node
}

func readConfigFile(path string) (*configFile, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	f, err := parseConfigFile(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// parseConfigFile reads config text for an edit; an edit that changes several places re-reads its
// own output between them, since each splice moves the lines after it.
func parseConfigFile(raw []byte) (*configFile, error) {
	f := &configFile{raw: raw, lines: strings.Split(string(raw), "\n")}
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, err
	}
	f.root = &doc
	return f, nil
}

// top is the document's top-level mapping, nil for an empty file.
func (f *configFile) top() *yaml.Node {
	if len(f.root.Content) == 0 || f.root.Content[0].Kind != yaml.MappingNode {
		return nil
	}
	return f.root.Content[0]
}

// value is the node under key in mapping m, and its key node; nil when absent.
func value(m *yaml.Node, key string) (k, v *yaml.Node) {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i], m.Content[i+1]
		}
	}
	return nil, nil
}

// lastLine is the last line (1-based) a node's text reaches: its deepest last child's, plus the
// extra lines of a block scalar.
func lastLine(n *yaml.Node) int {
	for len(n.Content) > 0 {
		n = n.Content[len(n.Content)-1]
	}
	if n.Kind == yaml.AliasNode || n.Kind != yaml.ScalarNode {
		return n.Line
	}
	l := n.Line
	if n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		l += strings.Count(strings.TrimRight(n.Value, "\n"), "\n") + 1
	}
	return l
}

// editFile applies edit to config.yaml the careful way: it refuses when the file is no longer the
// version the caller read (ErrConfigChanged), writes nothing when nothing changed, validates the
// result as a reload would (parse, secrets, every deployment buildable), keeps the previous file as
// config.yaml.bak, writes a temp file and renames it over, and puts the new config in force at
// once. edit returns the new text, made from f by splicing only the lines it changes, so every
// comment and the user's layout outside them stay as they were.
func (a *App) editFile(ver ConfigVersion, edit func(f *configFile) ([]byte, error)) (ConfigVersion, error) {
	if a.opts.ConfigPath == "" {
		return "", errors.New("this gateway runs without a config file (--model); there is nothing to edit")
	}
	editMu.Lock()
	defer editMu.Unlock()
	f, err := readConfigFile(a.opts.ConfigPath)
	if err != nil {
		return "", err
	}
	if ver != "" && versionOf(f.raw) != ver {
		return versionOf(f.raw), ErrConfigChanged
	}
	out, err := edit(f)
	if err != nil {
		return versionOf(f.raw), err
	}
	if bytes.Equal(out, f.raw) {
		return versionOf(f.raw), nil
	}
	if err := a.validateConfig(out); err != nil {
		return versionOf(f.raw), fmt.Errorf("not saved: %w", err)
	}
	mode := os.FileMode(0o600)
	if st, err := os.Stat(a.opts.ConfigPath); err == nil {
		mode = st.Mode().Perm()
	}
	if err := os.WriteFile(a.opts.ConfigPath+".bak", f.raw, mode); err != nil {
		return versionOf(f.raw), fmt.Errorf("back up %s: %w", a.opts.ConfigPath, err)
	}
	if err := writeFileAtomic(a.opts.ConfigPath, out); err != nil {
		return versionOf(f.raw), err
	}
	_ = os.Chmod(a.opts.ConfigPath, mode)
	// Applied now, not when the watcher notices: the caller learns at once whether it took.
	a.reload()
	if err := a.Status().Err; err != nil {
		return versionOf(out), err
	}
	return versionOf(out), nil
}

// validateConfig checks new config text the way a reload reads it, and that every deployment can
// be built: a bad edit is refused before it reaches the file.
func (a *App) validateConfig(text []byte) error {
	cfg, _, err := config.Parse(text, a.opts.ConfigPath, os.LookupEnv)
	if err != nil {
		return err
	}
	if err := resolveSecrets(cfg, a.secrets); err != nil {
		return err
	}
	if _, _, err := upstreamNet(cfg); err != nil {
		return err
	}
	_, err = route.Build(cfg, proxy.NewProvider)
	return err
}

// ConfigVersionNow is the version of config.yaml on disk now.
func (a *App) ConfigVersionNow() (ConfigVersion, error) {
	raw, err := os.ReadFile(a.opts.ConfigPath)
	if err != nil {
		return "", err
	}
	return versionOf(raw), nil
}
