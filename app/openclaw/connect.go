package openclaw

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// ConnectOptions say how to point OpenClaw at the gateway.
type ConnectOptions struct {
	// BaseURL is the gateway, e.g. http://127.0.0.1:4000/v1. A baseUrl in the file that already
	// reaches this gateway (127.0.0.1 or localhost, same port, with or without /v1) is kept.
	BaseURL string
	// APIKeyRef is written as apiKey (default DefaultAPIKeyRef).
	APIKeyRef string
	// KeepKey, if set, is asked about an apiKey (or request.auth token) already in the file, as
	// written there ("${VAR}" unresolved); true keeps it. Nil replaces any key other than APIKeyRef.
	KeepKey func(key string) bool
	// BearerAuth also writes request.auth = {mode: "authorization-bearer", token: APIKeyRef}: the
	// one setting that beats a key `openclaw onboard` stored in OpenClaw's own database.
	BearerAuth bool
	// Models, when non-nil, are synced into models[] (see Sync). A new block gets [] otherwise.
	Models []Model
	// API is the provider's api: "" keeps what the file has (a new block, or one without an api,
	// gets "openai-completions"), so a later connect never undoes a user's "anthropic-messages".
	API string
}

// APIs are the provider apis the gateway serves: chat completions, Anthropic's Messages API
// (OpenClaw then sends its own cache breakpoints and thinking). Any other api is reset.
var APIs = []string{"openai-completions", "anthropic-messages"}

// DefaultAPI is the api a new provider block gets.
const DefaultAPI = "openai-completions"

