package appid

import "testing"

func TestBundled(t *testing.T) {
	for _, c := range []struct {
		exe  string
		want bool
	}{
		{"/Applications/Clawgate.app/Contents/MacOS/clawgate", true},
		{"/Users/me/dist/Clawgate.app/Contents/MacOS/clawgate", true},
		{"/Users/me/clawgate/bin/clawgate", false},
		{"/Users/me/Contents/MacOS/clawgate", false}, // no .app around it
		{"/Applications/Clawgate.app/clawgate", false},
	} {
		if got := bundled(c.exe); got != c.want {
			t.Errorf("bundled(%q) = %v, want %v", c.exe, got, c.want)
		}
	}
}

func TestAppleScript(t *testing.T) {
	got := appleScript("Clawgate", `Budget "daily" reached`, `key C:\x at 100%`)
	want := `display notification "key C:\\x at 100%" with title "Clawgate" subtitle "Budget \"daily\" reached"`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}
