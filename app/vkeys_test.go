package app

import (
	"context"
	"os"
	"sort"
	"strings"
	"testing"
)

// pv points at v.
func pv[T any](v T) *T { return &v }

// A key made with a budget works at once and shows in the budgets with its limit; edit, regenerate
// and delete act on it by its hash.
func TestKeyLifecycle(t *testing.T) {
	a, _ := newEditApp(t, commented)
	ctx := context.Background()
	spec := KeySpec{Alias: "ci", Models: []string{"gpt-4o"}, MaxBudget: pv(5.0), SoftBudget: pv(4.0), BudgetDuration: "30d",
		RPM: pv(int64(10)), Expires: "90d"}
	if p := CheckKey(spec); len(p) != 0 {
		t.Fatalf("problems %v", p)
	}
	secret, err := a.CreateKey(ctx, spec)
	if err != nil || !strings.HasPrefix(secret, "sk-") {
		t.Fatalf("CreateKey = %q, %v", secret, err)
	}
	token := budgetOf(t, a, "ci").Token
	b := budgetOf(t, a, "ci")
	if b.MaxBudget == nil || *b.MaxBudget != 5 || b.Duration != "30d" || b.Expires == nil {
		t.Errorf("budget %+v", b)
	}
	got, err := a.KeyDetails(ctx, token)
	if err != nil || got.Alias != "ci" || len(got.Models) != 1 || *got.RPM != 10 || *got.SoftBudget != 4 {
		t.Errorf("details %+v %v", got, err)
	}

	got.MaxBudget, got.Models = pv(12.5), nil
	if err := a.UpdateKey(ctx, token, got); err != nil {
		t.Fatal(err)
	}
	if b := budgetOf(t, a, "ci"); *b.MaxBudget != 12.5 {
		t.Errorf("after the edit %+v", b)
	}
	if d, _ := a.KeyDetails(ctx, token); len(d.Models) != 0 {
		t.Errorf("models after clearing them: %v", d.Models)
	}

	again, err := a.RegenerateKey(ctx, token)
	if err != nil || again == secret || !strings.HasPrefix(again, "sk-") {
		t.Fatalf("RegenerateKey = %q, %v", again, err)
	}
	token = budgetOf(t, a, "ci").Token // the hash follows the secret
	if err := a.DeleteKey(ctx, token); err != nil {
		t.Fatal(err)
	}
	act, _ := a.Activity(ctx, 1)
	for _, b := range act.Budgets {
		if b.Name == "ci" {
			t.Error("the key is still listed after Delete")
		}
	}
}

func budgetOf(t *testing.T, a *App, name string) Budget {
	t.Helper()
	act, err := a.Activity(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range act.Budgets {
		if b.Name == name {
			return b
		}
	}
	t.Fatalf("no budget %q in %+v", name, act.Budgets)
	return Budget{}
}

func TestCheckKey(t *testing.T) {
	for name, tt := range map[string]struct {
		s    KeySpec
		want string
	}{
		"fine":               {KeySpec{MaxBudget: pv(1.0), BudgetDuration: "monthly", Expires: "30d"}, ""},
		"negative":           {KeySpec{MaxBudget: pv(-1.0)}, "max_budget"},
		"soft over the hard": {KeySpec{MaxBudget: pv(1.0), SoftBudget: pv(2.0)}, "soft_budget"},
		"bad period":         {KeySpec{BudgetDuration: "fortnightly"}, "budget_duration"},
		"bad expiry":         {KeySpec{Expires: "soon"}, "expires"},
	} {
		t.Run(name, func(t *testing.T) {
			got := CheckKey(tt.s)
			if tt.want == "" && len(got) > 0 || tt.want != "" && got[tt.want] == "" {
				t.Errorf("problems %v, want %q", got, tt.want)
			}
		})
	}
}

// The proxy budget is written to litellm_settings, in place when the section exists (comments kept),
// as a new section when not, and put in force.
func TestSetProxyBudget(t *testing.T) {
	withSection := strings.Replace(commented, "# Router knobs below.", "litellm_settings:\n  drop_params: true # keep\n  max_budget: 3 # was three\n\n# Router knobs below.", 1)
	for name, text := range map[string]string{"in place": withSection, "new section": commented} {
		t.Run(name, func(t *testing.T) {
			a, path := newEditApp(t, text)
			b, v, err := a.ReadProxyBudget()
			if err != nil {
				t.Fatal(err)
			}
			b.MaxBudget, b.Period = pv(20.0), "monthly"
			if _, err := a.SetProxyBudget(v, b); err != nil {
				t.Fatal(err)
			}
			got, _ := os.ReadFile(path)
			for _, c := range commentLines(text) {
				if !strings.Contains(string(got), c) {
					t.Errorf("lost %q:\n%s", c, got)
				}
			}
			if name == "in place" && !strings.Contains(string(got), "  max_budget: 20 # was three\n") {
				t.Errorf("not edited in place:\n%s", got)
			}
			back, _, _ := a.ReadProxyBudget()
			if back.MaxBudget == nil || *back.MaxBudget != 20 || back.Period != "monthly" {
				t.Errorf("read back %+v", back)
			}
			if g := budgetOf(t, a, "All requests"); g.MaxBudget == nil || *g.MaxBudget != 20 || g.ResetAt == nil {
				t.Errorf("in force: %+v", g)
			}
			// And removed again.
			_, v, _ = a.ReadProxyBudget()
			if _, err := a.SetProxyBudget(v, ProxyBudget{}); err != nil {
				t.Fatal(err)
			}
			if back, _, _ := a.ReadProxyBudget(); back.MaxBudget != nil || back.Period != "" {
				t.Errorf("after removing: %+v", back)
			}
		})
	}
}

// listSecrets is a keychain that can also list and delete, as the OS one does.
type listSecrets struct{ mapSecrets }

func (l listSecrets) List() ([]string, error) {
	var out []string
	for k := range l.mapSecrets {
		out = append(out, k)
	}
	sort.Strings(out)
	return out, nil
}

func (l listSecrets) Delete(name string) error { delete(l.mapSecrets, name); return nil }

func TestProviderKeys(t *testing.T) {
	s := listSecrets{mapSecrets{"openai": "sk-o", "spare": "x"}}
	text := strings.Replace(commented, "api_key: os.environ/OPENAI_API_KEY", "api_key: keychain/openai", 1)
	dir := t.TempDir()
	path := dir + "/config.yaml"
	os.WriteFile(path, []byte(text), 0o600)
	a, err := New(Options{ConfigPath: path, DataDir: dir + "/data", Logger: quiet(), Secrets: s})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Stop(context.Background())
	keys, err := a.ProviderKeys()
	if err != nil || len(keys) != 2 || keys[0].Name != "openai" || strings.Join(keys[0].Routes, ",") != "gpt-4o" || len(keys[1].Routes) != 0 {
		t.Fatalf("keys %+v %v", keys, err)
	}
	if err := a.DeleteProviderKey("openai"); err == nil || !strings.Contains(err.Error(), "gpt-4o") {
		t.Errorf("deleting a key in use: %v", err)
	}
	if err := a.SetProviderKey("spare", "y"); err != nil || s.mapSecrets["spare"] != "y" {
		t.Errorf("replace: %v %v", err, s.mapSecrets)
	}
	if err := a.DeleteProviderKey("spare"); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.mapSecrets["spare"]; ok {
		t.Error("not deleted")
	}
}
