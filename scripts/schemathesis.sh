#!/usr/bin/env bash
# Checks that the server and its OpenAPI document agree: runs schemathesis
# (in a throwaway virtual environment) against a `rapport serve` on a fresh
# database with the demo data, with every check, as schemathesis.toml and
# schemathesis_hooks.py (next to this script) set them up.
#
#   scripts/schemathesis.sh sqlite|postgres [RAPPORT_BINARY]
#
# PostgreSQL is reached at $RAPPORT_TEST_POSTGRES (default
# postgres://postgres@127.0.0.1:5432); a database is made for the run and
# dropped after it. Extra schemathesis options: $SCHEMATHESIS_ARGS; an
# existing virtual environment with schemathesis: $SCHEMATHESIS_VENV.
set -euo pipefail

backend="${1:?usage: scripts/schemathesis.sh sqlite|postgres [RAPPORT_BINARY]}"
rapport="${2:-target/debug/rapport}"
pg_url="${RAPPORT_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432}"
work="$(mktemp -d /tmp/rapport-schemathesis.XXXX)"
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
server_pid=""
pg_db=""

cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
    [ -n "$pg_db" ] && psql "$pg_url/postgres" -qc "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)" >/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

case "$backend" in
    sqlite) database="sqlite://$work/rapport.db" ;;
    postgres)
        pg_db="rapport_schemathesis_$$"
        psql "$pg_url/postgres" -qc "CREATE DATABASE $pg_db" >/dev/null
        database="$pg_url/$pg_db"
        ;;
    *) echo "unknown backend '$backend': sqlite or postgres" >&2; exit 2 ;;
esac

venv="${SCHEMATHESIS_VENV:-$work/venv}"
if [ ! -x "$venv/bin/schemathesis" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$(dirname "${BASH_SOURCE[0]}")/schemathesis-requirements.txt"
fi

"$rapport" --database-url "$database" migrate >/dev/null
"$rapport" --database-url "$database" demo >/dev/null 2>&1
"$rapport" --database-url "$database" user add --email schemathesis@example.com --name Schemathesis --role admin \
    </dev/null >/dev/null 2>&1
token="$("$rapport" --database-url "$database" token create --user schemathesis@example.com --name schemathesis)"

RAPPORT_LOG=warn "$rapport" --database-url "$database" serve --bind "127.0.0.1:$port" >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
    sleep 0.1
done

# The hooks keep the run from revoking its own token or deactivating its own
# user, and let through refusals of rules no schema can state.
api() { curl -fsS -H "Authorization: Bearer $token" "http://127.0.0.1:$port$1"; }
export RAPPORT_ST_USER_ID
RAPPORT_ST_USER_ID="$(api /api/v1/session | python3 -c 'import json, sys; print(json.load(sys.stdin)["user"]["id"])')"
export RAPPORT_ST_TOKEN_ID
RAPPORT_ST_TOKEN_ID="$(api /api/v1/tokens | python3 -c 'import json, sys; print(json.load(sys.stdin)["items"][0]["id"])')"
export SCHEMATHESIS_HOOKS
SCHEMATHESIS_HOOKS="$(dirname "${BASH_SOURCE[0]}")/schemathesis_hooks.py"

set +e
# shellcheck disable=SC2086 # SCHEMATHESIS_ARGS is a list of options
"$venv/bin/schemathesis" --config-file "$(dirname "${BASH_SOURCE[0]}")/schemathesis.toml" \
    run "http://127.0.0.1:$port/api/v1/openapi.json" \
    --header "Authorization: Bearer $token" \
    --workers 2 \
    --phases examples,coverage,fuzzing \
    --max-examples "${SCHEMATHESIS_MAX_EXAMPLES:-50}" \
    --seed 1 \
    --no-color \
    ${SCHEMATHESIS_ARGS:-}
status=$?
set -e
if [ "$status" -ne 0 ]; then
    echo "schemathesis on $backend failed; the server's log:" >&2
    grep -E '"level":"(ERROR|WARN)"|ERROR|WARN' "$work/server.log" | tail -n 40 >&2 || true
fi
exit "$status"
