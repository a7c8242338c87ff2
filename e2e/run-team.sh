#!/usr/bin/env bash
# The team deployment e2e (e2e/replicas.test.mjs): three `clawgate serve` replicas behind HAProxy
# configured from docs/deploy/haproxy.cfg. CLAWGATE_E2E_TEAM_DB picks the database they share:
#   sqlite    one SQLite data folder (several processes on one machine)
#   postgres  a throwaway PostgreSQL cluster (scripts/with-postgres.sh), a DATABASE_URL per replica (the default)
# CLAWGATE_E2E_DATABASE_URL, when set, is used as it is instead. It needs no npm package; haproxy
# and openssl must be installed (make deps), or the suite fails.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
source "$root/e2e/bins.sh"
# The documented configurations first, with the tools that run them.
scripts/check-deploy.sh
suite=(node --test --test-reporter=spec --test-concurrency=1 e2e/replicas.test.mjs)
case "${CLAWGATE_E2E_TEAM_DB:-postgres}" in
sqlite)
	# Whatever database URL the caller's environment holds, SQLite was asked for.
	[ -n "${CLAWGATE_E2E_DATABASE_URL:-}" ] || unset CLAWGATE_TEST_DATABASE_URL
	"${suite[@]}"
	;;
postgres)
	if [ -n "${CLAWGATE_E2E_DATABASE_URL:-}" ]; then
		"${suite[@]}"
	else
		scripts/with-postgres.sh "${suite[@]}"
	fi
	;;
*)
	echo "run-team.sh: CLAWGATE_E2E_TEAM_DB must be sqlite or postgres, not ${CLAWGATE_E2E_TEAM_DB}" >&2
	exit 2
	;;
esac
