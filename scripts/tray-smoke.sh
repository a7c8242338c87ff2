#!/usr/bin/env bash
# tray-smoke.sh starts the real tray app and checks it comes up, draws, and shuts down cleanly.
#
# It runs under Xvfb with a private session bus and Secret Service (scripts/with-session.sh), with
# scripts/traycheck standing in for the desktop's tray host, in four rounds:
#  1. A fresh config folder, so a first run: waits for /health/liveliness, checks the tray menu and
#     icon as read over D-Bus, screenshots the display (the status window must be there: not blank),
#     then sends SIGTERM and expects exit status 0 within 10 s.
#  1. (also) OpenClaw is not connected on a first run: its submenu offers only "Connect OpenClaw".
#  2. The same folder again (not a first run): the window stays hidden (blank screenshot); clicking
#     OpenClaw > Connect OpenClaw writes OpenClaw's config (in the throwaway HOME) and the submenu
#     lists the models; clicking one checks it and makes it OpenClaw's primary; clicking Quit in the
#     tray menu ends the app with status 0.
#  3. Clicking Routes… opens the activity window on its Routes tab (screenshot not blank; the other
#     tabs' items differ only in the tab they select), and SIGTERM with it open
#     still exits 0.
#  4. With the port already taken (by `clawgate serve`): the app keeps running and the tray shows
#     "Error: port N is in use" with the red icon; SIGTERM still ends it with status 0.
#
# Environment: CLAWGATE_BIN (default: build bin/clawgate), TRAY_SMOKE_SHOT (default bin/tray-smoke.png),
# TRAY_SMOKE_TIMEOUT (seconds to wait for the gateway and the tray, default 60).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

if [ "${1:-}" != "--inside" ]; then
	cd "$root"
	mkdir -p bin
	if [ -z "${CLAWGATE_BIN:-}" ]; then
		go build -o bin/clawgate .
		export CLAWGATE_BIN="$root/bin/clawgate"
	fi
	go build -o bin/traycheck scripts/traycheck/main.go
	export TRAYCHECK_BIN="$root/bin/traycheck"
	export TRAY_SMOKE_SHOT="${TRAY_SMOKE_SHOT:-$root/bin/tray-smoke.png}"
	exec "$root/scripts/with-session.sh" "$root/scripts/tray-smoke.sh" --inside
fi

# ImageMagick's own binaries: the first `convert` on PATH may be a stand-in on these machines.
IMPORT=/usr/bin/import
IDENTIFY=/usr/bin/identify
for tool in "$IMPORT" "$IDENTIFY"; do
	[ -x "$tool" ] || { echo "tray-smoke: $tool not found; run 'make deps' (imagemagick)" >&2; exit 1; }
done

