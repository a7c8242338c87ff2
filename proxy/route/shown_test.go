package route

import "testing"

func TestShownBase(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"https://api.openai.com/v1", "https://api.openai.com/v1"},
		{"http://localhost:11434/v1/", "http://localhost:11434/v1/"},
		{"https://user:pa55@host.example/v1", "https://host.example/v1"},
		{"https://tok@host.example/v1", "https://host.example/v1"},
		{"https://host.example/v1?key=SECRET", "https://host.example/v1"},
		{"https://host.example/openai?api-key=SECRET&api-version=2024-10-21", "https://host.example/openai"},
		{"https://host.example/v1?", "https://host.example/v1"},
		{"https://host.example/v1#SECRET", "https://host.example/v1"},
		{"https://u:p@host.example:8443/a?api_key=SECRET", "https://host.example:8443/a"},
		// Unparseable bases (a bad percent escape, a space in the host) are cut by hand.
		{"https://u:SECRET@ho st/v1%zz?key=SECRET2", "https://ho st/v1%zz"},
		{"u:SECRET@host:1/%zz", "host:1/%zz"},
		{"", ""},
	} {
		if got := ShownBase(c.in); got != c.want {
			t.Errorf("ShownBase(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
