#!/usr/bin/env bash
# gopkgs.sh lists the module's packages in one of two groups, for make test:
#   race  packages that do not link Fyne's driver: tested with -race, no display needed
#   fyne  packages that do (ui, main): tested inside scripts/with-session.sh, with the GLFW driver
#         without -race (a -race build recompiles go-gl's C for minutes), then with -race -tags ci
# A package whose tests import Fyne counts as a Fyne package too. Fails if go list fails or a group
# comes out empty, so a broken tree never turns into "no packages to test".
set -euo pipefail

group=${1:-}
case "$group" in race | fyne) ;; *) echo "usage: $0 race|fyne" >&2; exit 2 ;; esac

cd "$(dirname "${BASH_SOURCE[0]}")/.."
list=$(go list -f '{{.ImportPath}}{{range .Deps}} {{.}}{{end}}{{range .TestImports}} test:{{.}}{{end}}{{range .XTestImports}} test:{{.}}{{end}}' ./...)

out=$(awk -v want="$group" '{
	fyne = 0
	for (i = 2; i <= NF; i++) {
		if ($i == "fyne.io/fyne/v2/internal/driver" || $i ~ /^test:fyne\.io\//) { fyne = 1; break }
	}
	if ((want == "fyne") == (fyne == 1)) print $1
}' <<<"$list")

if [ -z "$out" ]; then
	echo "gopkgs: no packages in group '$group'" >&2
	exit 1
fi
echo "$out"
