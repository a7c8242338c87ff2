#!/bin/sh
# Runs `openclaw config validate` on every golden before.json5 and after.json5, each as
# ~/.openclaw/openclaw.json under a throwaway HOME. Not part of `go test` (it needs Node 24 and
# openclaw@2026.9.6); run it after changing the golden files:
#   testdata/golden/validate.sh /path/to/node_modules/openclaw /path/to/node-24/bin
set -eu
openclaw=$1
nodebin=$2
here=$(cd "$(dirname "$0")" && pwd)
fail=0
for dir in "$here"/*/; do
	for f in before after; do
		home=$(mktemp -d)
		mkdir -p "$home/.openclaw"
		cp "$dir/$f.json5" "$home/.openclaw/openclaw.json"
		if out=$(cd "$home" && HOME=$home LITELLM_API_KEY=sk-test CLAWGATE_DEV_KEY=sk-test PATH="$nodebin:$PATH" \
			node "$openclaw/openclaw.mjs" config validate --json 2>/dev/null) && echo "$out" | grep -q '"valid":true'; then
			echo "ok   $(basename "$dir") $f"
		else
			echo "FAIL $(basename "$dir") $f: $out"
			fail=1
		fi
		rm -rf "$home"
	done
done
exit $fail
