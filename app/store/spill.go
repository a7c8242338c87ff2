package store

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// SpillSuffix names the spill file beside the database: rows the Writer could not commit while
// the database refused writes (a full disk, a read-only folder), kept so that they are not lost.
const SpillSuffix = ".spill"

// appendSpill adds rows to the spill file at path as JSON lines and syncs it, so a row counted as
// spilled is on disk. On error it truncates the file to where it was; should even that fail (or
// the process die mid-write) the file ends in a torn line, which readSpill skips.
func appendSpill(path string, rows []SpendLog) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	bw := bufio.NewWriter(f)
	enc := json.NewEncoder(bw)
	for i := range rows {
		if err = enc.Encode(&rows[i]); err != nil {
			break
		}
	}
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if err != nil {
		// The rows stay in memory: cut what part of them was written, so that a later replay
		// does not count them twice.
		f.Truncate(fi.Size())
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// readSpill returns the rows in the spill file at path (none if it does not exist). A line that
// does not decode (the torn tail of a write the disk cut short) is skipped and counted in bad.
func readSpill(path string) (rows []SpendLog, bad int, err error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	for sc.Scan() {
		var l SpendLog
		if json.Unmarshal(sc.Bytes(), &l) != nil {
			bad++
			continue
		}
		rows = append(rows, l)
	}
	if err := sc.Err(); err != nil {
		return nil, 0, fmt.Errorf("store: reading %s: %w", path, err)
	}
	return rows, bad, nil
}