// Connect adds or repairs models.providers.litellm so that OpenClaw reaches the gateway with a key
// it accepts, keeping every other key of the block. It sets models.mode to "merge" only when
// absent. It returns what changed, one line each.
func Connect(d *Doc, o ConnectOptions) ([]string, error) {
	if u, err := url.Parse(o.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("openclaw: connect: bad base URL %q", o.BaseURL)
	}
	if o.API != "" && !slices.Contains(APIs, o.API) {
		return nil, fmt.Errorf("openclaw: connect: api %q is not one the gateway serves (%s)", o.API, strings.Join(APIs, ", "))
	}
	key := o.APIKeyRef
	if key == "" {
		key = DefaultAPIKeyRef
	}
	var lines []string
	note := func(changed bool, err error, line string) error {
		if err == nil && changed {
			lines = append(lines, line)
		}
		return err
	}
	if _, ok := d.Get([]string{"models", "mode"}); !ok {
		ch, err := d.set([]string{"models", "mode"}, "merge")
		if err := note(ch, err, `set models.mode = "merge"`); err != nil {
			return lines, err
		}
	}
	cur, exists := d.Get(providerPath)
	if _, isObj := cur.(map[string]any); !exists || !isObj {
		models := []any{}
		for _, m := range cleanModels(o.Models) {
			models = append(models, modelObject(m))
		}
		api := o.API
		if api == "" {
			api = DefaultAPI
		}
		block := Object{
			{"baseUrl", o.BaseURL},
			{"apiKey", key},
			{"api", api},
		}
		if o.BearerAuth {
			block = append(block, Field{"request", Object{{"auth", bearer(key)}}})
		}
		block = append(block, Field{"models", models})
		verb := "added"
		if exists {
			verb = "replaced (it was not an object)"
		}
		ch, err := d.set(providerPath, block)
		err = note(ch, err, fmt.Sprintf("%s models.providers.litellm: baseUrl %q, apiKey %s, api %q, %d models",
			verb, o.BaseURL, showKey(key), api, len(models)))
		return lines, err
	}
	prov := cur.(map[string]any)
	if base, _ := prov["baseUrl"].(string); !reaches(base, o.BaseURL) {
		ch, err := d.set(append(cloneStrings(providerPath), "baseUrl"), o.BaseURL)
		if err := note(ch, err, fmt.Sprintf("set models.providers.litellm.baseUrl = %q (was %s)", o.BaseURL, showValue(prov["baseUrl"]))); err != nil {
			return lines, err
		}
	}
	if !keeps(prov["apiKey"], key, o.KeepKey) {
		ch, err := d.set(append(cloneStrings(providerPath), "apiKey"), key)
		if err := note(ch, err, fmt.Sprintf("set models.providers.litellm.apiKey = %s (was %s)", showKey(key), showKeyValue(prov["apiKey"]))); err != nil {
			return lines, err
		}
	}
	want, _ := prov["api"].(string)
	switch {
	case o.API != "":
		want = o.API
	case !slices.Contains(APIs, want):
		want = DefaultAPI // unset, or an api the gateway does not serve
	}
	if api, _ := prov["api"].(string); api != want {
		ch, err := d.set(append(cloneStrings(providerPath), "api"), want)
		if err := note(ch, err, fmt.Sprintf(`set models.providers.litellm.api = %q (was %s)`, want, showValue(prov["api"]))); err != nil {
			return lines, err
		}
	}
	authPath := append(append([]string{}, providerPath...), "request", "auth")
	auth, hasAuth := at(prov, "request", "auth").(map[string]any)
	mode, _ := auth["mode"].(string)
	switch {
	case hasAuth && mode == "authorization-bearer":
		if !keeps(auth["token"], key, o.KeepKey) {
			ch, err := d.set(append(authPath, "token"), key)
			if err := note(ch, err, fmt.Sprintf("set models.providers.litellm.request.auth.token = %s (was %s)", showKey(key), showKeyValue(auth["token"]))); err != nil {
				return lines, err
			}
		}
	case o.BearerAuth:
		if req, ok := prov["request"]; ok {
			if _, isObj := req.(map[string]any); !isObj {
				return lines, fmt.Errorf("openclaw: connect: models.providers.litellm.request is not an object")
			}
		}
		ch, err := d.set(authPath, bearer(key))
		was := "unset"
		if hasAuth {
			was = fmt.Sprintf("mode %q", mode)
		}
		if err := note(ch, err, fmt.Sprintf(`set models.providers.litellm.request.auth = {mode: "authorization-bearer", token: %s} (was %s)`, showKey(key), was)); err != nil {
			return lines, err
		}
	}
	if o.Models != nil {
		more, err := Sync(d, o.Models)
		lines = append(lines, more...)
		if err != nil {
			return lines, err
		}
	} else if _, ok := prov["models"]; !ok {
		ch, err := d.set(append(cloneStrings(providerPath), "models"), []any{})
		if err := note(ch, err, "set models.providers.litellm.models = []"); err != nil {
			return lines, err
		}
	}
	return lines, nil
}

// reaches reports whether a baseUrl in the file already reaches the gateway at gw.
func reaches(base, gw string) bool {
	return pointsAt(base, gw) || (base != "" && strings.TrimSuffix(base, "/") == strings.TrimSuffix(gw, "/"))
}

func isMap(v any) bool {
	_, ok := v.(map[string]any)
	return ok
}

func bearer(key string) Object {
	return Object{{"mode", "authorization-bearer"}, {"token", key}}
}

// keeps reports whether the key in the file can stay.
func keeps(cur any, want string, keep func(string) bool) bool {
	s, ok := cur.(string)
	if !ok || s == "" {
		return false
	}
	return s == want || (keep != nil && keep(s))
}

// showKey prints a key for a change line: an env reference as is, anything else hidden.
func showKey(k string) string {
	if envRefRE.MatchString(k) {
		return strconv.Quote(k)
	}
	return "(a literal key)"
}

func showKeyValue(v any) string {
	switch v := v.(type) {
	case nil:
		return "unset"
	case string:
		return showKey(v)
	case map[string]any:
		return "a secret reference"
	}
	return "not a string"
}

func showValue(v any) string {
	switch v := v.(type) {
	case nil:
		return "unset"
	case string:
		return strconv.Quote(v)
	}
	return fmt.Sprintf("%v", v)
}
