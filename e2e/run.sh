#!/usr/bin/env bash
# Builds clawgate and the fake upstream, installs the e2e suite's npm packages when needed, and
# runs the suite: the real openai SDK and LiteLLM guide curl commands against `clawgate serve` (e2e/*.test.mjs),
# then the real OpenClaw, then every suite against a bare forwarding proxy, where each must fail, and
# last three replicas behind HAProxy as a team deploys them (e2e/run-team.sh).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
mkdir -p bin
go build -o bin/clawgate .
go build -o bin/fakeupstream ./internal/fakeupstream/cmd/fakeupstream

cd "$root/e2e"
# The npm clients (Codex and Claude Code ship native binaries: ~1 GB in all) install once into a cache
# folder named by the lock file's hash, and e2e/node_modules links to it, so a fresh checkout (CI) does
# not download them again. A changed lock file gets a new folder.
cache="${CLAWGATE_E2E_CACHE:-$HOME/.cache/clawgate-e2e}"
lock_hash="$(cat package.json package-lock.json | sha256sum | cut -c1-16)"
mods="$cache/npm-$lock_hash"
if [ ! -f "$mods/.done" ]; then
	rm -rf "$mods"
	mkdir -p "$mods"
	cp package.json package-lock.json "$mods/"
	(cd "$mods" && npm ci --no-audit --no-fund)
	touch "$mods/.done"
fi
if [ "$(readlink node_modules 2>/dev/null)" != "$mods/node_modules" ]; then
	rm -rf node_modules
	ln -s "$mods/node_modules" node_modules
fi

CLAWGATE_BIN="$root/bin/clawgate" FAKEUPSTREAM_BIN="$root/bin/fakeupstream" \
	node --test --test-reporter=spec --test-concurrency=1 gateway.test.mjs ledger.test.mjs providers.test.mjs endpoints.test.mjs claudecode.test.mjs responses.test.mjs teams.test.mjs

# The real OpenClaw (Node 24 and openclaw from npm, cached in ~/.cache/clawgate-e2e) against the same binaries.
CLAWGATE_BIN="$root/bin/clawgate" FAKEUPSTREAM_BIN="$root/bin/fakeupstream" bash "$root/e2e/openclaw/run.sh"

# The control: each suite again, against a bare forwarding proxy in place of the gateway; every
# suite must fail there (e2e/run-passthrough.sh prints how many tests did).
CLAWGATE_BIN="$root/bin/clawgate" FAKEUPSTREAM_BIN="$root/bin/fakeupstream" bash "$root/e2e/run-passthrough.sh"

# A team's deployment: three replicas on one database behind HAProxy (docs/deploy/haproxy.cfg);
# CLAWGATE_E2E_TEAM_DB=postgres runs it on PostgreSQL (e2e/run-team.sh).
CLAWGATE_BIN="$root/bin/clawgate" FAKEUPSTREAM_BIN="$root/bin/fakeupstream" bash "$root/e2e/run-team.sh"
