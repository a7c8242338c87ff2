package ledger

import (
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	in := `{"messages":[{"role":"user","content":"my key is sk-proj-abcdefghijklmnop1234 and AKIAABCDEFGHIJKLMNOP, header Bearer abcdefghijklmnopqrstu, google AIzaSyA1234567890abcdefghijklmnopqrstuvw"}]}`
	out := string(redact([]byte(in)))
	for _, secret := range []string{"sk-proj-abcdefghijklmnop1234", "AKIAABCDEFGHIJKLMNOP", "abcdefghijklmnopqrstu", "AIzaSyA1234567890abcdefghijklmnopqrstuvw"} {
		if strings.Contains(out, secret) {
			t.Errorf("%q survived: %s", secret, out)
		}
	}
	if !strings.Contains(out, `"role":"user"`) || strings.Count(out, "[REDACTED]") != 4 {
		t.Errorf("redacted too much or too little: %s", out)
	}
	if redact(nil) != nil {
		t.Error("nil must stay nil (no body stored)")
	}
}
