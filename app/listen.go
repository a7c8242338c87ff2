package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"syscall"
)

// listenKey is where the Settings window keeps the listen address in config.yaml: a Clawgate
// addition to general_settings (LiteLLM takes its port as a flag). --host and --port override it.
const listenKey = "clawgate_listen"

// listenFromConfig is general_settings.clawgate_listen as host and port, ok false when unset or
// not host:port.
func listenFromConfig(extra map[string]any) (host string, port int, ok bool) {
	s, _ := extra[listenKey].(string)
	if s == "" {
		return "", 0, false
	}
	h, p, err := net.SplitHostPort(s)
	n, perr := strconv.Atoi(p)
	if err != nil || perr != nil || n < 1 || n > 65535 {
		return "", 0, false
	}
	return h, n, true
}

// CheckListen says what is wrong with host:port as a listen address for this gateway ("" when
// nothing): a port out of range, a host that is not an address of this machine, anything beyond
// loopback without a master key, or a port another program holds. It binds and releases the
// port to know: call it off the UI goroutine.
func (a *App) CheckListen(host string, port int) string {
	host = strings.TrimSpace(host)
	switch {
	case port < 1 || port > 65535:
		return "the port must be a number from 1 to 65535"
	case net.ParseIP(host) == nil && host != "localhost":
		return "the address must be an IP address of this machine (127.0.0.1, or 0.0.0.0 for every network)"
	case !isLoopback(host) && !a.srv.HasMasterKey():
		return "listening beyond this machine needs a master key (none is in force)"
	}
	if a.sameAddr(host, port) {
		return ""
	}
	l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return fmt.Sprintf("port %d is in use by another program", port)
		}
		return err.Error()
	}
	l.Close()
	return ""
}

func (a *App) sameAddr(host string, port int) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.opts.Host == host && a.opts.Port == port && a.listener != nil
}

// SetListen moves the gateway to host:port while it runs: it binds the new address first (a
// taken port changes nothing), serves on it, then closes the old one (requests under way there
// finish). The address is kept in config.yaml (general_settings.clawgate_listen) through the
// careful edit, and OpenClaw's baseUrl is rewritten when it is connected. It binds, writes files and
// OpenClaw's config: call it off the UI goroutine.
func (a *App) SetListen(ctx context.Context, host string, port int) error {
	host = strings.TrimSpace(host)
	if p := a.CheckListen(host, port); p != "" {
		return errors.New(p)
	}
	if !a.sameAddr(host, port) {
		if err := a.rebind(ctx, host, port); err != nil {
			return err
		}
	}
	if a.opts.ConfigPath != "" {
		if _, err := a.editFile("", func(f *configFile) ([]byte, error) {
			return f.setSectionValue("general_settings", listenKey, yamlString(net.JoinHostPort(host, strconv.Itoa(port))))
		}); err != nil {
			return fmt.Errorf("the gateway moved to port %d, but config.yaml was not updated (it moves back at the next start): %w", port, err)
		}
	}
	if a.Status().OpenClaw.Connected {
		if err := a.ConnectOpenClaw(); err != nil {
			return fmt.Errorf("the gateway moved to port %d, but OpenClaw's baseUrl was not rewritten: %w", port, err)
		}
	}
	a.publish()
	return nil
}

// rebind swaps the listener under the running server.
func (a *App) rebind(ctx context.Context, host string, port int) error {
	a.mu.Lock()
	old, done := a.listener, a.done
	a.mu.Unlock()
	if old == nil || done == nil {
		a.mu.Lock()
		a.opts.Host, a.opts.Port = host, port
		a.mu.Unlock()
		return nil // not serving: the next start listens there
	}
	l, err := (&net.ListenConfig{}).Listen(ctx, "tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return fmt.Errorf("listen on port %d: %w", port, err)
	}
	next := make(chan struct{})
	a.mu.Lock()
	a.opts.Host, a.opts.Port = host, port
	a.listener, a.done = l, next
	a.status.Addr = l.Addr().String()
	a.mu.Unlock()
	go a.serveOn(l, next)
	old.Close() // its Serve returns; the requests it accepted finish
	<-done
	a.log.Info("listening on " + a.Status().BaseURL())
	return nil
}

// serveOn serves l until it is closed (a move to another port) or the server shuts down.
func (a *App) serveOn(l net.Listener, done chan struct{}) {
	defer close(done)
	if err := a.srv.Serve(l); err != nil && !errors.Is(err, net.ErrClosed) {
		a.setErr(fmt.Errorf("gateway stopped: %w", err))
	}
}
