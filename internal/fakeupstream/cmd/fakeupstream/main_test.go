package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// childEnv turns the test binary into the command itself, so the test runs the real main: its
// flags, its "listening on" line, and its exit on SIGTERM.
const childEnv = "FAKEUPSTREAM_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		os.Args = append([]string{"fakeupstream"}, strings.Fields(os.Getenv(childEnv+"_ARGS"))...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// The command announces its address once it accepts connections, serves the OpenAI fake and the
// native APIs there behind the key it was given, and ends cleanly on SIGTERM.
func TestServesUntilSIGTERM(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=1", childEnv+"_ARGS=-addr 127.0.0.1:0 -key sk-fake-123")
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killer := time.AfterFunc(30*time.Second, func() { cmd.Process.Kill() })
	defer killer.Stop()
	defer cmd.Process.Kill()

	line, err := bufio.NewReader(out).ReadString('\n')
	base, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on ")
	if err != nil || !ok || !strings.HasPrefix(base, "http://127.0.0.1:") {
		t.Fatalf("first line %q, %v", line, err)
	}

	post := func(path string, header map[string]string, body string) (int, []byte) {
		t.Helper()
		req, _ := http.NewRequest("POST", base+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	chat := `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}`
	if st, _ := post("/v1/chat/completions", map[string]string{"Authorization": "Bearer wrong"}, chat); st != 401 {
		t.Errorf("a wrong key got %d, want 401", st)
	}
	st, b := post("/v1/chat/completions", map[string]string{"Authorization": "Bearer sk-fake-123"}, chat)
	var completion struct {
		Object string `json:"object"`
		Model  string `json:"model"`
	}
	if st != 200 || json.Unmarshal(b, &completion) != nil || completion.Object != "chat.completion" || completion.Model != "gpt-4o-mini" {
		t.Errorf("chat completion: %d %s", st, b)
	}
	anth := map[string]string{"x-api-key": "wrong", "anthropic-version": "2023-06-01"}
	messages := `{"model":"claude-x","max_tokens":64,"messages":[{"role":"user","content":"hi"}]}`
	if st, _ := post("/v1/messages", anth, messages); st != 401 {
		t.Errorf("a wrong Anthropic key got %d, want 401", st)
	}
	anth["x-api-key"] = "sk-fake-123"
	st, b = post("/v1/messages", anth, messages)
	var msg struct {
		Type  string `json:"type"`
		Model string `json:"model"`
	}
	if st != 200 || json.Unmarshal(b, &msg) != nil || msg.Type != "message" || msg.Model != "claude-x" {
		t.Errorf("Anthropic message: %d %s", st, b)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("after SIGTERM: %v, want a clean exit", err)
	}
}
