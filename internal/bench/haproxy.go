package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"
)

// deployHAProxy is the documented configuration the team row runs (from the repository root,
// where make bench runs): its defaults, balancing, health checks and retries as written.
const deployHAProxy = "docs/deploy/haproxy.cfg"

// haproxyFor rewrites the documented configuration to run unprivileged in front of replicas
// (their ports, named r1..rN as in the document): the global section keeps only its TLS settings,
// the TLS bind moves to port with the certificate pem, the plain-HTTP redirect is dropped, and
// the document's server lines give way to one per replica. It fails when the document no longer
// has the lines it replaces.
func haproxyFor(doc string, port int, pem string, replicas []int) (string, error) {
	var out strings.Builder
	section := ""
	binds, servers := 0, 0
	serverLine := regexp.MustCompile(`^server r\d+ \S+ (.*)$`)
	for _, raw := range strings.Split(doc, "\n") {
		line := strings.TrimSpace(raw)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if raw[0] != ' ' && raw[0] != '\t' {
			section = line
			out.WriteString("\n" + line + "\n")
			continue
		}
		word, _, _ := strings.Cut(line, " ")
		switch {
		case section == "global" && word != "ssl-default-bind-ciphersuites" && word != "ssl-default-bind-ciphers" && word != "ssl-default-bind-options":
			continue
		case word == "bind" && strings.HasPrefix(line, "bind :443 ssl crt "):
			rest := strings.Fields(strings.TrimPrefix(line, "bind :443 ssl crt "))[1:]
			line = fmt.Sprintf("bind 127.0.0.1:%d ssl crt %s %s", port, pem, strings.Join(rest, " "))
			binds++
		case word == "bind" && line == "bind :80":
			binds++
			continue
		case word == "server":
			m := serverLine.FindStringSubmatch(line)
			if m == nil {
				return "", fmt.Errorf("%s: unexpected server line %q", deployHAProxy, line)
			}
			servers++
			if servers > 1 {
				continue
			}
			for i, p := range replicas {
				fmt.Fprintf(&out, "\tserver r%d 127.0.0.1:%d %s\n", i+1, p, m[1])
			}
			continue
		}
		out.WriteString("\t" + line + "\n")
	}
	if binds != 2 || servers == 0 {
		return "", fmt.Errorf("%s: expected a \"bind :443 ssl crt\", a \"bind :80\" and server lines; found %d binds, %d servers", deployHAProxy, binds, servers)
	}
	return out.String(), nil
}

// selfSigned writes a certificate for 127.0.0.1 and its key as one PEM file (what HAProxy loads)
// and returns the pool a client trusts it with.
func selfSigned(path string) (*x509.CertPool, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "clawgate bench"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, err
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
	if err := os.WriteFile(path, append(certPEM, keyPEM...), 0o600); err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	return pool, nil
}

// lb is a running HAProxy.
type lb struct {
	cmd  *exec.Cmd
	base string // https://127.0.0.1:PORT
	done chan struct{}
	out  *tailBuffer
}

// startHAProxy runs HAProxy in the foreground in front of the replicas' ports, on the documented
// configuration, and waits until it answers /health/liveliness over TLS with client.
func startHAProxy(ctx context.Context, dir, pem string, replicas []int, client *http.Client) (*lb, error) {
	bin, err := exec.LookPath("haproxy")
	if err != nil {
		bin = "/usr/sbin/haproxy"
		if _, serr := os.Stat(bin); serr != nil {
			return nil, errors.New("haproxy is not installed (make deps installs Debian's haproxy)")
		}
	}
	doc, err := os.ReadFile(deployHAProxy)
	if err != nil {
		return nil, fmt.Errorf("%w (run the bench from the repository root)", err)
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	cfgText, err := haproxyFor(string(doc), port, pem, replicas)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	cfg := filepath.Join(dir, "haproxy.cfg")
	if err := os.WriteFile(cfg, []byte(cfgText), 0o600); err != nil {
		return nil, err
	}
	out := &tailBuffer{}
	cmd := exec.Command(bin, "-db", "-f", cfg)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = childAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start haproxy: %w", err)
	}
	l := &lb{cmd: cmd, base: fmt.Sprintf("https://127.0.0.1:%d", port), done: make(chan struct{}), out: out}
	go func() { _ = cmd.Wait(); close(l.done) }()
	deadline := time.Now().Add(15 * time.Second)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, l.base+"/health/liveliness", nil)
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return l, nil
			}
		}
		select {
		case <-l.done:
			return nil, fmt.Errorf("haproxy exited:\n%s", out.String())
		case <-ctx.Done():
			l.stop()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			l.stop()
			return nil, fmt.Errorf("haproxy not answering within 15s (%v):\n%s", err, out.String())
		}
	}
}

func (l *lb) pid() int { return l.cmd.Process.Pid }

func (l *lb) stop() { stopProcess(l.cmd.Process, l.done, 5*time.Second) }

// haproxyVersion is the version haproxy -v reports ("HAProxy version 2.6.12-1 ..." gives
// "2.6.12-1"; "unknown" when it cannot run).
func haproxyVersion() string {
	out, err := exec.Command("haproxy", "-v").Output()
	if err != nil {
		out, _ = exec.Command("/usr/sbin/haproxy", "-v").Output()
	}
	if f := strings.Fields(string(out)); len(f) > 2 && f[1] == "version" {
		return f[2]
	}
	return "unknown"
}

// tailBuffer keeps the last 8 KiB written to it, for error messages.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > 8192 {
		t.buf = t.buf[len(t.buf)-8192:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}
