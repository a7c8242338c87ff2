#!/usr/bin/env bash
# idle-bench.sh is the idle row of `make bench`: what the tray app costs while nobody uses it.
#
# On a virtual desktop (scripts/with-session.sh: Xvfb, a private session bus, a Secret Service; plus
# openbox and a real StatusNotifier tray host, as in scripts/tray-smoke.sh) it starts, side by side:
#   - fyneidle (scripts/fyneidle): an empty Fyne app with a tray icon, the floor Fyne itself sets;
#   - `clawgate serve`: the gateway alone, no Fyne;
#   - the tray app with no window open, and one tray app per window, each opened by clicking its tray
#     menu item over D-Bus (scripts/traycheck -observe -click), as a user would.
# Each tray app has its own data folder and port (one instance per data folder). Once every window is
# mapped (found by X11 pid and title) and a settle time has passed, it reads each process's CPU time
# (/proc/PID/stat, all threads), context switches (a wake-up each, summed over /proc/PID/task/*) and,
# after IDLE_SECS (default 60), again, with RSS (VmRSS) and peak RSS (VmHWM). It prints a Markdown
# table. A measurement, not a test: it exits 0 whatever the figures, and non-zero only when something
# did not start. The processes run at once, so the row takes about IDLE_SECS plus start-up, not 7x that.
#
# Environment: CLAWGATE_BIN (default: build bin/clawgate), IDLE_SECS (60), IDLE_SETTLE (seconds after
# the last window maps, default 5), IDLE_TIMEOUT (seconds to wait for each start, default 120).
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
	go build -o bin/fyneidle scripts/fyneidle/main.go
	export TRAYCHECK_BIN="$root/bin/traycheck" FYNEIDLE_BIN="$root/bin/fyneidle"
	exec "$root/scripts/with-session.sh" "$root/scripts/idle-bench.sh" --inside
fi

for tool in xdotool openbox status-notifier-watcher gtk-sni-tray-standalone; do
	command -v "$tool" >/dev/null 2>&1 || { echo "idle-bench: $tool not found; run 'make deps'" >&2; exit 1; }
done

secs="${IDLE_SECS:-60}"
settle="${IDLE_SETTLE:-5}"
timeout="${IDLE_TIMEOUT:-120}"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/clawgate-idle.XXXXXX")
procs=()
cleanup() {
	local p
	for p in "${procs[@]}"; do
		kill -KILL "$p" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

fail() {
	echo "idle-bench: FAIL: $*" >&2
	exit 1
}

bus_has() {
	dbus-send --session --print-reply=literal --dest=org.freedesktop.DBus /org/freedesktop/DBus \
		org.freedesktop.DBus.NameHasOwner "string:$1" 2>/dev/null | grep -q true
}

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

# healthy PORT: the gateway on PORT answers 200 on /health/liveliness.
healthy() {
	local line
	exec 3<>"/dev/tcp/127.0.0.1/$1" || return 1
	printf 'GET /health/liveliness HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
	IFS= read -r -t 5 line <&3 || true
	exec 3>&-
	[[ "$line" == "HTTP/1."?" 200"* ]]
}

# has_window PID TITLE: the process has a visible window with exactly that title.
has_window() {
	local w
	for w in $(xdotool search --onlyvisible --pid "$1" 2>/dev/null); do
		[ "$(xdotool getwindowname "$w" 2>/dev/null)" = "$2" ] && return 0
	done
	return 1
}

openbox >"$tmp/openbox.log" 2>&1 &
procs+=($!)
status-notifier-watcher >"$tmp/watcher.log" 2>&1 &
procs+=($!)
for _ in $(seq 100); do bus_has org.kde.StatusNotifierWatcher && break; sleep 0.1; done
bus_has org.kde.StatusNotifierWatcher || fail "status-notifier-watcher did not take its name"
gtk-sni-tray-standalone --top --end >"$tmp/host.log" 2>&1 &
procs+=($!)

# One route whose key is set: no problem to report, so no window opens by itself.
export OPENAI_API_KEY=sk-idle-bench
cat >"$tmp/config.yaml" <<'EOF'
model_list:
  - model_name: gpt-4o-mini
    litellm_params: {model: openai/gpt-4o-mini, api_key: os.environ/OPENAI_API_KEY}
general_settings: {master_key: sk-idle-bench-master}
EOF

# The rows: name, what runs, the tray menu item to click ("" for none), the window title it opens.
names=() pids=() ports=() clicks=() titles=()
start() { # NAME KIND CLICK TITLE
	local name=$1 kind=$2 port home="$tmp/home-$1"
	port=$(free_port) || fail "no free port"
	mkdir -p "$home"
	case "$kind" in
	fyne) HOME="$home" "$FYNEIDLE_BIN" >"$tmp/$name.log" 2>&1 & port= ;;
	serve) HOME="$home" "$CLAWGATE_BIN" serve --config "$tmp/config.yaml" --data-dir "$tmp/data-$name" \
		--port "$port" >"$tmp/$name.log" 2>&1 & ;;
	tray) HOME="$home" "$CLAWGATE_BIN" --config "$tmp/config.yaml" --data-dir "$tmp/data-$name" \
		--port "$port" >"$tmp/$name.log" 2>&1 & ;;
	esac
	procs+=($!)
	names+=("$name") pids+=($!) ports+=("$port") clicks+=("$3") titles+=("$4")
}
start "empty Fyne app + tray (baseline)" fyne "" ""
start "clawgate serve" serve "" ""
start "tray app, no window" tray "" ""
start "tray app, status window" tray "Show status…" "Clawgate"
start "tray app, Problems window" tray "Problems and log…" "Clawgate: problems and log"
start "tray app, Requests window" tray "Requests…" "Clawgate activity"
start "tray app, Budgets window" tray "Budgets…" "Clawgate activity"

