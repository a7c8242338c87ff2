package instance

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestMain doubles as the first instance when INSTANCE_HELPER names a data folder: it takes the
// folder, says "held", and says "shown" for each hand-over, until its stdin closes.
func TestMain(m *testing.M) {
	if dir := os.Getenv("INSTANCE_HELPER"); dir != "" {
		in, err := Acquire(dir)
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(3)
		}
		fmt.Println("held")
		go func() {
			for range in.Show() {
				fmt.Println("shown")
			}
		}()
		bufio.NewReader(os.Stdin).ReadString('\n')
		in.Close()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// helper starts the first instance in another process and waits until it holds dir.
func helper(t *testing.T, dir string) (*exec.Cmd, *bufio.Reader, func()) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "INSTANCE_HELPER="+dir)
	stdin, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(out)
	if line := readLine(t, r); line != "held" {
		t.Fatalf("helper said %q", line)
	}
	return cmd, r, func() { stdin.Close(); cmd.Wait() }
}

func readLine(t *testing.T, r *bufio.Reader) string {
	t.Helper()
	got := make(chan string, 1)
	go func() { l, _ := r.ReadString('\n'); got <- strings.TrimSpace(l) }()
	select {
	case l := <-got:
		return l
	case <-time.After(10 * time.Second):
		t.Fatal("helper said nothing for 10 s")
		return ""
	}
}

func TestSecondLaunchHandsOver(t *testing.T) {
	dir := t.TempDir()
	_, out, stop := helper(t, dir)
	for i := 0; i < 2; i++ {
		if _, err := Acquire(dir); !errors.Is(err, ErrHandedOver) {
			t.Fatalf("second Acquire: %v, want ErrHandedOver", err)
		}
		if line := readLine(t, out); line != "shown" {
			t.Fatalf("first instance said %q, want shown", line)
		}
	}
	stop()
	// Released on exit: the folder can be taken again.
	in, err := Acquire(dir)
	if err != nil {
		t.Fatalf("Acquire after the first exited: %v", err)
	}
	in.Close()
}

func TestCrashLeavesNothingBehind(t *testing.T) {
	dir := t.TempDir()
	cmd, _, stop := helper(t, dir)
	cmd.Process.Kill() // no Close: the socket file stays, the kernel drops the lock
	stop()
	in, err := Acquire(dir)
	if err != nil {
		t.Fatalf("Acquire after a crash: %v", err)
	}
	defer in.Close()
	// And this one answers hand-overs, over the socket the crashed one left.
	if _, err := Acquire(dir); !errors.Is(err, ErrHandedOver) {
		// Same process: flock is per open file description, so a second open conflicts too.
		t.Fatalf("second Acquire in this process: %v", err)
	}
	select {
	case <-in.Show():
	case <-time.After(5 * time.Second):
		t.Fatal("no show after a hand-over")
	}
}

func TestLongFolderUsesTempSocket(t *testing.T) {
	long := "/" + strings.Repeat("d", 120)
	if p := socketPath(long); len(p) >= 100 || !strings.HasPrefix(p, os.TempDir()) {
		t.Errorf("socket path %q", p)
	}
	if p := socketPath("/home/u/.config/clawgate"); p != "/home/u/.config/clawgate/clawgate.sock" {
		t.Errorf("socket path %q", p)
	}
}
