#!/usr/bin/env bash
# check-deploy.sh checks the deployment examples in docs/deploy/ with the tools that run them:
# haproxy -c on haproxy.cfg (required: the team e2e runs it), systemd-analyze verify on
# clawgate@.service (any warning fails), and nginx -t on nginx.conf. The example paths of the TLS
# certificate and of the binary are swapped for a throwaway certificate and a real binary
# ($CLAWGATE_BIN, else bin/clawgate). A tool that is not installed is named, not silently passed.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
deploy="$root/docs/deploy"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

openssl req -x509 -newkey rsa:2048 -nodes -keyout "$tmp/key.pem" -out "$tmp/cert.pem" -days 1 \
	-subj /CN=gateway.example.com 2>/dev/null
cat "$tmp/cert.pem" "$tmp/key.pem" >"$tmp/haproxy.pem"

haproxy=$(command -v haproxy || echo /usr/sbin/haproxy)
if [ ! -x "$haproxy" ]; then
	echo "check-deploy: haproxy is not installed (make deps)" >&2
	exit 1
fi
sed "s|/etc/haproxy/certs/clawgate.pem|$tmp/haproxy.pem|" "$deploy/haproxy.cfg" >"$tmp/haproxy.cfg"
"$haproxy" -c -f "$tmp/haproxy.cfg"
echo "check-deploy: haproxy.cfg: valid ($("$haproxy" -v | head -n1 | cut -d' ' -f1-3))"

if command -v systemd-analyze >/dev/null; then
	bin="${CLAWGATE_BIN:-$root/bin/clawgate}"
	[ -x "$bin" ] || { echo "check-deploy: $bin is not built (make build)" >&2; exit 1; }
	sed "s|/usr/local/bin/clawgate|$bin|" "$deploy/clawgate@.service" >"$tmp/clawgate@4001.service"
	# verify exits 0 on unknown keys and bad values: any line it prints is a failure.
	out=$(systemd-analyze verify "$tmp/clawgate@4001.service" 2>&1 || echo "exit status $?")
	if [ -n "$out" ]; then
		echo "check-deploy: clawgate@.service:" >&2
		echo "$out" >&2
		exit 1
	fi
	exposure=$(systemd-analyze security --offline=true "$tmp/clawgate@4001.service" 2>/dev/null | sed -n 's/.*Overall exposure level for [^:]*: //p')
	echo "check-deploy: clawgate@.service: systemd-analyze verify clean; exposure ${exposure:-unknown}"
else
	echo "check-deploy: systemd-analyze is not installed: clawgate@.service NOT checked"
fi

nginx=$(command -v nginx || echo /usr/sbin/nginx)
if [ -x "$nginx" ]; then
	mkdir -p "$tmp/nginx/logs"
	sed "s|/etc/ssl/clawgate/fullchain.pem|$tmp/cert.pem|; s|/etc/ssl/clawgate/privkey.pem|$tmp/key.pem|" \
		"$deploy/nginx.conf" >"$tmp/nginx/clawgate.conf"
	printf 'pid %s/nginx/nginx.pid;\nerror_log %s/nginx/logs/error.log;\nevents {}\nhttp {\n\tinclude %s/nginx/clawgate.conf;\n}\n' \
		"$tmp" "$tmp" "$tmp" >"$tmp/nginx/nginx.conf"
	"$nginx" -t -q -e "$tmp/nginx/logs/error.log" -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf"
	echo "check-deploy: nginx.conf: valid ($("$nginx" -v 2>&1))"
else
	echo "check-deploy: nginx is not installed: nginx.conf NOT checked (it is optional; apt-get install nginx-light)"
fi
