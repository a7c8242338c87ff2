#!/usr/bin/env bash
# fuzz.sh runs every fuzz target in the module alone for FUZZTIME and prints a table of targets,
# Go's exec counts, the share of inputs that reached the code under test (targets that count it
# with internal/fuzzstat) and the result. It fails when a target finds a crash or does fewer than
# MIN_EXECS executions: a fuzzer that stalls (minimizing a slow input, spinning on one) would
# otherwise report PASS having tried nothing.
#
#   FUZZTIME       time per target (default 10s; a Go duration in s or m)
#   MIN_EXECS      the floor (default 100 per second of FUZZTIME). A stalled target does tens;
#                  the slowest one did 650 in 3 s on a 2-core machine at load 20, and ten times
#                  that idle.
#   FUZZ_MINIMIZE  -fuzzminimizetime (default 100x: at most 100 runs to shrink each input). Go
#                  minimizes every input that finds new coverage, for up to 60 s by default, and
#                  does not count those runs: a slow target spent a whole short run minimizing
#                  (bedrock FuzzStream: 9 execs in 3 s at 5s, 12 at 1s, thousands at 100x).
#   FUZZ_ONLY      a regexp: run only the targets whose name matches
#   FUZZ_CORPUS    "fresh" (default): each run starts from the seeds, in a corpus folder of its
#                  own; "keep": Go's cache under GOCACHE, which grows run after run. Every run
#                  first replays the whole cached corpus, uncounted: after one 10 s run FuzzAdmin
#                  had 157 entries and a 3 s run replayed 108 of them and did 0 execs.
#
# A crash's input is written by Go to the package's testdata/fuzz/<Target>/ (keep it: it becomes
# a seed every plain go test runs). The seeds run in every go test; this adds the exploration.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

fuzztime=${FUZZTIME:-10s}
minimize=${FUZZ_MINIMIZE:-100x}
case "$fuzztime" in
*m) secs=$((${fuzztime%m} * 60)) ;;
*s) secs=${fuzztime%s} ;;
*) echo "fuzz: FUZZTIME must be like 3s, 10s or 2m, not '$fuzztime'" >&2; exit 2 ;;
esac
[[ $secs =~ ^[0-9]+$ && $secs -gt 0 ]] || { echo "fuzz: bad FUZZTIME '$fuzztime'" >&2; exit 2; }
min=${MIN_EXECS:-$((100 * secs))}

# Every "func FuzzX(" in a _test.go file, as "dir name".
mapfile -t targets < <(grep -rn --include='*_test.go' --exclude-dir=node_modules -E '^func Fuzz[A-Za-z0-9_]*\(' . |
	while IFS=: read -r file _ decl; do
		name=${decl#func }
		echo "$(dirname "${file#./}") ${name%%(*}"
	done | sort)
if [ ${#targets[@]} -eq 0 ]; then
	echo "fuzz: no fuzz targets found" >&2
	exit 1
fi

# deadline_race reports whether a failed run's only complaint is "context deadline exceeded",
# with no failing input written and no panic.
deadline_race() {
	grep -q '^    context deadline exceeded$' "$1" &&
		! grep -qE 'Failing input written|panic:|_test\.go:[0-9]+:' "$1"
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
start=$SECONDS
failed=0
rows=()
for t in "${targets[@]}"; do
	dir=${t% *} name=${t#* }
	if [ -n "${FUZZ_ONLY:-}" ] && ! [[ $name =~ $FUZZ_ONLY || $dir/$name =~ $FUZZ_ONLY ]]; then
		continue
	fi
	log="$work/$(echo "$dir.$name" | tr / _).log"
	stats="$work/$(echo "$dir.$name" | tr / _).stats"
	mkdir -p "$stats"
	t0=$SECONDS
	rc=0
	corpus=()
	if [ "${FUZZ_CORPUS:-fresh}" != keep ]; then
		corpus=(-args -test.fuzzcachedir="$stats.corpus")
	fi
	CLAWGATE_FUZZSTATS=$stats go test -run '^$' -fuzz "^$name\$" -fuzztime "$fuzztime" \
		-fuzzminimizetime "$minimize" "./$dir" "${corpus[@]}" >"$log" 2>&1 || rc=$?
	# Go prints "fuzz: elapsed: 3s, execs: 12345 (4115/sec), ..."; the last one is the total.
	execs=$(grep -oE 'execs: [0-9]+' "$log" | tail -n1 | grep -oE '[0-9]+' || true)
	execs=${execs:-0}
	reach="-"
	if compgen -G "$stats/*" >/dev/null; then
		reach=$(cat "$stats"/* | awk '{r += $2; e += $4} END {if (r + e > 0) printf "%.1f%%", 100 * r / (r + e); else print "-"}')
	fi
	result=ok
	if [ $rc -ne 0 ] && deadline_race "$log"; then
		# Go 1.26's coordinator can report its own -fuzztime deadline as a failure
		# (go.dev/issue/75804, fixed in Go 1.27): no input failed, nothing was written.
		result="ok (go#75804)"
	elif [ $rc -ne 0 ]; then
		result=FAIL
	elif [ "$execs" -lt "$min" ]; then
		result="FAIL (< $min execs)"
	fi
	if [[ $result != ok* ]]; then
		failed=1
		echo "--- $dir $name: $result; go test said:" >&2
		tail -n 40 "$log" >&2
	fi
	rows+=("$(printf '%-42s %-22s %10s %8s %6ss  %s' "$dir" "$name" "$execs" "$reach" $((SECONDS - t0)) "$result")")
done

printf '%-42s %-22s %10s %8s %7s  %s\n' package target execs reached wall result
printf '%s\n' "${rows[@]}"
echo "fuzz: ${#rows[@]} targets, $fuzztime each, minimum $min execs, $((SECONDS - start))s in all"
exit $failed
