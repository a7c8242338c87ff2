package messages

import (
	"errors"
	"strings"
	"testing"

	"github.com/clawgate/clawgate/proxy/provider"
)

func TestCountTokens(t *testing.T) {
	text400 := strings.Repeat("abcd", 100)
	for _, tc := range []struct {
		name string
		body string
		want int
	}{
		// 400 characters at four a token, plus the turn's markers.
		{"one message", `{"model":"m","messages":[{"role":"user","content":"` + text400 + `"}]}`, 100 + perMessage},
		{"system string and blocks count the same", `{"model":"m","system":[{"type":"text","text":"` + text400 + `"}],"messages":[{"role":"user","content":"` + text400 + `"}]}`, 200 + perMessage},
		{"image", `{"model":"m","messages":[{"role":"user","content":[{"type":"image","source":{"type":"url","url":"https://x/y.png"}},{"type":"text","text":"` + text400 + `"}]}]}`, perImage + 100 + perMessage},
		{"tool use and result", `{"model":"m","messages":[{"role":"assistant","content":[{"type":"tool_use","id":"t","name":"abcd","input":{"q":"` + strings.Repeat("x", 388) + `"}}]},` +
			`{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":[{"type":"text","text":"` + text400 + `"}]}]}]}`, 100 + 100 + 2*perMessage},
		{"small pdf counts at least the floor", `{"model":"m","messages":[{"role":"user","content":[{"type":"document","source":{"type":"base64","media_type":"application/pdf","data":"JVBERi0xLjQK"}}]}]}`, minDocument + perMessage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := CountTokens([]byte(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got %d, want %d", got, tc.want)
			}
		})
	}
	t.Run("tools count by their JSON", func(t *testing.T) {
		without, _ := CountTokens([]byte(`{"model":"m","messages":[{"role":"user","content":"hi"}]}`))
		with, _ := CountTokens([]byte(`{"model":"m","tools":[{"name":"get_weather","description":"` + text400 + `","input_schema":{"type":"object"}}],"messages":[{"role":"user","content":"hi"}]}`))
		if with-without < 100 || with-without > 130 {
			t.Errorf("tools added %d tokens", with-without)
		}
	})
	t.Run("bad body", func(t *testing.T) {
		for _, body := range []string{`{`, `{"messages":[{"role":"user","content":5}]}`} {
			var pe *provider.Error
			if _, err := CountTokens([]byte(body)); !errors.As(err, &pe) || pe.Status != 400 {
				t.Errorf("%s: err = %v", body, err)
			}
		}
	})
	if got := string(CountTokensBody(1234)); got != `{"input_tokens":1234}` {
		t.Errorf("CountTokensBody = %s", got)
	}
}
