package main

import (
	"os"
	"strings"
	"testing"
)

func TestHAProxyFor(t *testing.T) {
	doc, err := os.ReadFile("../../" + deployHAProxy)
	if err != nil {
		t.Fatal(err)
	}
	got, err := haproxyFor(string(doc), 8443, "/tmp/x.pem", []int{5001, 5002, 5003})
	if err != nil {
		t.Fatalf("the documented configuration: %v", err)
	}
	for _, want := range []string{
		"\tbind 127.0.0.1:8443 ssl crt /tmp/x.pem alpn h2,http/1.1\n",
		"\tserver r1 127.0.0.1:5001 check\n\tserver r2 127.0.0.1:5002 check\n\tserver r3 127.0.0.1:5003 check\n",
		"\tbalance roundrobin\n",
		"\thttp-check send meth GET uri /health/liveliness\n",
		"\tssl-default-bind-options ssl-min-ver TLSv1.2 no-tls-tickets\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
	for _, gone := range []string{"chroot", "user haproxy", "daemon", "bind :80", "/etc/haproxy/certs", "4001"} {
		if strings.Contains(got, gone) {
			t.Errorf("%q is still in:\n%s", gone, got)
		}
	}
	one, err := haproxyFor(string(doc), 8443, "/tmp/x.pem", []int{5001})
	if err != nil || strings.Count(one, "\tserver ") != 1 {
		t.Errorf("one replica: %v\n%s", err, one)
	}

	tests := []struct{ name, from, to string }{
		{"no TLS bind", "bind :443 ssl crt", "bind :8443 ssl crt"},
		{"no plain bind", "bind :80\n", "bind :8080\n"},
		{"no server lines", "server r", "#server r"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := haproxyFor(strings.ReplaceAll(string(doc), tt.from, tt.to), 8443, "/tmp/x.pem", []int{5001}); err == nil {
				t.Errorf("a document with %q replaced by %q was accepted", tt.from, tt.to)
			}
		})
	}
}
