#!/usr/bin/env bash
# The control run: every e2e suite against a bare forwarding proxy (e2e/passthrough/forward.mjs,
# started by the harness in place of `clawgate serve` when E2E_PASSTHROUGH=1). A proxy that only
# forwards and swaps in the upstream key has no routing, model rewrite, usage, keys or budgets,
# so each suite must fail against it; one that passes whole cannot tell the gateway from it, and
# this script fails the build. It prints how many tests of each suite failed.
#
# e2e/run.sh calls it last, with the binaries built and the npm packages installed; run alone, it
# builds and installs them first. E2E_PASSTHROUGH_SUITES picks suites (default: all eight).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
source "$root/e2e/bins.sh"
[ -d e2e/node_modules ] || (cd e2e && npm ci --no-audit --no-fund)

suites="${E2E_PASSTHROUGH_SUITES:-gateway ledger providers endpoints claudecode responses teams openclaw}"
logdir="$(mktemp -d)"
trap 'rm -rf "$logdir"' EXIT
status=0
summary=()
for suite in $suites; do
	case "$suite" in
	openclaw)
		# install.sh returns at once when e2e/openclaw/run.sh has installed OpenClaw already.
		paths="$(bash e2e/openclaw/install.sh)"
		export OPENCLAW_DIR="$(sed -n 's/^OPENCLAW_DIR=//p' <<<"$paths")"
		export NODE24_BIN="$(sed -n 's/^NODE24_BIN=//p' <<<"$paths")"
		file=e2e/openclaw/openclaw.test.mjs
		;;
	gateway | ledger | providers | endpoints | claudecode | responses | teams) file="e2e/$suite.test.mjs" ;;
	*)
		echo "run-passthrough.sh: unknown suite $suite" >&2
		exit 2
		;;
	esac
	log="$logdir/$suite.tap"
	# Failures are the expected outcome here: node's exit status says nothing, the counts do.
	E2E_PASSTHROUGH=1 node --test --test-reporter=tap --test-concurrency=1 "$file" >"$log" 2>&1 || true
	tests="$(sed -n 's/^# tests \([0-9]*\)$/\1/p' "$log" | tail -n1)"
	failed="$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$log" | tail -n1)"
	line="$suite: ${failed:-?} of ${tests:-?} tests failed against the pass-through"
	if [ -z "$failed" ] || [ "$failed" -eq 0 ]; then
		line="$line: FAIL, this suite cannot tell the gateway from a forwarding proxy"
		status=1
		tail -n 40 "$log" >&2
	fi
	echo "$line"
	summary+=("$line")
done
echo "--- e2e against a bare forwarding proxy (every suite must fail)"
printf '  %s\n' "${summary[@]}"
exit "$status"
