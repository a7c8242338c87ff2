package httpx

import (
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestSharedErrorsLikeClient: sending without http.Client keeps its error shape, so messages
// still name the method and the (redacted) URL that failed.
func TestSharedErrorsLikeClient(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	req, err := http.NewRequest(http.MethodPost, "http://user:secret@"+addr+"/v1/chat/completions", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Shared().Do(req)
	var ue *url.Error
	if !errors.As(err, &ue) || ue.Op != "Post" {
		t.Fatalf("err = %#v, want a *url.Error for Post", err)
	}
	if msg := err.Error(); strings.Contains(msg, "secret") || !strings.Contains(msg, addr+"/v1/chat/completions") {
		t.Errorf("message %q: want the URL without its password", msg)
	}
	var op *net.OpError
	if !errors.As(err, &op) {
		t.Errorf("err = %v, want the dial error inside", err)
	}
}
