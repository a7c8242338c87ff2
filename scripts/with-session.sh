#!/usr/bin/env bash
# with-session.sh runs a command inside a throwaway desktop session: an X display (Xvfb), a private
# D-Bus session bus, and an unlocked GNOME Keyring serving the Secret Service on that bus. Everything
# is torn down when the command ends, and its exit status is passed on.
# Usage: scripts/with-session.sh CMD [ARGS...]
#
# Fyne's tray needs the session bus (without one systray crashes on quit), go-keyring needs the
# Secret Service, and the windows need a display; none of them touch the user's real session.
set -euo pipefail

if [ $# -eq 0 ]; then
	echo "usage: $0 CMD [ARGS...]" >&2
	exit 2
fi

if [ "${1}" != "--inside" ]; then
	for tool in xvfb-run xauth dbus-run-session gnome-keyring-daemon; do
		command -v "$tool" >/dev/null 2>&1 || { echo "with-session: $tool not found; run 'make deps'" >&2; exit 1; }
	done
	exec xvfb-run -a -s "-screen 0 1024x768x24" dbus-run-session -- "$0" --inside "$@"
fi
shift

# The keyring daemon gets its own HOME and runtime dir: its keyring files and control socket stay in
# the throwaway folder, away from a developer's real keyring.
keyring_dir=$(mktemp -d "${TMPDIR:-/tmp}/clawgate-keyring.XXXXXX")
trap 'rm -rf "$keyring_dir"' EXIT
mkdir -m 700 "$keyring_dir/home" "$keyring_dir/run"
# --unlock reads the password on stdin and creates the login keyring unlocked; the daemon exits with
# the bus when dbus-run-session ends.
printf 'clawgate-test' | HOME="$keyring_dir/home" XDG_RUNTIME_DIR="$keyring_dir/run" \
	gnome-keyring-daemon --unlock --components=secrets >/dev/null
# The daemon claims org.freedesktop.secrets a moment after --unlock returns; a client that asks
# before that makes D-Bus activate a second daemon with the default HOME. Wait for the name.
secrets_up() {
	dbus-send --session --print-reply=literal --dest=org.freedesktop.DBus /org/freedesktop/DBus \
		org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q true
}
for _ in $(seq 100); do
	secrets_up && break
	sleep 0.05
done
secrets_up || { echo "with-session: gnome-keyring did not take org.freedesktop.secrets within 5 s" >&2; exit 1; }

"$@"
