package app

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
)

// debounce is how long the watcher waits for a burst of writes (editors write, rename, chmod) to
// settle. A file that is then empty or missing gets settle more: an editor that truncates and
// rewrites (or removes and recreates) is most likely still saving it.
const (
	debounce = 250 * time.Millisecond
	settle   = time.Second
)

// watcher calls onChange when a file changes. It watches the parent folder, because editors
// replace files by rename and a watch on the file itself is lost after the first rename-over.
type watcher struct {
	w    *fsnotify.Watcher
	stop chan struct{}
	once sync.Once
	wg   sync.WaitGroup
}

func watchConfig(path string, onChange func(), log *slog.Logger) (*watcher, error) {
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", path, err)
	}
	if err := fw.Add(filepath.Dir(path)); err != nil {
		fw.Close()
		return nil, fmt.Errorf("watch %s: %w", filepath.Dir(path), err)
	}
	w := &watcher{w: fw, stop: make(chan struct{})}
	name := filepath.Clean(path)
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		var timer <-chan time.Time
		settling := false
		for {
			select {
			case <-w.stop:
				return
			case ev, ok := <-fw.Events:
				if !ok {
					return
				}
				if filepath.Clean(ev.Name) == name && ev.Op&(fsnotify.Write|fsnotify.Create|fsnotify.Rename) != 0 {
					timer, settling = time.After(debounce), false
				}
			case err, ok := <-fw.Errors:
				if !ok {
					return
				}
				log.Warn("config watcher", "err", err)
			case <-timer:
				timer = nil
				if fi, err := os.Stat(name); (err != nil || fi.Size() == 0) && !settling {
					timer, settling = time.After(settle), true
					continue
				}
				settling = false
				onChange()
			}
		}
	}()
	return w, nil
}

func (w *watcher) Close() {
	w.once.Do(func() {
		close(w.stop)
		w.w.Close()
		w.wg.Wait()
	})
}
