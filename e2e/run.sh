#!/usr/bin/env bash
# Builds clawgate and the fake upstream, installs the e2e suite's npm packages when needed, and
# runs the suite: the real openai SDK and LiteLLM guide curl commands against `clawgate serve` (e2e/*.test.mjs),
# then the real OpenClaw, then every suite against a bare forwarding proxy, where each must fail.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
mkdir -p bin
go build -o bin/clawgate .
go build -o bin/fakeupstream ./internal/fakeupstream/cmd/fakeupstream

cd "$root/e2e"
# npm writes node_modules/.package-lock.json on every install: older than the lock file means stale.
if [ ! -f node_modules/.package-lock.json ] \
	|| [ package-lock.json -nt node_modules/.package-lock.json ] \
	|| [ package.json -nt node_modules/.package-lock.json ]; then
	npm ci --no-audit --no-fund
fi

CLAWGATE_BIN="$root/bin/clawgate" FAKEUPSTREAM_BIN="$root/bin/fakeupstream" \
	node --test --test-reporter=spec --test-concurrency=1 gateway.test.mjs ledger.test.mjs providers.test.mjs endpoints.test.mjs claudecode.test.mjs responses.test.mjs

# The real OpenClaw (Node 24 and openclaw from npm, cached in ~/.cache/clawgate-e2e) against the same binaries.
CLAWGATE_BIN="$root/bin/clawgate" FAKEUPSTREAM_BIN="$root/bin/fakeupstream" bash "$root/e2e/openclaw/run.sh"

# The control: each suite again, against a bare forwarding proxy in place of the gateway; every
# suite must fail there (e2e/run-passthrough.sh prints how many tests did).
CLAWGATE_BIN="$root/bin/clawgate" FAKEUPSTREAM_BIN="$root/bin/fakeupstream" bash "$root/e2e/run-passthrough.sh"
