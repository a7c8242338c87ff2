#!/usr/bin/env bash
# deps.sh installs the system packages that Clawgate's build and tests need and this machine lacks.
# Usage: scripts/deps.sh [build|all|windows]   (default all: the build libraries, the test tools, and a Node
# check; windows: only the MinGW-w64 cross compiler that `make package-windows` needs)
#
# Debian/Ubuntu only: it asks dpkg which packages are missing and apt-installs just those, so a second
# run is silent. macOS needs nothing (cgo uses the system frameworks). Node and npm are not installed
# here: they run the end-to-end tests, and a system Node is the user's choice, so a missing one is an error.
set -euo pipefail

mode=${1:-all}
case "$mode" in build | all | windows) ;; *) echo "usage: $0 [build|all|windows]" >&2; exit 2 ;; esac

# Fyne's GLFW driver links these (libxxf86vm-dev is not optional: glfw links -lXxf86vm).
build_pkgs=(pkg-config libgl-dev libx11-dev libxcursor-dev libxrandr-dev libxinerama-dev libxi-dev libxxf86vm-dev)
# A virtual display, a private session bus, a real Secret Service, and screenshots for the tray test;
# for the tray smoke test a window manager, a real StatusNotifier tray host, a notification daemon,
# and xdotool to find windows by owner and title.
test_pkgs=(xvfb xauth dbus dbus-x11 gnome-keyring libsecret-tools imagemagick curl
	openbox haskell-status-notifier-item-utils haskell-gtk-sni-tray-utils dunst xdotool
	postgresql haproxy nginx-light openssl)

# Cross-compiling Fyne's GLFW driver (cgo) for Windows needs a C compiler for Windows; nothing else.
windows_pkgs=(gcc-mingw-w64-x86-64 zip unzip file)

pkgs=("${build_pkgs[@]}")
[ "$mode" = all ] && pkgs+=("${test_pkgs[@]}")
[ "$mode" = windows ] && pkgs=("${windows_pkgs[@]}")

install_missing() {
	if ! command -v dpkg-query >/dev/null 2>&1; then
		echo "deps: no dpkg here; install your distribution's equivalents of: ${pkgs[*]}" >&2
		return 0
	fi
	local missing=() p
	for p in "${pkgs[@]}"; do
		if [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" != "install ok installed" ]; then
			missing+=("$p")
		fi
	done
	[ ${#missing[@]} -eq 0 ] && return 0

	local sudo=()
	if [ "$(id -u)" != 0 ]; then
		if ! command -v sudo >/dev/null 2>&1; then
			echo "deps: need root to install: ${missing[*]} (run as root or install sudo)" >&2
			return 1
		fi
		sudo=(sudo)
	fi
	echo "deps: installing ${missing[*]}"
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
	echo "deps: installed ${#missing[@]} package(s)"
}

case "$(uname -s)" in
Linux) install_missing ;;
Darwin) ;;
*) echo "deps: $(uname -s) is not supported by this script; see the README" >&2 ;;
esac

if [ "$mode" = all ]; then
	for tool in node npm; do
		if ! command -v "$tool" >/dev/null 2>&1; then
			echo "deps: '$tool' not found. The end-to-end tests need Node.js 20 or newer with npm;" >&2
			echo "      install it (Debian/Ubuntu: apt-get install nodejs npm, or from nodejs.org) and rerun." >&2
			exit 1
		fi
	done
	major=$(node -p 'process.versions.node.split(".")[0]')
	if [ "$major" -lt 20 ]; then
		echo "deps: Node.js $(node --version) is too old; the end-to-end tests need Node 20 or newer." >&2
		exit 1
	fi
fi
