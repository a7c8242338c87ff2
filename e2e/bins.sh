# Sourced by the e2e scripts run on their own, with $root the checkout: builds bin/clawgate and
# bin/fakeupstream and exports their paths, unless CLAWGATE_BIN and FAKEUPSTREAM_BIN name them already.
if [ -z "${CLAWGATE_BIN:-}" ] || [ -z "${FAKEUPSTREAM_BIN:-}" ]; then
	mkdir -p "$root/bin"
	(cd "$root" && go build -o bin/clawgate . && go build -o bin/fakeupstream ./internal/fakeupstream/cmd/fakeupstream)
	export CLAWGATE_BIN="$root/bin/clawgate" FAKEUPSTREAM_BIN="$root/bin/fakeupstream"
fi
