package app

// Reading a team gateway: a Clawgate server or a LiteLLM proxy that a team runs on PostgreSQL, and
// a virtual key it gave this user. Two LiteLLM endpoints say all the tray needs: /key/info
// without ?key= returns the caller's own key (spend, budget, models, blocked), and /v1/models
// lists what the key may call.

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"
)

var (
	// ErrTeamURL is wrapped when the team gateway's address is not an http(s) URL.
	ErrTeamURL = errors.New("not a gateway URL")
	// ErrTeamUnreachable is wrapped when nothing answers at the URL (no such host, refused, timeout).
	ErrTeamUnreachable = errors.New("team gateway unreachable")
	// ErrTeamTLS is wrapped when the HTTPS handshake fails: an untrusted or mismatched certificate,
	// or https:// to a server that speaks plain HTTP.
	ErrTeamTLS = errors.New("TLS failed")
	// ErrTeamKeyRejected is wrapped when the gateway refuses the key (401: unknown, expired).
	ErrTeamKeyRejected = errors.New("the team gateway refused the key")
	// ErrTeamKeyBlocked is wrapped when the key exists but an admin blocked it.
	ErrTeamKeyBlocked = errors.New("the key is blocked")
	// ErrNotTeamGateway is wrapped when the server answers but not as Clawgate or LiteLLM do.
	ErrNotTeamGateway = errors.New("not a Clawgate or LiteLLM gateway")
)

// TeamKey is the team gateway's view of this user's key, from /key/info.
type TeamKey struct {
	Alias string
	// Spend is the key's spend in the current budget window, USD.
	Spend float64
	// MaxBudget is the key's limit, nil for none; BudgetDuration its window ("30d", "" for a
	// lifetime budget) and BudgetResetAt when the window ends.
	MaxBudget      *float64
	BudgetDuration string
	BudgetResetAt  *time.Time
	// Models are the models the key is limited to; empty means every model the gateway serves.
	Models  []string
	Blocked bool
	Expires *time.Time
}

// TeamInfo is what a team gateway says about this user's key, read at ReadAt.
type TeamInfo struct {
	URL    string
	Key    TeamKey
	Models []string // /v1/models, sorted
	ReadAt time.Time
}

// keyInfoAnswer is LiteLLM's /key/info body: {"key": ..., "info": {...}}.
type keyInfoAnswer struct {
	Info *struct {
		KeyAlias       *string    `json:"key_alias"`
		Spend          *float64   `json:"spend"`
		MaxBudget      *float64   `json:"max_budget"`
		BudgetDuration *string    `json:"budget_duration"`
		BudgetResetAt  *time.Time `json:"budget_reset_at"`
		Models         []string   `json:"models"`
		Blocked        *bool      `json:"blocked"`
		Expires        *time.Time `json:"expires"`
	} `json:"info"`
}

// modelsAnswer is OpenAI's /v1/models body.
type modelsAnswer struct {
	Object string `json:"object"`
	Data   []struct {
		ID string `json:"id"`
	} `json:"data"`
}

// NormalizeTeamURL checks a team gateway's address as typed and returns its base: scheme and
// host, with any path kept but without a trailing "/" or "/v1" (the gateway serves both forms).
func NormalizeTeamURL(raw string) (string, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return "", fmt.Errorf("%w: enter the team gateway's address, e.g. https://llm.example.com", ErrTeamURL)
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("%w: %q must start with https:// (or http://) and name a host, e.g. https://llm.example.com", ErrTeamURL, s)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("%w: %q: give only the scheme, host, port and path", ErrTeamURL, s)
	}
	u.Path = strings.TrimSuffix(strings.TrimSuffix(u.Path, "/"), "/v1")
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath = ""
	return u.String(), nil
}

// teamHTTPTimeout bounds one check of a team gateway: both reads run at once.
const teamHTTPTimeout = 15 * time.Second

