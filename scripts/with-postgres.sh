#!/usr/bin/env bash
# with-postgres.sh runs a command beside a throwaway PostgreSQL cluster: initdb into a temp folder
# (as the unprivileged `postgres` user when run as root, as PostgreSQL refuses root), a free port on
# 127.0.0.1, trust auth. The command sees CLAWGATE_TEST_DATABASE_URL (a database it may use freely;
# tests create their own schemas or databases in it). The cluster is stopped and deleted when the command
# ends, and its exit status is passed on.
# Usage: scripts/with-postgres.sh CMD [ARGS...]
set -euo pipefail

if [ $# -eq 0 ]; then
	echo "usage: $0 CMD [ARGS...]" >&2
	exit 2
fi

bindir=${PG_BINDIR:-}
if [ -z "$bindir" ]; then
	bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)
fi
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
	echo "with-postgres: no PostgreSQL server binaries (initdb) found; run 'make deps' (Debian's postgresql package)" >&2
	exit 1
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/clawgate-pg.XXXXXX")
as=()
if [ "$(id -u)" = 0 ]; then
	id postgres >/dev/null 2>&1 || { echo "with-postgres: running as root and there is no 'postgres' user to run the server" >&2; exit 1; }
	chown postgres "$dir"
	as=(runuser -u postgres --)
fi
stop() {
	"${as[@]}" "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
	rm -rf "$dir"
}
trap stop EXIT

# A free port: ask the kernel for one, then give it to the server (a race with another process is
# possible but harmless: pg_ctl start then fails loudly).
port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})' 2>/dev/null ||
	echo $((20000 + RANDOM % 20000)))

"${as[@]}" "$bindir/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --no-sync >"$dir/initdb.log" 2>&1 ||
	{ cat "$dir/initdb.log" >&2; echo "with-postgres: initdb failed" >&2; exit 1; }
# Tuned for throwaway tests: no fsync (a crash loses the cluster, which is deleted anyway), enough
# connections for three replicas and the parallel test binaries.
"${as[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
	-o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" >/dev/null ||
	{ cat "$dir/server.log" >&2; echo "with-postgres: the server did not start" >&2; exit 1; }

export CLAWGATE_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
export CLAWGATE_TEST_PG_BINDIR=$bindir
echo "with-postgres: PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port" >&2
"$@"