bin="$CLAWGATE_BIN"
shot="$TRAY_SMOKE_SHOT"
timeout="${TRAY_SMOKE_TIMEOUT:-60}"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/clawgate-smoke.XXXXXX")
pid=
tc=
occupant=
cleanup() {
	local p
	for p in $pid $tc $occupant; do
		kill -KILL "$p" 2>/dev/null || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT

fail() {
	echo "tray-smoke: FAIL: $*" >&2
	if [ -s "$tmp/clawgate.log" ]; then
		echo "---- clawgate output ----" >&2
		tail -n 40 "$tmp/clawgate.log" >&2
		echo "-------------------------" >&2
	fi
	exit 1
}

# A port nobody answers on. Bash's /dev/tcp connects without curl; a refused connect means free.
free_port() {
	local p
	for _ in $(seq 50); do
		p=$((20000 + RANDOM % 40000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# http_status PATH prints the status code of GET http://127.0.0.1:$port$PATH, or nothing.
http_status() {
	local line
	exec 3<>"/dev/tcp/127.0.0.1/$port" || return 1
	printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "$1" >&3
	IFS= read -r -t 5 line <&3 || true
	exec 3>&-
	line=${line%$'\r'}
	set -- $line
	echo "${2:-}"
}

# wait_exit waits up to 10 s for the app to end and fails unless its status is 0.
wait_exit() {
	local deadline=$((SECONDS + 10)) rc=0
	while kill -0 "$pid" 2>/dev/null; do
		[ "$SECONDS" -lt "$deadline" ] || fail "clawgate still running 10 s after $1"
		sleep 0.1
	done
	wait "$pid" || rc=$?
	pid=
	[ "$rc" -eq 0 ] || fail "clawgate exited with status $rc after $1"
}

# start_round starts traycheck (as the tray host) and then the app, and waits for the gateway.
start_round() {
	local watcher_up=
	"$TRAYCHECK_BIN" -timeout "${timeout}s" "$@" >"$tmp/menu.txt" 2>"$tmp/traycheck.err" &
	tc=$!
	# The watcher must own its name before the app starts, or the app's first registration is lost.
	for _ in $(seq 100); do
		if dbus-send --session --print-reply=literal --dest=org.freedesktop.DBus /org/freedesktop/DBus \
			org.freedesktop.DBus.NameHasOwner string:org.kde.StatusNotifierWatcher 2>/dev/null | grep -q true; then
			watcher_up=1
			break
		fi
		sleep 0.1
	done
	[ -n "$watcher_up" ] || fail "traycheck did not take org.kde.StatusNotifierWatcher: $(cat "$tmp/traycheck.err")"

	# Its own HOME keeps Fyne's preferences and anything else per-user out of the real home.
	HOME="$tmp/home" "$bin" --config "$tmp/config/config.yaml" --data-dir "$tmp/data" --port "$port" \
		>"$tmp/clawgate.log" 2>&1 &
	pid=$!

	local deadline=$((SECONDS + timeout)) rc
	until [ "$(http_status /health/liveliness 2>/dev/null)" = 200 ]; do
		if ! kill -0 "$pid" 2>/dev/null; then
			rc=0
			wait "$pid" || rc=$?
			pid=
			fail "clawgate exited (status $rc) before the gateway answered"
		fi
		[ "$SECONDS" -lt "$deadline" ] || fail "no 200 from http://127.0.0.1:$port/health/liveliness within ${timeout}s"
		sleep 0.2
	done
	echo "tray-smoke: http://127.0.0.1:$port/health/liveliness answers"

	wait "$tc" || { tc=; fail "traycheck: $(cat "$tmp/traycheck.err")"; }
	tc=
}

# screenshot SHOT prints the number of colours in a screenshot of the whole display.
screenshot() {
	"$IMPORT" -window root "$1" 2>"$tmp/import.err" || fail "screenshot failed: $(cat "$tmp/import.err")"
	"$IDENTIFY" -format '%k' "$1"
}

port=$(free_port) || fail "no free port found"
mkdir -p "$tmp/home" "$(dirname "$shot")"

echo "tray-smoke: round 1: first run of $bin on port $port (config in $tmp)"
start_round
echo "tray-smoke: tray menu as a tray host sees it:"
sed 's/^/    /' "$tmp/menu.txt"
expect_line() {
	grep -qxF -- "$1" "$tmp/menu.txt" || fail "tray menu lacks the line '$1'; it has: $(cat "$tmp/menu.txt")"
}
expect_line "icon 64x64 #1f9d55" # the green "ok" icon
expect_line "Gateway running on 127.0.0.1:$port (disabled)"
expect_line "Today \$0.00 (disabled)" # the spend line
expect_line "tooltip Clawgate: Gateway running on 127.0.0.1:$port | Today \$0.00"
expect_line "Models"
expect_line "OpenClaw"
expect_line "OpenClaw > Connect OpenClaw"
expect_line "Copy base URL"
expect_line "Open config folder"
expect_line "Show status…"
expect_line "Requests…"
expect_line "Budgets…"
expect_line "Routes…"
[ "$(grep -cxF Quit "$tmp/menu.txt")" -eq 1 ] || fail "the tray menu must have exactly one Quit"
[ "$(tail -n1 "$tmp/menu.txt")" = Quit ] || fail "Quit is not the last tray menu item"

# A window maps a little after the gateway answers: wait_window SHOT NAME retries the screenshot until
# it shows more than the empty root window (one colour). A window with text and icons has hundreds.
min_colours=64
wait_window() {
	local deadline=$((SECONDS + 20)) colours
	until colours=$(screenshot "$1") && [ "$colours" -ge "$min_colours" ]; do
		kill -0 "$pid" 2>/dev/null || fail "clawgate exited while waiting for the $2 window"
		[ "$SECONDS" -lt "$deadline" ] || fail "screenshot $1 has $colours colour(s); the $2 window did not show"
		sleep 0.5
	done
	echo "tray-smoke: screenshot $1 ($colours colours)"
}
wait_window "$shot" status

kill -TERM "$pid"
wait_exit SIGTERM
echo "tray-smoke: clean exit after SIGTERM"

echo "tray-smoke: round 2: second run, connect OpenClaw and pick its model, then Quit from the tray menu"
[ ! -e "$tmp/home/.openclaw/openclaw.json" ] || fail "OpenClaw's config was written before connecting"
start_round -click "Connect OpenClaw" -click "OpenClaw > gpt-4o-mini" -click Quit
sed 's/^/    /' "$tmp/menu.txt"
# Not a first run and there is a tray: the status window must not have opened.
second="${shot%.png}-second.png"
colours=$(screenshot "$second")
[ "$colours" -lt "$min_colours" ] || fail "the status window opened on a second run with a tray (see $second)"
wait_exit "Quit in the tray menu"
echo "tray-smoke: clean exit after Quit in the tray menu"
expect_line "OpenClaw > Connect OpenClaw"
expect_line "== after clicking Connect OpenClaw"
expect_line "OpenClaw > OpenClaw: no primary model set (disabled)"
expect_line "OpenClaw > gpt-4o-mini"
expect_line "== after clicking OpenClaw > gpt-4o-mini"
expect_line "OpenClaw > OpenClaw: litellm/gpt-4o-mini (disabled)"
expect_line "OpenClaw > gpt-4o-mini (checked)"
oc="$tmp/home/.openclaw/openclaw.json"
[ -f "$oc" ] || fail "Connect OpenClaw did not write $oc"
grep -qF '"litellm/gpt-4o-mini"' "$oc" || fail "OpenClaw's primary is not litellm/gpt-4o-mini after the click: $(cat "$oc")"
grep -qF "127.0.0.1:$port" "$oc" || fail "OpenClaw's config does not point at port $port: $(cat "$oc")"
echo "tray-smoke: the tray connected OpenClaw and switched its model"

echo "tray-smoke: round 3: Routes… opens the activity window on its Routes tab"
start_round -click "Routes…"
wait_window "${shot%.png}-activity.png" activity
kill -TERM "$pid"
wait_exit "SIGTERM with the activity window open"
echo "tray-smoke: clean exit after SIGTERM with the activity window open"

echo "tray-smoke: round 4: the port is taken"
HOME="$tmp/home" "$bin" serve --config "$tmp/config/config.yaml" --data-dir "$tmp/data-occupant" --port "$port" \
	>"$tmp/occupant.log" 2>&1 &
occupant=$!
deadline=$((SECONDS + timeout))
until [ "$(http_status /health/liveliness 2>/dev/null)" = 200 ]; do
	kill -0 "$occupant" 2>/dev/null || fail "clawgate serve (the port's occupant) exited: $(tail -n5 "$tmp/occupant.log")"
	[ "$SECONDS" -lt "$deadline" ] || fail "clawgate serve did not answer on port $port"
	sleep 0.2
done
start_round
sed 's/^/    /' "$tmp/menu.txt"
expect_line "icon 64x64 #d6332f" # the red "error" icon
expect_line "Error: port $port is in use (disabled)"
kill -TERM "$pid"
wait_exit "SIGTERM with the port taken"
kill -TERM "$occupant"
wait "$occupant" || fail "clawgate serve exited with status $? after SIGTERM"
occupant=
echo "tray-smoke: the tray showed the taken port and exited cleanly"