// CheckTeam reads the key's /key/info and /v1/models from the team gateway at rawURL, both at
// once, and says plainly what is wrong: the errors wrap ErrTeamURL, ErrTeamUnreachable,
// ErrTeamTLS, ErrTeamKeyRejected, ErrTeamKeyBlocked or ErrNotTeamGateway. client nil means
// http.DefaultClient. The key never appears in an error.
func CheckTeam(ctx context.Context, client *http.Client, rawURL, key string) (TeamInfo, error) {
	base, err := NormalizeTeamURL(rawURL)
	if err != nil {
		return TeamInfo{}, err
	}
	key = strings.TrimSpace(key)
	if key == "" {
		return TeamInfo{}, fmt.Errorf("%w: enter the virtual key the team gave you (sk-...)", ErrTeamKeyRejected)
	}
	if client == nil {
		client = http.DefaultClient
	}
	ctx, cancel := context.WithTimeout(ctx, teamHTTPTimeout)
	defer cancel()
	var (
		wg              sync.WaitGroup
		info            keyInfoAnswer
		models          modelsAnswer
		infoErr, modErr error
	)
	wg.Add(2)
	go func() { defer wg.Done(); infoErr = getJSON(ctx, client, base+"/key/info", key, &info) }()
	go func() { defer wg.Done(); modErr = getJSON(ctx, client, base+"/v1/models", key, &models) }()
	wg.Wait()
	// The most telling failure first: no connection at all, then the key, then the server's kind.
	for _, want := range []error{ErrTeamUnreachable, ErrTeamTLS, ErrTeamKeyBlocked, ErrTeamKeyRejected, ErrNotTeamGateway} {
		for _, e := range []error{infoErr, modErr} {
			if errors.Is(e, want) {
				return TeamInfo{}, e
			}
		}
	}
	if err := errors.Join(infoErr, modErr); err != nil {
		return TeamInfo{}, err
	}
	if info.Info == nil {
		return TeamInfo{}, fmt.Errorf("%w: %s/key/info answered without the key's \"info\"", ErrNotTeamGateway, base)
	}
	if models.Data == nil {
		return TeamInfo{}, fmt.Errorf("%w: %s/v1/models answered without a \"data\" list of models", ErrNotTeamGateway, base)
	}
	in := info.Info
	k := TeamKey{MaxBudget: in.MaxBudget, BudgetResetAt: in.BudgetResetAt, Models: in.Models, Expires: in.Expires}
	if in.KeyAlias != nil {
		k.Alias = *in.KeyAlias
	}
	if in.Spend != nil {
		k.Spend = *in.Spend
	}
	if in.BudgetDuration != nil {
		k.BudgetDuration = *in.BudgetDuration
	}
	if in.Blocked != nil && *in.Blocked {
		return TeamInfo{}, fmt.Errorf("%w: %s says an admin blocked this key; ask them to unblock it", ErrTeamKeyBlocked, base)
	}
	out := TeamInfo{URL: base, Key: k, ReadAt: time.Now()}
	for _, m := range models.Data {
		if m.ID != "" {
			out.Models = append(out.Models, m.ID)
		}
	}
	sort.Strings(out.Models)
	return out, nil
}

// maxTeamAnswer bounds what is read of one answer: a model list of a few thousand entries fits.
const maxTeamAnswer = 4 << 20

// getJSON GETs url with the key as a Bearer token and decodes a 200 answer into v.
func getJSON(ctx context.Context, client *http.Client, url, key string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrTeamURL, err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return transportError(url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxTeamAnswer))
	if err != nil {
		return fmt.Errorf("%w: reading %s: %v", ErrTeamUnreachable, url, err)
	}
	msg := errorMessage(body)
	switch {
	case resp.StatusCode == http.StatusUnauthorized && strings.Contains(strings.ToLower(msg), "blocked"):
		return fmt.Errorf("%w: %s says an admin blocked this key; ask them to unblock it", ErrTeamKeyBlocked, url)
	case resp.StatusCode == http.StatusUnauthorized:
		return fmt.Errorf("%w (401 from %s): check that you pasted the whole key; %s", ErrTeamKeyRejected, url, orDash(msg))
	case resp.StatusCode == http.StatusForbidden && msg != "":
		return fmt.Errorf("%w (403 from %s): %s", ErrTeamKeyRejected, url, msg)
	case resp.StatusCode != http.StatusOK:
		return fmt.Errorf("%w: %s answered %s; is this the address of the team's Clawgate or LiteLLM server?", ErrNotTeamGateway, url, resp.Status)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("%w: %s answered 200 but not with LiteLLM's JSON (%s)", ErrNotTeamGateway, url, contentKind(resp, body))
	}
	return nil
}

// errorMessage is error.message of LiteLLM's error envelope, "" when body is not one. The
// envelope never echoes the key whole (LiteLLM shows only its last 4 characters).
func errorMessage(body []byte) string {
	var e struct {
		Error *struct {
			Message string `json:"message"`
		} `json:"error"`
		Detail any `json:"detail"`
	}
	if json.Unmarshal(body, &e) != nil {
		return ""
	}
	if e.Error != nil {
		return e.Error.Message
	}
	if s, ok := e.Detail.(string); ok {
		return s
	}
	return ""
}

func orDash(s string) string {
	if s == "" {
		return "no message"
	}
	return "it says: " + s
}

func contentKind(resp *http.Response, body []byte) string {
	ct := resp.Header.Get("Content-Type")
	if ct == "" {
		ct = http.DetectContentType(body)
	}
	return ct
}

// transportError names a failure to talk to the server at all.
func transportError(url string, err error) error {
	var (
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
		verify   *tls.CertificateVerificationError
		record   tls.RecordHeaderError
		dnsErr   *net.DNSError
	)
	switch {
	case errors.As(err, &unknown):
		return fmt.Errorf("%w: %s: its certificate is not signed by an authority this computer trusts; add the team's CA in Settings > Extra CA file (%v)", ErrTeamTLS, url, err)
	case errors.As(err, &hostname), errors.As(err, &invalid), errors.As(err, &verify), errors.As(err, &record):
		return fmt.Errorf("%w: %s: %v", ErrTeamTLS, url, err)
	case strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		return fmt.Errorf("%w: %s speaks plain HTTP: use http:// or put TLS in front of it", ErrTeamTLS, url)
	case errors.As(err, &dnsErr):
		return fmt.Errorf("%w: no host %q (check the address): %v", ErrTeamUnreachable, dnsErr.Name, err)
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%w: %s did not answer within %s", ErrTeamUnreachable, url, teamHTTPTimeout)
	}
	return fmt.Errorf("%w: %s: %v", ErrTeamUnreachable, url, err)
}
