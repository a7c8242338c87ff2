package logfile

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRotatesWithinBound(t *testing.T) {
	dir := t.TempDir()
	l, err := Open(dir, 1000, 3)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	line := strings.Repeat("x", 90) + "\n" // 91 bytes
	for i := 0; i < 100; i++ {
		fmt.Fprintf(l, "%03d %s", i, line)
	}
	var total int64
	for _, name := range []string{"clawgate.log", "clawgate.log.1", "clawgate.log.2"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if fi.Size() > 1000 {
			t.Errorf("%s is %d bytes, over the 1000-byte bound", name, fi.Size())
		}
		total += fi.Size()
	}
	if _, err := os.Stat(filepath.Join(dir, "clawgate.log.3")); err == nil {
		t.Error("a fourth file was kept")
	}
	cur, _ := os.ReadFile(filepath.Join(dir, "clawgate.log"))
	if !strings.HasSuffix(string(cur), "099 "+line) {
		t.Errorf("the newest line is not at the end of clawgate.log: %q", cur[len(cur)-100:])
	}
	if total < 2000 {
		t.Errorf("only %d bytes kept over three files", total)
	}
}

func TestTail(t *testing.T) {
	l, err := Open(t.TempDir(), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if got := l.Tail(5); len(got) != 0 {
		t.Fatalf("empty log tail = %q", got)
	}
	l.Write([]byte("a\nb\nc"))
	if got := strings.Join(l.Tail(5), ","); got != "a,b" {
		t.Fatalf("tail = %q (an unfinished line is not a line yet)", got)
	}
	l.Write([]byte("\n"))
	for i := 0; i < DefaultTail+10; i++ {
		fmt.Fprintf(l, "line %d\n", i)
	}
	got := l.Tail(-1)
	if len(got) != DefaultTail || got[0] != "line 10" || got[len(got)-1] != fmt.Sprintf("line %d", DefaultTail+9) {
		t.Fatalf("tail has %d lines, %q .. %q", len(got), got[0], got[len(got)-1])
	}
	if got := l.Tail(2); strings.Join(got, ",") != fmt.Sprintf("line %d,line %d", DefaultTail+8, DefaultTail+9) {
		t.Fatalf("tail(2) = %q", got)
	}
}
