package app

import (
	"os"
	"path/filepath"

	"github.com/clawgate/clawgate/proxy/config"
)

// lastGoodName is the copy of the config file last put in force, in the data folder: when the file
// is broken at start, the tray serves this instead of nothing.
const lastGoodName = "last-good-config.yaml"

// saveLastGood copies the config file, which was just loaded whole, beside the database. The copy
// has the file's own secrets (if any), so it gets the same owner-only mode; a failure is logged only.
func (a *App) saveLastGood() {
	if a.opts.Model != "" || a.opts.ConfigPath == "" {
		return
	}
	data, err := os.ReadFile(a.opts.ConfigPath)
	if err == nil {
		err = writeAtomic(filepath.Join(a.opts.DataDir, lastGoodName), data)
	}
	if err != nil {
		a.log.Warn("could not keep a copy of the good config", "err", err)
	}
}

// fallbackConfig is what serves when the config file cannot be loaded at start (KeepGoing): the last
// good copy if it loads, else nothing (the app waits for the file to be fixed). cause is kept in
// the status, which names its file, line and key.
func (a *App) fallbackConfig(cause error) *config.Config {
	a.status.ConfigErr = cause
	a.log.Error("config not loaded", "err", cause)
	path := filepath.Join(a.opts.DataDir, lastGoodName)
	if cfg, warns, err := config.Load(path); err == nil && !isEmpty(cfg) {
		if probs, err := a.resolve(cfg, warns); err == nil {
			a.status.LastGood, a.status.KeyProblems = true, probs
			a.log.Warn("serving the last good config until the file is fixed", "copy", path)
			return cfg
		}
	}
	a.waiting = true
	a.log.Warn("not serving until the config file is fixed", "config", a.opts.ConfigPath)
	return &config.Config{Router: config.Default()}
}

// writeAtomic writes data to path through a temporary file and a rename, so a crash leaves the old
// copy or the new one, never half of one.
func writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Chmod(tmp.Name(), 0o600)
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), path)
	}
	if werr != nil {
		os.Remove(tmp.Name())
	}
	return werr
}
