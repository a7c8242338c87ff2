// Command fakeupstream serves the fake OpenAI upstream for tests that run outside Go (the e2e
// suite), with Anthropic's, Gemini's and Bedrock's own APIs on the same address
// (fakeupstream.Native). It prints "listening on http://ADDR" to stdout once it accepts connections.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/clawgate/clawgate/internal/fakeupstream"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "address to listen on")
	key := flag.String("key", "", "require Authorization: Bearer KEY (empty: accept any)")
	delay := flag.Duration("delay", 0, "delay before each streamed chunk")
	cache := flag.Bool("prompt-cache", false, "bill Anthropic and Bedrock input as their prompt cache does (GET /_fake/native/cache lists the breakpoints seen)")
	flag.Parse()
	if err := run(*addr, *key, *delay, *cache); err != nil {
		log.Fatalf("fakeupstream: %v", err)
	}
}

func run(addr, key string, delay time.Duration, cache bool) error {
	fake := fakeupstream.New()
	fake.Key = key
	fake.Delay = delay
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	native := fakeupstream.NewNative(fake)
	native.Key = key
	if cache {
		native.Cache = fakeupstream.NewPromptCache()
	}
	srv := &http.Server{Handler: native, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	fmt.Printf("listening on http://%s\n", ln.Addr())
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}
