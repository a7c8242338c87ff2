package app

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
)

func TestSaveSettings(t *testing.T) {
	text := "# mine\ngeneral_settings:\n  master_key: sk-master # keep\n  maximum_spend_logs_retention_period: 90d\nmodel_list:\n" +
		"  - model_name: m\n    litellm_params:\n      model: openai/gpt-4o\n      api_key: sk-x\n"
	a, path := newEditApp(t, text)
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	s, v, err := a.Settings()
	if err != nil || s.Retention != "90d" || s.StorePrompts || s.AlertLevels != "" || s.Host != "127.0.0.1" {
		t.Fatalf("Settings = %+v, %v", s, err)
	}
	bad := s
	bad.Retention, bad.AlertLevels, bad.Port = "3 weeks", "50, lots", 0
	if p := CheckSettings(bad); len(p) != 3 || p["retention"] == "" || p["alerts"] == "" || p["port"] == "" {
		t.Errorf("CheckSettings = %v", p)
	}
	if err := a.SaveSettings(context.Background(), v, bad); err == nil {
		t.Error("saved settings with problems")
	}
	if got, _ := os.ReadFile(path); string(got) != text {
		t.Fatalf("a refused save wrote:\n%s", got)
	}
	s.StorePrompts, s.Retention, s.AlertLevels = true, "30d", "50, 90%"
	s.Port = freePort(t)
	if err := a.SaveSettings(context.Background(), v, s); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	want := "# mine\ngeneral_settings:\n  master_key: sk-master # keep\n  maximum_spend_logs_retention_period: 30d\n  store_prompts_in_spend_logs: true\n" +
		"  clawgate_listen: 127.0.0.1:" + strconv.Itoa(s.Port) + "\nmodel_list:\n" +
		"  - model_name: m\n    litellm_params:\n      model: openai/gpt-4o\n      api_key: sk-x\n\nlitellm_settings:\n  budget_alert_levels: [50, 90]\n"
	if string(got) != want {
		t.Errorf("config:\n%s\nwant:\n%s", got, want)
	}
	if !answers(s.Port) {
		t.Error("the gateway does not answer on the new port")
	}
	back, _, _ := a.Settings()
	if s.AlertLevels = "50, 90"; back != s {
		t.Errorf("read back %+v, want %+v", back, s)
	}
	if !a.inForceSettings.StorePrompts || a.inForceSettings.Retention == nil || len(a.inForceSettings.AlertLevels) != 2 {
		t.Errorf("not in force: %+v", a.inForceSettings)
	}
	if !strings.Contains(a.Status().Addr, strconv.Itoa(s.Port)) {
		t.Errorf("status addr %s", a.Status().Addr)
	}
}
