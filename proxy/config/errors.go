package config

import "fmt"

// Error is a problem that stops a config from loading. It names the place so that the tray and the
// log can point the user at the line to fix.
type Error struct {
	File string
	// Line is 1-based; 0 when the problem is not at one line.
	Line int
	// Key is the key path, e.g. "model_list[1].litellm_params.model" ("" for the whole file).
	Key     string
	Message string
}

// Error formats as "config.yaml:7: model_list[1].litellm_params.model: required".
func (e *Error) Error() string {
	if e.Key == "" {
		return position(e.File, e.Line) + e.Message
	}
	return position(e.File, e.Line) + e.Key + ": " + e.Message
}

// Warning is a problem that does not stop the config from loading: an ignored key, a duplicate key,
// an api_key whose variable is not set.
type Warning struct {
	File string
	Line int
	// Key is the key path the warning is about.
	Key string
	// Message is a whole sentence that names the key.
	Message string
}

// String formats as "config.yaml:12: unknown key router_settings.foo (ignored)".
func (w Warning) String() string { return position(w.File, w.Line) + w.Message }

func position(file string, line int) string {
	switch {
	case file != "" && line > 0:
		return fmt.Sprintf("%s:%d: ", file, line)
	case file != "":
		return file + ": "
	case line > 0:
		return fmt.Sprintf("line %d: ", line)
	}
	return ""
}
