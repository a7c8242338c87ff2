package app

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clawgate/clawgate/app/ledger"
	"github.com/clawgate/clawgate/internal/fakeupstream"
)

func TestSummarize(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.Local)
	reset := time.Date(2026, 12, 8, 0, 0, 0, 0, time.Local)
	f := func(v float64) *float64 { return &v }
	tests := []struct {
		name  string
		bs    []ledger.BudgetView
		today float64
		want  BudgetSummary
	}{
		{"no budgets", nil, 1.8372, BudgetSummary{Line: "Today $1.84"}},
		{"the nearest budget is named",
			[]ledger.BudgetView{
				{Name: "All requests", Global: true, Spend: 3, MaxBudget: f(100)},
				{Name: "openclaw", Spend: 31, MaxBudget: f(50), ResetAt: &reset},
				{Name: "free", Spend: 9},
			}, 1.84,
			BudgetSummary{Line: "Today $1.84 · openclaw 62% of $50.00, resets Dec 8"}},
		{"refusing below 100% while requests in flight hold the rest",
			[]ledger.BudgetView{{Name: "openclaw", Spend: 0.97, Reserved: 0.03, MaxBudget: f(1), ResetAt: &reset}}, 0.97,
			BudgetSummary{Level: BudgetRefusing, Refusing: []string{"openclaw"}, Line: "Today $0.97 · openclaw 97% of $1.00, resets Dec 8"}},
		{"soft budget and 80% warn; blocked and expired keys are not named",
			[]ledger.BudgetView{
				{Name: "ci", Spend: 0.6, MaxBudget: f(1), SoftBudget: f(0.5)},
				{Name: "All requests", Global: true, Spend: 85, MaxBudget: f(100)},
				{Name: "old", Spend: 5, MaxBudget: f(1), Blocked: true},
				{Name: "gone", Spend: 5, MaxBudget: f(1), Expires: &now},
			}, 0.004,
			BudgetSummary{Level: BudgetWarn, Warn: []string{"ci", "proxy budget"}, Line: "Today $0.0040 · all requests 85% of $100.00"}},
		{"a zero budget refuses", []ledger.BudgetView{{Name: "none", MaxBudget: f(0)}}, 0,
			BudgetSummary{Level: BudgetRefusing, Refusing: []string{"none"}, Line: "Today $0.00 · none 100% of $0.00"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := summarize(tt.bs, tt.today, now)
			if got.Level != tt.want.Level || got.Line != tt.want.Line || !slices.Equal(got.Refusing, tt.want.Refusing) || !slices.Equal(got.Warn, tt.want.Warn) {
				t.Errorf("summarize =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

// The tray learns that a budget refuses: after a refused request the status says so, through an
// event, without anyone polling.
func TestStatusFollowsBudgetRefusal(t *testing.T) {
	up := httptest.NewServer(fakeupstream.New())
	defer up.Close()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	// One fake answer costs 8.4e-6 USD at gpt-4o-mini's prices: the first call is admitted with
	// nothing spent and takes the proxy-wide budget past its limit; the next is refused.
	os.WriteFile(cfg, []byte("model_list:\n  - model_name: m\n    litellm_params: {model: openai/gpt-4o-mini, api_base: \""+up.URL+"/v1\"}\n"+
		"litellm_settings: {max_budget: 0.000005}\ngeneral_settings: {master_key: sk-master-budgetstate}\n"), 0o600)
	a := startApp(t, Options{ConfigPath: cfg, DataDir: dir})
	events, cancel := a.Subscribe()
	defer cancel()
	call := func() int {
		req, _ := http.NewRequest("POST", a.Status().BaseURL()+"/v1/chat/completions",
			strings.NewReader(`{"model":"m","messages":[{"role":"user","content":"hi"}]}`))
		req.Header.Set("Authorization", "Bearer sk-master-budgetstate")
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := call(); got != http.StatusOK {
		t.Fatalf("first call: %d", got)
	}
	if got := call(); got != http.StatusTooManyRequests {
		t.Fatalf("second call: %d, want 429", got)
	}
	deadline := time.After(10 * time.Second)
	for {
		select {
		case e := <-events:
			if b := e.Status.Budget; b.Level == BudgetRefusing {
				if len(b.Refusing) != 1 || b.Refusing[0] != "proxy budget" || !strings.HasPrefix(b.Line, "Today $8.4e-06 · all requests 168% of $5e-06") {
					t.Errorf("summary %+v", b)
				}
				if got := a.Status().Budget.Level; got != BudgetRefusing {
					t.Errorf("Status().Budget.Level = %v after the event", got)
				}
				return
			}
		case <-deadline:
			t.Fatalf("no status event with a refusing budget; status %+v", a.Status().Budget)
		}
	}
}

// The first status after Start carries the spend line: the tray builds its first menu from it, and
// a line that arrived later left the menu without it for as long as the disk was slow.
func TestFirstStatusHasSpendLine(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	os.WriteFile(cfg, []byte("model_list:\n  - model_name: m\n    litellm_params: {model: openai/gpt-4o-mini, api_key: sk-x}\n"+
		"litellm_settings: {max_budget: 10}\n"), 0o600)
	a := startApp(t, Options{ConfigPath: cfg, DataDir: dir})
	if got, want := a.Status().Budget.Line, "Today $0.00 · all requests 0% of $10.00"; got != want {
		t.Fatalf("first status's spend line %q, want %q", got, want)
	}
}
