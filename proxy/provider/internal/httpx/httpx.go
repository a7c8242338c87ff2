// Package httpx is the HTTP plumbing the native providers (anthropic, gemini, bedrock) share:
// reading an upstream answer with a size cap, and turning transport failures, redirects, HTML
// pages and retry hints into *provider.Error. What differs per provider (its error body, its
// error type vocabulary) stays in the provider and is handed in as a small function.
package httpx

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/clawgate/clawgate/proxy/internal/wire"
	"github.com/clawgate/clawgate/proxy/provider"
)

const (
	// MaxErrorBody is how much of an error answer is read; envelopes are small, HTML pages are not.
	MaxErrorBody = 1 << 20
	// MaxMessage keeps a runaway upstream message out of logs and envelopes.
	MaxMessage = 1 << 10
	// MaxRetryAfter clamps absurd hints.
	MaxRetryAfter = 24 * time.Hour
)

// shownURL is u as error messages show it to clients: no userinfo, and no query or fragment,
// where api_base keys (?key=, ?api-key=) travel.
func shownURL(u *url.URL) string {
	c := *u
	c.User, c.RawQuery, c.ForceQuery, c.Fragment, c.RawFragment = nil, "", false, "", ""
	return c.String()
}

// StatusError reads a non-2xx answer into a *provider.Error and closes the body. Redirects and
// stray 1xx/2xx statuses become a 502 starting with prefix (the provider's "name: ", or "") and
// ending with what to check (hint, e.g. "check api_base"); real error statuses go to decode,
// which knows the provider's error body.
func StatusError(resp *http.Response, prefix, hint string, decode func(status int, h http.Header, body []byte) *provider.Error) *provider.Error {
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, MaxErrorBody))
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		msg := prefix + "upstream redirected (" + resp.Status + ")"
		if loc := resp.Header.Get("Location"); loc != "" {
			if u, err := url.Parse(loc); err == nil {
				msg += " to " + shownURL(u)
			} else {
				msg += " to an address that does not parse" // and may hold a password: not shown
			}
		}
		return &provider.Error{Status: http.StatusBadGateway, Type: "api_error", Message: Truncate(msg+"; "+hint, MaxMessage)}
	}
	if resp.StatusCode < 300 {
		return &provider.Error{Status: http.StatusBadGateway, Type: "api_error", Message: prefix + "upstream answered " + resp.Status}
	}
	return decode(resp.StatusCode, resp.Header, body)
}

// ReadBody reads a whole answer of at most limit bytes, sized from Content-Length when it is
// known; a larger one is a 502 whose message starts with prefix.
func ReadBody(resp *http.Response, prefix string, limit int64) ([]byte, error) {
	tooLarge := func() error {
		return wire.BadGateway("%supstream response is larger than %d MiB", prefix, limit>>20)
	}
	if resp.ContentLength > limit {
		return nil, tooLarge()
	}
	var buf bytes.Buffer
	if resp.ContentLength > 0 {
		buf.Grow(int(resp.ContentLength) + 1) // +1 so ReadFrom sees EOF without growing
	}
	if _, err := buf.ReadFrom(io.LimitReader(resp.Body, limit+1)); err != nil {
		return nil, err
	}
	if int64(buf.Len()) > limit {
		return nil, tooLarge()
	}
	return buf.Bytes(), nil
}

// MediaType is the lower-case media type of a Content-Type value, parameters dropped.
func MediaType(ct string) string {
	if ct == "" {
		return ""
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return strings.ToLower(strings.TrimSpace(ct))
	}
	return mt
}

// KeepHeaders copies the named (canonical) headers present in h; nil when there are none.
func KeepHeaders(h http.Header, keys ...string) http.Header {
	var out http.Header
	for _, k := range keys {
		if v := h[k]; len(v) > 0 {
			if out == nil {
				out = make(http.Header, len(keys))
			}
			out[k] = v
		}
	}
	return out
}

// Failure turns an HTTP client or body read error into what Chat and Next return: the caller's
// own cancellation passes through wrapped (closed, the provider's stream-closed error, as
// itself), timeouts become 504 and the rest a 502 transport error. name prefixes wrapped errors.
func Failure(ctx context.Context, name, op string, err, closed error) error {
	var pe *provider.Error
	if errors.As(err, &pe) {
		return err
	}
	if ctx.Err() != nil {
		cause := context.Cause(ctx)
		switch {
		case errors.Is(cause, closed):
			return closed
		case errors.Is(cause, context.DeadlineExceeded):
			return &provider.Error{
				Status: http.StatusGatewayTimeout, Message: "upstream timed out (" + op + ")",
				Type: "timeout", Transport: true, Err: cause,
			}
		case cause != nil && cause != ctx.Err():
			return fmt.Errorf("%s: %s: %w: %w", name, op, ctx.Err(), cause)
		default:
			return fmt.Errorf("%s: %s: %w", name, op, ctx.Err())
		}
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return &provider.Error{
			Status: http.StatusGatewayTimeout, Message: "upstream timed out (" + op + "): " + err.Error(),
			Type: "timeout", Transport: true, Err: err,
		}
	}
	return &provider.Error{
		Status: http.StatusBadGateway, Message: "upstream connection failed (" + op + "): " + err.Error(),
		Type: "api_connection_error", Transport: true, Err: err,
	}
}

// HTMLMessage names an HTML error page (a proxy's 502, a captive portal) by its title.
func HTMLMessage(b []byte) string {
	msg := "upstream answered with an HTML page"
	lower := bytes.ToLower(b)
	if i := bytes.Index(lower, []byte("<title>")); i >= 0 {
		rest := b[i+len("<title>"):]
		if j := bytes.Index(bytes.ToLower(rest), []byte("</title>")); j >= 0 {
			if title := strings.Join(strings.Fields(string(rest[:j])), " "); title != "" {
				msg += ": " + title
			}
		}
	}
	return msg
}

// Truncate cuts s to at most n bytes on a rune boundary.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const ellipsis = "…"
	cut := n - len(ellipsis)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + ellipsis
}

// Seconds is f seconds as a duration, clamped to MaxRetryAfter; 0 when f is not positive.
func Seconds(f float64) time.Duration {
	if f <= 0 {
		return 0
	}
	if f*float64(time.Second) > float64(MaxRetryAfter) {
		return MaxRetryAfter
	}
	return time.Duration(f * float64(time.Second))
}

// RetryAfter reads retry-after: seconds or an HTTP date, relative to now.
func RetryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		return Seconds(f)
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return min(d, MaxRetryAfter)
		}
	}
	return 0
}
