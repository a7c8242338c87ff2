// Package instance keeps one tray app per data folder: the first holds a lock file and listens on a
// local socket in that folder; a second launch finds the lock taken, asks the first over the socket
// to show its main window, and exits. Headless commands never take the lock, so they run beside it.
package instance

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// ErrHandedOver is returned by Acquire when another instance holds the folder and was asked to show
// itself: the caller exits with success.
var ErrHandedOver = errors.New("another Clawgate runs on this data folder and was asked to show its window")

// handoverTimeout bounds how long a second launch waits for the first to answer (it may be starting).
const handoverTimeout = 5 * time.Second

// Instance is the running tray app's hold on its data folder.
type Instance struct {
	lock *os.File
	l    net.Listener
	path string
	show chan struct{}
	wg   sync.WaitGroup
}

// Acquire takes the data folder dir for this process, or hands over to the process that holds it
// (then the error is ErrHandedOver).
func Acquire(dir string) (*Instance, error) {
	f, err := os.OpenFile(filepath.Join(dir, "clawgate.lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("single instance: %w", err)
	}
	sock := socketPath(dir)
	locked, err := tryLock(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("single instance: lock %s: %w", f.Name(), err)
	}
	if !locked {
		f.Close()
		if err := handOver(sock, handoverTimeout); err != nil {
			return nil, fmt.Errorf("another Clawgate holds %s but did not answer: %w", dir, err)
		}
		return nil, ErrHandedOver
	}
	// The lock is ours: a socket file left by a crash is stale.
	_ = os.Remove(sock)
	l, err := net.Listen("unix", sock)
	if err != nil {
		unlock(f)
		f.Close()
		return nil, fmt.Errorf("single instance: listen on %s: %w", sock, err)
	}
	fmt.Fprintf(f, "%d\n", os.Getpid())
	in := &Instance{lock: f, l: l, path: sock, show: make(chan struct{}, 1)}
	in.wg.Add(1)
	go in.serve()
	return in, nil
}

// Show delivers one value per second launch (folded while one is pending).
func (in *Instance) Show() <-chan struct{} { return in.show }

// Close stops listening and releases the folder.
func (in *Instance) Close() error {
	err := in.l.Close()
	in.wg.Wait()
	_ = os.Remove(in.path)
	unlock(in.lock)
	if cerr := in.lock.Close(); err == nil {
		err = cerr
	}
	return err
}

func (in *Instance) serve() {
	defer in.wg.Done()
	for {
		c, err := in.l.Accept()
		if err != nil {
			return
		}
		c.SetDeadline(time.Now().Add(handoverTimeout))
		line, _ := bufio.NewReader(c).ReadString('\n')
		if strings.TrimSpace(line) == "show" {
			select {
			case in.show <- struct{}{}:
			default:
			}
			c.Write([]byte("ok\n"))
		}
		c.Close()
	}
}

// handOver asks the instance listening on sock to show itself, retrying while it starts up.
func handOver(sock string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last error
	for wait := 20 * time.Millisecond; time.Now().Before(deadline); wait = min(2*wait, 500*time.Millisecond) {
		if last = ask(sock, deadline); last == nil {
			return nil
		}
		time.Sleep(wait)
	}
	return last
}

func ask(sock string, deadline time.Time) error {
	c, err := net.DialTimeout("unix", sock, time.Until(deadline))
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(deadline)
	if _, err := c.Write([]byte("show\n")); err != nil {
		return err
	}
	reply, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if strings.TrimSpace(reply) != "ok" {
		return fmt.Errorf("unexpected answer %q", reply)
	}
	return nil
}

// socketPath is the socket in the data folder, or one named after it in the temp folder where the
// folder's path is too long for a socket address (about 100 bytes on Linux and macOS).
func socketPath(dir string) string {
	p := filepath.Join(dir, "clawgate.sock")
	if len(p) < 100 {
		return p
	}
	sum := sha256.Sum256([]byte(dir))
	return filepath.Join(os.TempDir(), "clawgate-"+hex.EncodeToString(sum[:8])+".sock")
}
