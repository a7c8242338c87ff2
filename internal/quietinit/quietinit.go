// Package quietinit keeps what other packages print while they initialise off the terminal: Fyne's
// lang package parses the user's locale in its init and logs three "Fyne error" lines for LANG=C
// (CI, containers), even for `clawgate serve` and `clawgate version`, which never open a window.
//
// It works by init order: this package needs only os, so it initialises before the standard log
// package (Go initialises ready packages in import-path order, and "github.com/..." sorts before
// "log"), points os.Stderr at the null device while log takes its default output from it, and
// Restore puts both back once main runs.
package quietinit

import "os"

var stderr = os.Stderr

func init() {
	if null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0); err == nil {
		os.Stderr = null
	}
}

// Restore gives os.Stderr back; main then points the standard logger at it again.
func Restore() { os.Stderr = stderr }
