#!/usr/bin/env bash
# tray-smoke.sh starts the real tray app on a real (virtual) desktop and checks what a user would see.
#
# The desktop, inside scripts/with-session.sh (Xvfb, a private session bus, an unlocked Secret
# Service): a window manager (openbox), a real StatusNotifier tray host (status-notifier-watcher and
# gtk-sni-tray-standalone), and a notification daemon (dunst) whose rule logs every notification
# with its app name. scripts/traycheck -observe reads the app's tray item from that host over D-Bus
# (icon colour, tooltip, menu) and clicks items. Windows are found by their owner's pid and their
# title (X11 _NET_WM_PID and WM_NAME, through xdotool), never by looking at pixels.
#
# Rounds, all on one config folder and data folder:
#  1. First run without OPENAI_API_KEY (the first-run route reads it): the setup wizard opens (the
#     first run's face), the icon is amber, the first menu line names the missing key, and a notification from "Clawgate"
#     says so. SIGTERM ends it with status 0.
#  2. With the key set: green icon, no window. Idle for 20 s with no window: below 0.5% of a core.
#     A broken edit of config.yaml turns the icon amber with a notification, the fix turns it green.
#     A second launch exits 0 and the first shows its window. Then OpenClaw > Connect, pick a model,
#     Quit from the tray menu: status 0.
#  3. Routes… opens the activity window; SIGTERM with it open exits 0.
#  4. The port is taken (by `clawgate serve`): red icon, "Error: port N is in use".
#  5. A broken config at launch: the last good config (kept by the rounds before) serves, the
#     Problems window opens, the icon is red, a notification says so.
#
# Screenshots of the desktop go to bin/tray-smoke*.png for a human to look at; nothing is decided by
# them. Environment: CLAWGATE_BIN (default: build bin/clawgate), TRAY_SMOKE_SHOT (default
# bin/tray-smoke.png), TRAY_SMOKE_TIMEOUT (seconds to wait for the gateway and the tray, default 60),
# TRAY_SMOKE_IDLE (seconds of the idle CPU measurement, default 20).
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

IMPORT=/usr/bin/import
for tool in "$IMPORT" xdotool openbox status-notifier-watcher gtk-sni-tray-standalone dunst; do
	command -v "$tool" >/dev/null 2>&1 || { echo "tray-smoke: $tool not found; run 'make deps'" >&2; exit 1; }
done

