// Package testkit holds the test helpers the provider packages share: draining a stream,
// naming how it ended, and comparing against golden files under testdata/.
package testkit

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clawgate/clawgate/internal/fuzzgen"
	"github.com/clawgate/clawgate/internal/fuzzstat"
	"github.com/clawgate/clawgate/proxy/provider"
)

// Drain collects chunks until Next fails and returns that error.
func Drain(t testing.TB, s provider.Stream) ([]string, error) {
	t.Helper()
	var got []string
	for i := 0; ; i++ {
		if i > 10000 {
			t.Fatal("stream does not end")
		}
		p, err := s.Next()
		if err != nil {
			if p != nil {
				t.Errorf("Next returned a payload with error %v", err)
			}
			return got, err
		}
		got = append(got, string(p))
	}
}

// EndKind names how a stream ended, for table comparisons: "eof", "unexpected" (a 502 transport
// error wrapping io.ErrUnexpectedEOF), "error <type>" for any other *provider.Error, or "nil".
func EndKind(err error) string {
	var pe *provider.Error
	switch {
	case err == io.EOF:
		return "eof"
	case errors.As(err, &pe) && errors.Is(err, io.ErrUnexpectedEOF) && pe.Transport && pe.Status == 502:
		return "unexpected"
	case errors.As(err, &pe):
		return "error " + pe.Type
	case err == nil:
		return "nil"
	}
	return "other: " + err.Error()
}

// Golden compares got with the file at path, or rewrites the file when update is set (the
// package's -update flag).
func Golden(t testing.TB, path string, got []byte, update bool) {
	t.Helper()
	if update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from what the code produces (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// ReadFile reads path or fails the test.
func ReadFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Indent pretty-prints JSON for golden files that people read.
func Indent(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Indent(&buf, b, "", "  "); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, b)
	}
	buf.WriteByte('\n')
	return buf.Bytes()
}

// Names lists the files in dir ending in suffix, without the suffix; none fails the test.
func Names(t testing.TB, dir, suffix string) []string {
	t.Helper()
	matches, err := filepath.Glob(filepath.Join(dir, "*"+suffix))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range matches {
		out = append(out, strings.TrimSuffix(filepath.Base(m), suffix))
	}
	if len(out) == 0 {
		t.Fatalf("no %s files in %s", suffix, dir)
	}
	return out
}

// FuzzFromChat fuzzes a provider's translation of client chat bodies: no panic, and a translated
// request encodes to JSON. fuzzgen.ChatBody writes the bodies from the fuzzer's bytes: fed the recorded
// requests as bytes, 96% of the mutants stopped at json.Unmarshal (the golden tests run the
// recorded requests themselves).
func FuzzFromChat[R any](f *testing.F, translate func(body []byte) (R, error)) {
	for _, s := range []string{"", "\x01\x01\x01\x01\x02\x01\x01\x01", "\x05\x01\x03\x01\x01\x07\x03\x01\x01\x01\x01\x01\x01\x01\x01\x01"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		body := []byte(fuzzgen.New(data).ChatBody("gpt-4o", "claude-sonnet-4-5", "gemini-2.5-flash", ""))
		req, err := translate(body)
		if !fuzzstat.Reach(err == nil) {
			return
		}
		if out, err := json.Marshal(req); err != nil || !json.Valid(out) {
			t.Fatalf("%s translated to an unencodable request: %v", body, err)
		}
	})
}
