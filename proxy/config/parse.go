package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// MaxFileSize is the largest config file Load reads. Real files are a few KiB; the cap keeps a
// wrong path (a log, a device) from being read into memory.
const MaxFileSize = 8 << 20

// Default returns the router settings used where the file sets none (LiteLLM's documented defaults).
func Default() RouterSettings {
	return RouterSettings{
		NumRetries:   3,
		Timeout:      600 * time.Second,
		AllowedFails: 3,
		CooldownTime: 5 * time.Second,
		RetryAfter:   0,
	}
}

// Load reads and parses the config file at path, resolving os.environ/VAR from the process
// environment. A missing file returns an error that matches fs.ErrNotExist.
func Load(path string) (*Config, []Warning, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read config: %w", err)
	}
	defer f.Close()
	// Read one byte past the cap rather than trust Stat: a pipe or a device reports no size.
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, nil, fmt.Errorf("read config: %w", err)
	}
	if len(data) > MaxFileSize {
		return nil, nil, &Error{File: path, Message: fmt.Sprintf("file is larger than %d MiB; is this the right file?", MaxFileSize>>20)}
	}
	cfg, warnings, err := Parse(data, path, os.LookupEnv)
	if cfg != nil {
		cfg.Path = path
	}
	return cfg, warnings, err
}

// Parse parses a config.yaml held in data; name is the file name used in messages. env looks up
// os.environ/VAR references (os.LookupEnv in production; nil means no variables are set). Values
// under environment_variables are layered over env; the process environment is not changed.
// Errors are *Error values. On error the warnings found so far are still returned.
func Parse(data []byte, name string, env func(string) (string, bool)) (*Config, []Warning, error) {
	p := newParser(name, env)
	cfg := &Config{Router: Default()}
	root, err := p.document(data)
	if err == nil && root != nil {
		err = p.config(root, cfg)
	}
	if err != nil {
		return nil, p.warnings, err
	}
	return cfg, p.warnings, nil
}

// document parses data into the root node; nil for an empty file.
func (p *parser) document(data []byte) (*yaml.Node, error) {
	doc, next, err := decode(data)
	if err != nil {
		return nil, p.syntaxError(data, err)
	}
	if next != nil {
		return nil, &Error{File: p.file, Line: next.Line, Message: "a second YAML document (after ---); the config must be one document"}
	}
	if doc == nil || len(doc.Content) == 0 {
		return nil, nil
	}
	root := doc.Content[0]
	if isNull(root) {
		return nil, nil
	}
	if root.Kind != yaml.MappingNode {
		return nil, &Error{File: p.file, Line: root.Line, Message: "want a mapping of sections (model_list, router_settings, ...) at the top level, got " + describe(root)}
	}
	return root, nil
}

// decode returns the first document and, if there is one, the start of a second.
func decode(data []byte) (doc, next *yaml.Node, err error) {
	// The YAML parser reports malformed input as errors, but it is third-party code reading
	// untrusted bytes: a bug in it should fail this load, not the app.
	defer func() {
		if r := recover(); r != nil {
			doc, next, err = nil, nil, fmt.Errorf("yaml: parser failed: %v", r)
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	doc = new(yaml.Node)
	if err := dec.Decode(doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil, nil
		}
		return nil, nil, err
	}
	next = new(yaml.Node)
	switch err := dec.Decode(next); {
	case errors.Is(err, io.EOF):
		return doc, nil, nil
	case err != nil:
		return nil, nil, err
	}
	return doc, next, nil
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): `)

func (p *parser) syntaxError(data []byte, err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = err.Error()[len(m[0]):]
	}
	if l := problemLine(data, msg); l > 0 {
		line = l
	}
	return &Error{File: p.file, Line: line, Message: "invalid YAML: " + msg}
}

// problemLine finds the first line at which the file stops parsing with this message. yaml.v3
// reports the line where the enclosing block began (for some errors one line before it), which
// points the user at the wrong place; a binary search over prefixes of the file finds the line
// the parser choked on. Large files and UTF-16 (where a line cut is not a character cut) keep
// yaml.v3's line.
func problemLine(data []byte, msg string) int {
	if len(data) > 1<<20 || bytes.HasPrefix(data, []byte{0xfe, 0xff}) || bytes.HasPrefix(data, []byte{0xff, 0xfe}) {
		return 0
	}
	var ends []int // ends[i] is the end of line i+1, newline included
	for i, b := range data {
		if b == '\n' {
			ends = append(ends, i+1)
		}
	}
	if len(ends) == 0 || ends[len(ends)-1] != len(data) {
		ends = append(ends, len(data))
	}
	fails := func(lines int) bool {
		_, _, err := decode(data[:ends[lines-1]])
		if err == nil {
			return false
		}
		m := strings.TrimPrefix(err.Error(), "yaml: ")
		if loc := yamlLine.FindString(err.Error()); loc != "" {
			m = err.Error()[len(loc):]
		}
		return m == msg
	}
	lo, hi := 1, len(ends) // the whole file fails: the answer is in [lo, hi]
	if !fails(hi) {
		return 0
	}
	for lo < hi {
		mid := lo + (hi-lo)/2
		if fails(mid) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo
}

// Top-level sections LiteLLM knows that Clawgate does not read.
var unsupportedSections = set("include", "guardrails", "mcp_servers", "callback_settings",
	"files_settings", "finetune_settings", "assistant_settings", "vector_store_registry", "search_tools")

// config reads the sections in a fixed order, whatever their order in the file:
// environment_variables first because later os.environ references see them, and
// litellm_settings before router_settings because router_settings wins.
func (p *parser) config(root *yaml.Node, cfg *Config) error {
	es, err := p.entries(root, "")
	if err != nil {
		return err
	}
	sections := map[string]entry{}
	for _, e := range es {
		switch e.key {
		case "model_list", "router_settings", "litellm_settings", "general_settings",
			"environment_variables", "credential_list":
			sections[e.key] = e
		default:
			if unsupportedSections[e.key] {
				p.warn(e.k, e.path, "%s is not supported by Clawgate yet (ignored)", e.path)
			} else {
				p.warn(e.k, e.path, "unknown key %s (ignored)", e.path)
			}
		}
	}
	var creds map[string]credential
	steps := []struct {
		key string
		run func(entry) error
	}{
		{"environment_variables", p.environment},
		{"credential_list", func(e entry) (err error) { creds, err = p.credentials(e); return err }},
		{"model_list", func(e entry) (err error) { cfg.ModelList, err = p.modelList(e); return err }},
		{"litellm_settings", func(e entry) error { return p.litellmSettings(e, cfg) }},
		{"router_settings", func(e entry) error { return p.routerSettings(e, &cfg.Router) }},
		{"general_settings", func(e entry) error { return p.generalSettings(e, &cfg.General) }},
	}
	for _, s := range steps {
		if e, ok := sections[s.key]; ok {
			if err := s.run(e); err != nil {
				return err
			}
		}
	}
	p.applyCredentials(cfg.ModelList, creds)
	return nil
}

func (p *parser) environment(sec entry) error {
	es, err := p.mapping(sec.v, sec.path)
	if err != nil {
		return err
	}
	for _, e := range es {
		if e.key == "" {
			return p.errorf(e.k, e.path, "empty variable name")
		}
		v, _, err := p.text(e.v, e.path)
		if err != nil {
			return err
		}
		p.vars[e.key] = v
	}
	return nil
}

func set(keys ...string) map[string]bool {
	m := make(map[string]bool, len(keys))
	for _, k := range keys {
		m[k] = true
	}
	return m
}