bin="$CLAWGATE_BIN"
shot="$TRAY_SMOKE_SHOT"
timeout="${TRAY_SMOKE_TIMEOUT:-60}"
idle_secs="${TRAY_SMOKE_IDLE:-20}"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/clawgate-smoke.XXXXXX")
pid=
occupant=
desktop=()
cleanup() {
	local p
	for p in $pid $occupant "${desktop[@]}"; do
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

bus_has() {
	dbus-send --session --print-reply=literal --dest=org.freedesktop.DBus /org/freedesktop/DBus \
		org.freedesktop.DBus.NameHasOwner "string:$1" 2>/dev/null | grep -q true
}

wait_name() {
	for _ in $(seq 100); do
		bus_has "$1" && return 0
		sleep 0.1
	done
	fail "nobody took $1 on the session bus"
}

# The desktop: a window manager, the tray host, the notification daemon with a logging rule.
notes="$tmp/notifications.log"
: >"$notes"
cat >"$tmp/note.sh" <<EOF
#!/bin/sh
# dunst runs this for every notification: app name, summary, body.
printf '%s\t%s\t%s\n' "\$1" "\$2" "\$3" | tr '\n' ' ' >>"$notes"
echo >>"$notes"
EOF
chmod +x "$tmp/note.sh"
printf '[log_everything]\n    summary = "*"\n    script = %s\n' "$tmp/note.sh" >"$tmp/dunstrc"
openbox >"$tmp/openbox.log" 2>&1 &
desktop+=($!)
status-notifier-watcher >"$tmp/watcher.log" 2>&1 &
desktop+=($!)
wait_name org.kde.StatusNotifierWatcher
dunst -config "$tmp/dunstrc" >"$tmp/dunst.log" 2>&1 &
desktop+=($!)
wait_name org.freedesktop.Notifications
gtk-sni-tray-standalone --top --end >"$tmp/host.log" 2>&1 &
desktop+=($!)
echo "tray-smoke: desktop up: openbox, status-notifier-watcher, gtk-sni-tray-standalone, dunst"

port=$(free_port) || fail "no free port found"
mkdir -p "$tmp/home" "$(dirname "$shot")"
cfg="$tmp/config/config.yaml"
app_args=(--config "$cfg" --data-dir "$tmp/data" --port "$port")

# start_round starts the app and waits for the gateway (unless told it will not serve).
start_round() {
	HOME="$tmp/home" "$bin" "${app_args[@]}" >"$tmp/clawgate.log" 2>&1 &
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
}

# tray [traycheck flags] reads the app's item from the tray host into $tmp/menu.txt.
tray() {
	"$TRAYCHECK_BIN" -observe -pid "$pid" -timeout "${timeout}s" "$@" >"$tmp/menu.txt" 2>"$tmp/traycheck.err" ||
		fail "traycheck $*: $(cat "$tmp/traycheck.err")"
	sed 's/^/    /' "$tmp/menu.txt"
}

expect_line() {
	grep -qxF -- "$1" "$tmp/menu.txt" || fail "tray menu lacks the line '$1'; it has:
$(cat "$tmp/menu.txt")
(the line missing: '$1')"
}

# window_id TITLE prints the id of the app's visible window with that exact title, or nothing.
window_id() {
	local w
	for w in $(xdotool search --onlyvisible --pid "$pid" 2>/dev/null); do
		if [ "$(xdotool getwindowname "$w" 2>/dev/null)" = "$1" ]; then
			echo "$w"
			return 0
		fi
	done
	return 1
}

# wait_window TITLE SHOT waits for the app's window TITLE to map, then screenshots it.
wait_window() {
	local deadline=$((SECONDS + 20)) w
	until w=$(window_id "$1"); do
		kill -0 "$pid" 2>/dev/null || fail "clawgate exited while waiting for its '$1' window"
		[ "$SECONDS" -lt "$deadline" ] || fail "no window '$1' of pid $pid; its windows: $(for x in $(xdotool search --pid "$pid" 2>/dev/null); do xdotool getwindowname "$x"; done | tr '\n' ',')"
		sleep 0.2
	done
	echo "tray-smoke: window '$1' is up (X11 id $w, pid $pid)"
	# The picture is for a human to look at, not a check: give the first frame a moment to draw.
	sleep 1
	"$IMPORT" -window root "$2" 2>/dev/null || true
}

no_window() {
	if w=$(window_id "$1"); then
		fail "window '$1' is showing and should not be"
	fi
}

# wait_note TEXT waits for a notification whose summary contains TEXT, and checks its app name.
wait_note() {
	local deadline=$((SECONDS + 20)) line
	until line=$(grep -F -- "$1" "$notes" | tail -n1) && [ -n "$line" ]; do
		[ "$SECONDS" -lt "$deadline" ] || fail "no notification '$1'; dunst got: $(cat "$notes")"
		sleep 0.2
	done
	[ "${line%%$'\t'*}" = Clawgate ] || fail "notification '$1' came from app '${line%%$'\t'*}', want Clawgate"
	echo "tray-smoke: notification from Clawgate: $1"
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

# cpu_ticks prints the process's user+system CPU time in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }

green='#1f9d55' amber='#e89b0c' red='#d6332f'

echo "tray-smoke: round 1: first run of $bin on port $port, OPENAI_API_KEY unset"
unset OPENAI_API_KEY
start_round
wait_window "Clawgate: set up" "$shot"
tray -until-icon "$amber" -until-line "No API key for route gpt-4o-mini" -until-line "Today \$0.00 (disabled)"
expect_line "icon 64x64 $amber"
expect_line "No API key for route gpt-4o-mini"
expect_line "Today \$0.00 (disabled)"
expect_line "OpenClaw > Connect OpenClaw"
expect_line "Problems and log…"
[ "$(grep -cxF Quit "$tmp/menu.txt")" -eq 1 ] || fail "the tray menu must have exactly one Quit"
[ "$(tail -n1 "$tmp/menu.txt")" = Quit ] || fail "Quit is not the last tray menu item"
wait_note "No API key for route gpt-4o-mini"
kill -TERM "$pid"
wait_exit SIGTERM
echo "tray-smoke: clean exit after SIGTERM"

echo "tray-smoke: round 2: the key set; idle, a broken edit, a second launch, OpenClaw, Quit"
export OPENAI_API_KEY=sk-smoke-test
start_round
tray -until-icon "$green" -until-line "Gateway running on 127.0.0.1:$port (disabled)" -until-line "Today \$0.00 (disabled)"
expect_line "Gateway running on 127.0.0.1:$port (disabled)"
expect_line "tooltip Clawgate: Gateway running on 127.0.0.1:$port | Today \$0.00"
no_window Clawgate

ticks_per_sec=$(getconf CLK_TCK)
before=$(cpu_ticks)
sleep "$idle_secs"
used=$(($(cpu_ticks) - before))
# 0.5% of a core over the period, in ticks (100 per second: 0.5% of 20 s is 10 ticks).
limit=$((ticks_per_sec * idle_secs / 200))
echo "tray-smoke: idle with no window: $used clock ticks in ${idle_secs}s (limit $limit, $ticks_per_sec a second)"
[ "$used" -le "$limit" ] || fail "idle CPU above 0.5% of a core: $used ticks in ${idle_secs}s"

cp "$cfg" "$tmp/config.good"
printf 'model_list:\n  - model_name: gpt-4o-mini\n    litellm_params: {api_key: os.environ/OPENAI_API_KEY}\n' >"$cfg"
tray -until-icon "$amber"
expect_line "Config change not applied: the previous config stays in force"
wait_note "Config change not applied"
[ "$(http_status /health/liveliness)" = 200 ] || fail "the gateway stopped serving on a broken edit"
cp "$tmp/config.good" "$cfg"
tray -until-icon "$green"
echo "tray-smoke: the icon went amber on a broken edit and green on the fix"

no_window Clawgate
second_rc=0
HOME="$tmp/home" "$bin" "${app_args[@]}" >"$tmp/second.log" 2>&1 || second_rc=$?
[ "$second_rc" -eq 0 ] || fail "a second launch exited with status $second_rc: $(cat "$tmp/second.log")"
grep -q "already running" "$tmp/second.log" || fail "the second launch did not say it handed over: $(cat "$tmp/second.log")"
wait_window Clawgate "${shot%.png}-second.png"
echo "tray-smoke: a second launch exited 0 and the first showed its window"
key=$(HOME="$tmp/home" "$bin" master-key --config "$cfg" --data-dir "$tmp/data" 2>"$tmp/cli.err") ||
	fail "clawgate master-key failed beside the tray app: $(cat "$tmp/cli.err")"
[[ "$key" == sk-* ]] || fail "clawgate master-key printed '$key' beside the tray app"
HOME="$tmp/home" "$bin" version >/dev/null || fail "clawgate version failed beside the tray app"
echo "tray-smoke: the CLI works beside the running tray app"

[ ! -e "$tmp/home/.openclaw/openclaw.json" ] || fail "OpenClaw's config was written before connecting"
tray -click "Connect OpenClaw" -click "OpenClaw > gpt-4o-mini" -click Quit
wait_exit "Quit in the tray menu"
echo "tray-smoke: clean exit after Quit in the tray menu"
expect_line "== after clicking Connect OpenClaw"
expect_line "OpenClaw > OpenClaw: no primary model set (disabled)"
expect_line "== after clicking OpenClaw > gpt-4o-mini"
expect_line "OpenClaw: gpt-4o-mini > OpenClaw: litellm/gpt-4o-mini (disabled)"
expect_line "OpenClaw: gpt-4o-mini > gpt-4o-mini (checked)"
oc="$tmp/home/.openclaw/openclaw.json"
[ -f "$oc" ] || fail "Connect OpenClaw did not write $oc"
grep -qF '"litellm/gpt-4o-mini"' "$oc" || fail "OpenClaw's primary is not litellm/gpt-4o-mini after the click: $(cat "$oc")"
grep -qF "127.0.0.1:$port" "$oc" || fail "OpenClaw's config does not point at port $port: $(cat "$oc")"
echo "tray-smoke: the tray connected OpenClaw and switched its model"

echo "tray-smoke: round 3: Routes… opens the activity window"
start_round
no_window "Clawgate activity"
tray -click "Routes…"
wait_window "Clawgate activity" "${shot%.png}-activity.png"
kill -TERM "$pid"
wait_exit "SIGTERM with the activity window open"
echo "tray-smoke: clean exit after SIGTERM with the activity window open"

echo "tray-smoke: round 4: the port is taken"
HOME="$tmp/home" "$bin" serve --config "$cfg" --data-dir "$tmp/data-occupant" --port "$port" \
	>"$tmp/occupant.log" 2>&1 &
occupant=$!
deadline=$((SECONDS + timeout))
until [ "$(http_status /health/liveliness 2>/dev/null)" = 200 ]; do
	kill -0 "$occupant" 2>/dev/null || fail "clawgate serve (the port's occupant) exited: $(tail -n5 "$tmp/occupant.log")"
	[ "$SECONDS" -lt "$deadline" ] || fail "clawgate serve did not answer on port $port"
	sleep 0.2
done
HOME="$tmp/home" "$bin" "${app_args[@]}" >"$tmp/clawgate.log" 2>&1 &
pid=$!
tray -until-icon "$red"
expect_line "Error: port $port is in use"
kill -TERM "$pid"
wait_exit "SIGTERM with the port taken"
kill -TERM "$occupant"
wait "$occupant" || fail "clawgate serve exited with status $? after SIGTERM"
occupant=
echo "tray-smoke: the tray showed the taken port and exited cleanly"

echo "tray-smoke: round 5: a broken config at launch"
printf 'model_list:\n  - model_name: gpt-4o-mini\n    litellm_params: {api_key: os.environ/OPENAI_API_KEY}\n' >"$cfg"
start_round # the last good config serves
wait_window "Clawgate: problems and log" "${shot%.png}-problems.png"
tray -until-icon "$red"
expect_line "Config broken: serving the last good config"
wait_note "Config broken: serving the last good config"
[ -s "$tmp/data/clawgate.log" ] || fail "no log file in the data folder"
grep -q "model_list\[0\].litellm_params.model" "$tmp/data/clawgate.log" || fail "the log file does not name the broken key"
kill -TERM "$pid"
wait_exit "SIGTERM with a broken config"
echo "tray-smoke: a broken config at launch served the last good one and said where the error is"
echo "tray-smoke: PASS"
