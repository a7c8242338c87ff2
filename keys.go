package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/clawgate/clawgate/app"
	"github.com/clawgate/clawgate/app/keychain"
)

const keysUsage = `Manage provider keys in the OS keychain (service "clawgate").

Usage:
  clawgate keys set NAME      read the secret from standard input (never from the command line)
  clawgate keys list          list the names stored (never the secrets)
  clawgate keys delete NAME   remove a secret

In config.yaml, refer to a stored key as  api_key: keychain/NAME
Example:  echo "$OPENAI_API_KEY" | clawgate keys set openai
`

// runKeys implements `clawgate keys`.
func runKeys(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, keysUsage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	kc := keychain.New()
	fail := func(err error) int {
		fmt.Fprintf(stderr, "clawgate keys: %v\n", err)
		return 1
	}
	switch cmd := args[0]; {
	case cmd == "list" && len(args) == 1:
		names, err := kc.List()
		if err != nil {
			return fail(err)
		}
		for _, n := range names {
			fmt.Fprintln(stdout, n)
		}
		return 0
	case cmd == "set" && len(args) == 2:
		secret, err := promptSecret(stdin, stderr, fmt.Sprintf("Paste the secret for %q and press Enter (it is not shown): ", args[1]))
		if err != nil {
			return fail(err)
		}
		if err := kc.Set(args[1], secret); err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "stored %q in the keychain; use it in config.yaml as  api_key: keychain/%s\n", args[1], args[1])
		return 0
	case cmd == "delete" && len(args) == 2:
		if err := kc.Delete(args[1]); err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "deleted %q\n", args[1])
		return 0
	default:
		fmt.Fprintf(stderr, "clawgate keys: unexpected arguments %q\n\n%s", args, keysUsage)
		return 2
	}
}

// promptSecret reads one secret from stdin: on a terminal after prompt, with echo off (pasted
// keys stay off the screen and out of terminal scrollback and recordings), else piped in.
func promptSecret(stdin io.Reader, stderr io.Writer, prompt string) (string, error) {
	f, ok := stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return readSecret(stdin)
	}
	fmt.Fprint(stderr, prompt)
	b, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(stderr)
	if err != nil {
		return "", err
	}
	return readSecret(strings.NewReader(string(b)))
}

// readSecret reads one secret: everything up to the first newline (or the end), trimmed.
func readSecret(r io.Reader) (string, error) {
	line, err := bufio.NewReader(io.LimitReader(r, 64<<10)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read the secret from standard input: %w", err)
	}
	s := strings.TrimSpace(line)
	if s == "" {
		return "", errors.New("no secret on standard input (pipe it in: printf %s \"$KEY\" | clawgate keys set NAME)")
	}
	return s, nil
}

// runMasterKey prints the master key in force, so a client can be configured with it.
func runMasterKey(args []string, stdout, stderr io.Writer) int {
	var f commonFlags
	fs := newFlags("master-key", "Print the gateway's master key (config, LITELLM_MASTER_KEY, or the one kept in the keychain).", &f, stdout, false)
	if code, ok := parse(fs, args); !ok {
		return code
	}
	k, err := app.ReadMasterKey(appOptions(&f, newLogger(io.Discard, false), ""))
	if err != nil && !errors.Is(err, keychain.ErrUnavailable) {
		fmt.Fprintf(stderr, "clawgate: %v\n", err)
		return 1
	}
	if k == "" {
		fmt.Fprintln(stderr, "clawgate: no master key: auth is off (no keychain, and none in config.yaml or LITELLM_MASTER_KEY)")
		return 1
	}
	fmt.Fprintln(stdout, k)
	return 0
}
