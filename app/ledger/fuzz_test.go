package ledger

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/clawgate/clawgate/internal/fakeupstream"
	"github.com/clawgate/clawgate/internal/fuzzgen"
	"github.com/clawgate/clawgate/internal/fuzzstat"
	"github.com/clawgate/clawgate/proxy"
	"github.com/clawgate/clawgate/proxy/config"
)

// adminPaths are the management routes the fuzzer picks from (by index), with a bad one.
var adminPaths = []string{"/key/generate", "/key/info", "/key/update", "/key/delete", "/key/list", "/key/regenerate",
	"/key/block", "/key/unblock", "/spend/logs", "/spend/logs/ui", "/global/spend", "/user/daily/activity",
	"/key/sk-x/regenerate", "/key/nope"}

// FuzzAdmin sends arbitrary bodies and queries to the management API as the master key, against
// a real SQLite ledger: whatever a client sends gets an answer below 500 in JSON, and no panic.
func FuzzAdmin(f *testing.F) {
	up := httptest.NewServer(fakeupstream.New())
	defer up.Close()
	cfg, _, err := config.Parse([]byte(strings.ReplaceAll(testConfig, "{{UP}}", up.URL)), "config.yaml",
		func(string) (string, bool) { return "", false })
	if err != nil {
		f.Fatal(err)
	}
	l, err := Open(context.Background(), Options{DataDir: f.TempDir(), FlushInterval: 10 * time.Millisecond})
	if err != nil {
		f.Fatal(err)
	}
	defer l.Close(context.Background())
	gw, err := proxy.New(proxy.Options{Config: cfg, Keys: l, Usage: l, Admin: l, Gate: l})
	if err != nil {
		f.Fatal(err)
	}
	h := gw.Handler()
	f.Add(uint8(0), `{"key_alias":"a","max_budget":1,"budget_duration":"30d","models":["m"],"metadata":{"x":[1]}}`, "")
	f.Add(uint8(2), `{"key":"sk-x","max_budget":-1,"blocked":"yes"}`, "")
	f.Add(uint8(3), `{"keys":[1],"key_aliases":null}`, "")
	f.Add(uint8(4), ``, "page=0&size=1000&return_full_object=maybe")
	f.Add(uint8(8), ``, "start_date=2026-13-01&end_date=x&summarize=false&api_key=sk-")
	f.Add(uint8(11), ``, "start_date=2026-01-01&end_date=2025-01-01&page=-1")
	f.Add(uint8(12), `{"new_key":"sk-new","grace_period":"48h"}`, "")
	f.Fuzz(func(t *testing.T, route uint8, body, query string) {
		path := adminPaths[int(route)%len(adminPaths)]
		// Mutated bodies are rarely JSON (88% of the calls ended in a 400 for it): a body that is
		// not becomes a key request written by fuzzgen, so that most calls reach the ledger.
		if body != "" && !json.Valid([]byte(body)) {
			body = adminBody(fuzzgen.New([]byte(body)))
		}
		for _, method := range []string{http.MethodPost, http.MethodGet} {
			req, err := http.NewRequest(method, "http://127.0.0.1"+path+"?"+query, strings.NewReader(body))
			if err != nil { // a query no client could send
				req, _ = http.NewRequest(method, "http://127.0.0.1"+path, strings.NewReader(body))
			}
			req.RemoteAddr = "127.0.0.1:1234"
			req.Header.Set("Authorization", "Bearer "+masterKey)
			req.Header.Set("Content-Type", "application/json")
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			fuzzstat.Reach(w.Code < 300)
			if w.Code >= 500 || !json.Valid(w.Body.Bytes()) {
				t.Fatalf("%s %s?%s %s: %d %s", method, path, query, body, w.Code, w.Body.Bytes())
			}
		}
	})
}

// adminBody writes a management request body: the fields of /key/generate, /key/update,
// /key/delete and /key/regenerate, for keys that /key/generate may have minted (sk-new) or not.
func adminBody(g *fuzzgen.Gen) string {
	s, e := g.TextOf, g.EnumOf
	keys := func() string { return fuzzgen.Arr(g.List(2, e("sk-new", "sk-x", ""))...) }
	return g.Fields(
		fuzzgen.F("key", e("sk-new", "sk-x", "sk-new2")), fuzzgen.F("key_alias", s("a", "b")),
		fuzzgen.F("max_budget", g.Number), fuzzgen.F("soft_budget", g.Number), fuzzgen.F("spend", g.Number),
		fuzzgen.F("budget_duration", e("30d", "1mo", "daily", "1h", "0d", "x")), fuzzgen.F("duration", e("1h", "30d", "x")),
		fuzzgen.F("models", func() string { return fuzzgen.Arr(g.List(2, s("m", "*", ""))...) }),
		fuzzgen.F("rpm_limit", g.Integer), fuzzgen.F("tpm_limit", g.Integer), fuzzgen.F("max_parallel_requests", g.Integer),
		fuzzgen.F("user_id", s("u1")), fuzzgen.F("team_id", s("t1")), fuzzgen.F("blocked", func() string { return g.Pick("true", "false") }),
		fuzzgen.F("metadata", func() string { return g.Value(2) }), fuzzgen.F("tags", func() string { return fuzzgen.Arr(g.List(2, s("x"))...) }),
		fuzzgen.F("keys", keys), fuzzgen.F("key_aliases", func() string { return fuzzgen.Arr(g.List(2, s("a"))...) }),
		fuzzgen.F("new_key", e("sk-new2", "", "bad")), fuzzgen.F("grace_period", e("48h", "0s", "x")),
	)
}
