package openclaw

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Debounce is how long the Watcher waits for a burst of file events to settle. Editors and
// OpenClaw write a temp file, rename it over, then chmod: one change, several events.
const Debounce = 200 * time.Millisecond

// EventKind is a set of flags.
type EventKind uint8

const (
	// Changed: the file's content changed and it parses.
	Changed EventKind = 1 << iota
	// PrimaryChanged: agents.defaults.model (primary or string form) changed.
	PrimaryChanged
	// LiteLLMModelsChanged: models.providers.litellm.models changed.
	LiteLLMModelsChanged
	// Invalid: the file no longer parses (Err says where). OpenClaw keeps its last good config.
	Invalid
	// Gone: the file was deleted (or renamed away).
	Gone
)

// Has reports whether all of f are set.
func (k EventKind) Has(f EventKind) bool { return k&f == f }

func (k EventKind) String() string {
	var parts []string
	for _, n := range []struct {
		k    EventKind
		name string
	}{{Changed, "changed"}, {PrimaryChanged, "primary-changed"}, {LiteLLMModelsChanged, "litellm-models-changed"}, {Invalid, "invalid"}, {Gone, "gone"}} {
		if k.Has(n.k) {
			parts = append(parts, n.name)
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, "|")
}

// Event is one settled change of the config, made by someone other than Write.
type Event struct {
	Kind EventKind
	// Status is the new file's (zero for Invalid and Gone).
	Status Status
	// Data is the file as read, to pass to Parse and then as Write's original (nil when Gone).
	Data []byte
	Err  error
}

// Watcher reports changes to one config file.
type Watcher struct {
	fw      *fsnotify.Watcher
	path    string
	dir     string // path's folder
	base    string
	watched string // the folder watched: dir, or while dir is missing, its nearest existing ancestor
	gateway string
	onEvent func(Event)
	// settled, for tests, is called after each debounced check with whether it emitted.
	settled func(emitted bool)

	stop chan struct{}
	once sync.Once
	wg   sync.WaitGroup

	// state, owned by the loop goroutine after Watch returns
	exists    bool
	sum       [sha256.Size]byte
	primary   any
	models    any
	hasStatus bool
}

// Watch watches path through its parent folder, so that renames over it, deletion and
// re-creation are all seen. When the folder does not exist (OpenClaw not installed yet, or its
// folder deleted), it watches the nearest folder above that does and follows the path down as
// the folders appear. onEvent runs on the watcher's goroutine, once per burst
// of writes after Debounce, and never for a write made by Write (nor for one that leaves the
// bytes as they were). gatewayBaseURL fills Status.PointsHere.
func Watch(path, gatewayBaseURL string, onEvent func(Event)) (*Watcher, error) {
	return watch(path, gatewayBaseURL, onEvent, nil)
}

func watch(path, gatewayBaseURL string, onEvent func(Event), settled func(bool)) (*Watcher, error) {
	p := abs(path)
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("openclaw: watch %s: %w", p, err)
	}
	w := &Watcher{
		fw: fw, path: p, dir: filepath.Dir(p), base: filepath.Base(p), gateway: gatewayBaseURL,
		onEvent: onEvent, settled: settled, stop: make(chan struct{}),
	}
	if err := w.arm(); err != nil {
		fw.Close()
		return nil, err
	}
	w.check(false) // the starting point; no event
	w.wg.Add(1)
	go w.loop()
	return w, nil
}

// Close stops the watcher and waits for its goroutine; no event is delivered after it returns.
func (w *Watcher) Close() error {
	var err error
	w.once.Do(func() {
		close(w.stop)
		err = w.fw.Close()
		w.wg.Wait()
	})
	return err
}

func (w *Watcher) loop() {
	defer w.wg.Done()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		select {
		case <-w.stop:
			timer.Stop()
			return
		case ev, ok := <-w.fw.Events:
			if !ok {
				return
			}
			if w.follow(ev) || filepath.Base(ev.Name) == w.base {
				timer.Reset(Debounce)
			}
		case _, ok := <-w.fw.Errors:
			if !ok {
				return
			}
			// An overflow loses events: look at the file anyway.
			timer.Reset(Debounce)
		case <-timer.C:
			select {
			case <-w.stop:
				return
			default:
			}
			emitted := w.check(true)
			if w.settled != nil {
				w.settled(emitted)
			}
		}
	}
}

// arm watches dir or, while it is missing, the nearest ancestor that exists.
func (w *Watcher) arm() error {
	target := w.dir
	for {
		if fi, err := os.Stat(target); err == nil && fi.IsDir() {
			break
		}
		up := filepath.Dir(target)
		if up == target {
			return fmt.Errorf("openclaw: watch %s: no folder on its path exists", w.dir)
		}
		target = up
	}
	if target == w.watched {
		return nil
	}
	if err := w.fw.Add(target); err != nil {
		return fmt.Errorf("openclaw: watch %s: %w", target, err)
	}
	if w.watched != "" {
		_ = w.fw.Remove(w.watched) // already gone when the folder was deleted
	}
	w.watched = target
	return nil
}

// follow moves the watch along the config's folder: down when a missing folder on its path
// appears, up when the watched folder goes. It reports whether the watch moved (the file may
// have come or gone with it).
func (w *Watcher) follow(ev fsnotify.Event) bool {
	appeared := w.watched != w.dir && ev.Has(fsnotify.Create) && strings.HasPrefix(w.dir+string(filepath.Separator), ev.Name+string(filepath.Separator))
	gone := ev.Name == w.watched && (ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename))
	if !appeared && !gone {
		return false
	}
	before := w.watched
	if gone {
		w.watched = "" // its watch went with it
	}
	if err := w.arm(); err != nil {
		w.watched = before
		return false
	}
	return w.watched != before
}

// check reads the file, updates the state and, when emit is set and the change is someone
// else's, calls onEvent. It reports whether it did.
func (w *Watcher) check(emit bool) bool {
	data, err := readLimited(w.path)
	if errors.Is(err, fs.ErrNotExist) {
		was := w.exists
		w.exists = false
		if was && emit {
			w.onEvent(Event{Kind: Gone})
			return true
		}
		return false
	}
	if err != nil {
		if emit {
			w.onEvent(Event{Kind: Invalid, Err: err})
			return true
		}
		return false
	}
	sum := sha256.Sum256(data)
	same := w.exists && sum == w.sum
	w.exists, w.sum = true, sum
	if same {
		return false
	}
	ours := isOwn(w.path, sum)
	d, perr := Parse(data)
	if perr != nil {
		if emit && !ours {
			w.onEvent(Event{Kind: Invalid, Data: data, Err: perr})
			return true
		}
		return false
	}
	v := d.Value()
	primary, models := at(v, primaryPath...), at(v, modelsPath...)
	kind := Changed
	if w.hasStatus && !equal(primary, w.primary) || !w.hasStatus && primary != nil {
		kind |= PrimaryChanged
	}
	if w.hasStatus && !equal(models, w.models) || !w.hasStatus && models != nil {
		kind |= LiteLLMModelsChanged
	}
	w.primary, w.models, w.hasStatus = primary, models, true
	if !emit || ours {
		return false
	}
	w.onEvent(Event{Kind: kind, Status: Inspect(d, w.gateway), Data: data})
	return true
}

func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxSize {
		return nil, fmt.Errorf("%w: %s", ErrTooLarge, path)
	}
	return data, nil
}
