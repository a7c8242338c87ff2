#!/usr/bin/env bash
# The end-to-end tests with the real OpenClaw (e2e/openclaw/*.test.mjs): installs Node 24 and OpenClaw
# into the cache once (install.sh), builds clawgate and the fake upstream unless CLAWGATE_BIN and
# FAKEUPSTREAM_BIN name them already, and runs the tests under the machine's Node: every file, or
# those named as arguments (e.g. e2e/openclaw/run.sh e2e/openclaw/daily.test.mjs).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"

if [ -z "${CLAWGATE_BIN:-}" ] || [ -z "${FAKEUPSTREAM_BIN:-}" ]; then
	mkdir -p "$root/bin"
	(cd "$root" && go build -o bin/clawgate . && go build -o bin/fakeupstream ./internal/fakeupstream/cmd/fakeupstream)
	export CLAWGATE_BIN="${CLAWGATE_BIN:-$root/bin/clawgate}"
	export FAKEUPSTREAM_BIN="${FAKEUPSTREAM_BIN:-$root/bin/fakeupstream}"
fi

# install.sh prints OPENCLAW_DIR=... and NODE24_BIN=...; its progress goes to stderr.
paths="$(bash "$here/install.sh")"
export OPENCLAW_DIR="$(sed -n 's/^OPENCLAW_DIR=//p' <<<"$paths")"
export NODE24_BIN="$(sed -n 's/^NODE24_BIN=//p' <<<"$paths")"

cd "$root"
# The files named on the command line, else every one here; one at a time (each starts its own
# gateways).
files=("$@")
[ ${#files[@]} -gt 0 ] || files=(e2e/openclaw/*.test.mjs)
node --test --test-concurrency=1 --test-reporter=spec "${files[@]}"
