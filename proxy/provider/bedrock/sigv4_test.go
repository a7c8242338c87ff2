package bedrock

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"
)

// authRE is the shape of a SigV4 Authorization header for Bedrock.
var authRE = regexp.MustCompile(`^AWS4-HMAC-SHA256 Credential=([A-Z0-9]+)/(\d{8})/([a-z0-9-]+)/bedrock/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$`)

// checkSigV4 recomputes the signature of a request as received, independently of the SDK, the
// way AWS documents it: the canonical URI is the path as sent with each segment URI-encoded once
// more (every service but S3), the signed headers as listed, the payload's SHA-256. It returns
// the access key id and region the request was signed for.
func checkSigV4(r *http.Request, body []byte, secret string) (keyID, region string, err error) {
	m := authRE.FindStringSubmatch(r.Header.Get("Authorization"))
	if m == nil {
		return "", "", fmt.Errorf("malformed Authorization %q", r.Header.Get("Authorization"))
	}
	keyID, date, region, signed, sig := m[1], m[2], m[3], m[4], m[5]
	amzDate := r.Header.Get("X-Amz-Date")
	if !strings.HasPrefix(amzDate, date+"T") {
		return "", "", fmt.Errorf("X-Amz-Date %q does not match the credential date %s", amzDate, date)
	}
	var segs []string
	for _, s := range strings.Split(r.URL.EscapedPath(), "/") {
		segs = append(segs, uriEncode(s))
	}
	var ch strings.Builder
	names := strings.Split(signed, ";")
	if !sort.StringsAreSorted(names) {
		return "", "", fmt.Errorf("signed headers not sorted: %s", signed)
	}
	for _, n := range names {
		var v string
		switch n {
		case "host":
			v = r.Host
		case "content-length":
			v = fmt.Sprint(r.ContentLength)
		default:
			v = strings.Join(r.Header.Values(n), ",")
		}
		ch.WriteString(n + ":" + strings.TrimSpace(v) + "\n")
	}
	sum := sha256.Sum256(body)
	canonical := strings.Join([]string{
		r.Method, strings.Join(segs, "/"), r.URL.RawQuery, ch.String(), signed, hex.EncodeToString(sum[:]),
	}, "\n")
	crSum := sha256.Sum256([]byte(canonical))
	scope := date + "/" + region + "/bedrock/aws4_request"
	toSign := "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(crSum[:])
	key := []byte("AWS4" + secret)
	for _, part := range []string{date, region, "bedrock", "aws4_request"} {
		key = hmacSHA256(key, part)
	}
	if want := hex.EncodeToString(hmacSHA256(key, toSign)); want != sig {
		return "", "", fmt.Errorf("signature %s does not verify (want %s); canonical request:\n%s", sig, want, canonical)
	}
	return keyID, region, nil
}

func hmacSHA256(key []byte, s string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(s))
	return h.Sum(nil)
}

// uriEncode is SigV4's UriEncode: everything but unreserved characters, percent-encoded.
func uriEncode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}
