package budget

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want Duration
	}{
		{"30s", Duration{30, Second}},
		{"30m", Duration{30, Minute}}, // m is minutes, as in LiteLLM
		{"30h", Duration{30, Hour}},
		{"30d", Duration{30, Day}},
		{"1w", Duration{1, Week}},
		{"2w", Duration{2, Week}},
		{"1mo", Duration{1, Month}},
		{"3mo", Duration{3, Month}},
		{"01d", Duration{1, Day}},
		{" 7d ", Duration{7, Day}},
		{"daily", Duration{1, Day}},
		{"weekly", Duration{1, Week}},
		{"monthly", Duration{1, Month}},
		{"Monthly", Duration{1, Month}},
		{"1200mo", Duration{1200, Month}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseDuration(tt.in)
			if err != nil {
				t.Fatalf("ParseDuration(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Fatalf("ParseDuration(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseDurationRejects(t *testing.T) {
	for _, in := range []string{
		"", "none", "0d", "-1d", "+1d", "1", "d", "1.5d", "1 d", "1M", "1D", "1y", "1yr", "yearly", "hourly",
		"1min", "30days", "1mon", "1d2h", "1201mo", "99999999999999999999s", "１d",
	} {
		t.Run(in, func(t *testing.T) {
			_, err := ParseDuration(in)
			if err == nil {
				t.Fatalf("ParseDuration(%q) succeeded", in)
			}
			if !errors.Is(err, ErrInvalidDuration) {
				t.Fatalf("error %v does not wrap ErrInvalidDuration", err)
			}
			// The gateway returns the message in a 400: it must say what is accepted.
			for _, want := range []string{`"30d"`, `"1mo"`, "monthly", "m (minutes)"} {
				if !strings.Contains(err.Error(), want) {
					t.Fatalf("error %q does not mention %s", err, want)
				}
			}
		})
	}
}

func TestDurationStringRoundTrip(t *testing.T) {
	for _, in := range []string{"30s", "30m", "30h", "30d", "1w", "1mo", "12mo"} {
		d, err := ParseDuration(in)
		if err != nil {
			t.Fatal(err)
		}
		if d.String() != in {
			t.Errorf("String() = %q, want %q", d.String(), in)
		}
	}
	d, _ := ParseDuration("monthly")
	if d.String() != "1mo" {
		t.Errorf("monthly.String() = %q, want 1mo", d.String())
	}
}

func TestDurationJSON(t *testing.T) {
	var v struct {
		D Duration `json:"budget_duration"`
	}
	if err := json.Unmarshal([]byte(`{"budget_duration":"weekly"}`), &v); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"budget_duration":"1w"}` {
		t.Fatalf("got %s", b)
	}
	if err := json.Unmarshal([]byte(`{"budget_duration":"fortnightly"}`), &v); !errors.Is(err, ErrInvalidDuration) {
		t.Fatalf("want ErrInvalidDuration, got %v", err)
	}
	if _, err := json.Marshal(Duration{}); err == nil {
		t.Fatal("marshalling the zero Duration succeeded")
	}
}

func TestParseOptionalDuration(t *testing.T) {
	for _, in := range []string{"", "  ", "none", "None", "null", "NULL"} {
		d, err := ParseOptionalDuration(in)
		if err != nil || d != nil {
			t.Errorf("ParseOptionalDuration(%q) = %v, %v; want nil, nil", in, d, err)
		}
	}
	d, err := ParseOptionalDuration("30d")
	if err != nil || d == nil || *d != (Duration{30, Day}) {
		t.Errorf("ParseOptionalDuration(30d) = %v, %v", d, err)
	}
	if _, err := ParseOptionalDuration("soon"); !errors.Is(err, ErrInvalidDuration) {
		t.Errorf("ParseOptionalDuration(soon) error = %v", err)
	}
}