deadline=$((SECONDS + timeout))
for i in "${!names[@]}"; do
	pid=${pids[$i]} port=${ports[$i]}
	if [ -n "$port" ]; then
		until healthy "$port" 2>/dev/null; do
			kill -0 "$pid" 2>/dev/null || fail "${names[$i]} exited: $(tail -n5 "$tmp/${names[$i]}.log")"
			[ "$SECONDS" -lt "$deadline" ] || fail "${names[$i]}: no gateway on port $port within ${timeout}s"
			sleep 0.2
		done
	fi
	[ "${names[$i]}" = "clawgate serve" ] && continue
	# Every Fyne process shows its icon in the tray host before it counts as started.
	args=(-observe -pid "$pid" -timeout "${timeout}s")
	[ -n "${clicks[$i]}" ] && args+=(-click "${clicks[$i]}")
	"$TRAYCHECK_BIN" "${args[@]}" >"$tmp/menu-$i.txt" 2>&1 || fail "${names[$i]}: traycheck: $(cat "$tmp/menu-$i.txt")"
	if [ -n "${titles[$i]}" ]; then
		until has_window "$pid" "${titles[$i]}"; do
			kill -0 "$pid" 2>/dev/null || fail "${names[$i]} exited"
			[ "$SECONDS" -lt "$deadline" ] || fail "${names[$i]}: no window '${titles[$i]}' within ${timeout}s"
			sleep 0.2
		done
	fi
	echo "idle-bench: ${names[$i]} (pid $pid) is up" >&2
done
for i in "${!names[@]}"; do
	[ -z "${titles[$i]}" ] || [ "${names[$i]}" = "clawgate serve" ] || continue
	for t in "Clawgate" "Clawgate: problems and log" "Clawgate activity"; do
		has_window "${pids[$i]}" "$t" && fail "${names[$i]} shows a window '$t' it should not"
	done
done
sleep "$settle"

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
switches() { cat /proc/"$1"/task/*/status 2>/dev/null | awk '/ctxt_switches/ {n += $2} END {print n + 0}'; }
kib() { awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/status"; }

t0=() s0=()
for i in "${!names[@]}"; do
	t0+=("$(ticks "${pids[$i]}")") s0+=("$(switches "${pids[$i]}")")
done
echo "idle-bench: measuring for ${secs}s (load average $(cut -d' ' -f1 /proc/loadavg))" >&2
sleep "$secs"
hz=$(getconf CLK_TCK)
echo
echo "### Clawgate at rest"
echo
echo "Idle for ${secs} s after start-up and a ${settle} s settle, all side by side under Xvfb with openbox and a"
echo "StatusNotifier host; windows opened from the tray menu. CPU from /proc (${hz} ticks a second); wake-ups are"
echo "context switches of all threads; load average $(cut -d' ' -f1 /proc/loadavg) at the end."
echo
echo "| process | CPU % of a core | CPU ticks | wake-ups/s | threads | RSS MiB | of it anonymous | peak RSS MiB | RSS above the empty Fyne app |"
echo "|---|--:|--:|--:|--:|--:|--:|--:|--:|"
base=
for i in "${!names[@]}"; do
	pid=${pids[$i]}
	kill -0 "$pid" 2>/dev/null || fail "${names[$i]} exited during the measurement"
	dt=$(($(ticks "$pid") - t0[i]))
	ds=$(($(switches "$pid") - s0[i]))
	rss=$(kib "$pid" VmRSS) anon=$(kib "$pid" RssAnon) hwm=$(kib "$pid" VmHWM) threads=$(kib "$pid" Threads)
	# IDLE_SMAPS=DIR keeps each process's memory map, to see where the memory goes.
	[ -z "${IDLE_SMAPS:-}" ] || cp "/proc/$pid/smaps" "$IDLE_SMAPS/smaps-$i.txt"
	[ -n "$base" ] || base=$rss
	above="–"
	[ "$i" -eq 0 ] || above=$(awk -v a="$rss" -v b="$base" 'BEGIN {printf "%+.1f", (a - b) / 1024}')
	awk -v n="${names[$i]}" -v dt="$dt" -v ds="$ds" -v hz="$hz" -v s="$secs" -v th="$threads" \
		-v rss="$rss" -v anon="$anon" -v hwm="$hwm" -v above="$above" \
		'BEGIN {printf "| %s | %.2f | %d | %.1f | %d | %.1f | %.1f | %.1f | %s |\n", n, 100 * dt / (hz * s), dt, ds / s, th, rss / 1024, anon / 1024, hwm / 1024, above}'
done
