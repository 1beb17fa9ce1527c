#!/usr/bin/env bash
# Import benchmark (not run in CI): 1,000,000 people from one CSV file.
# Times `rapport import people` (release build) into a fresh SQLite file, with
# its peak memory, against sqlite3's own `.import` of the same file into a bare
# table; and, when PostgreSQL answers, the import against psql's `\copy`.
# Goal (docs/PERFORMANCE.md): at most 3x either, peak RSS under 300 MB.
# Then the same for 2 x ROWS purchases of those people.
# Usage: scripts/bench-import.sh [ROWS] [POSTGRES_URL]   (RAPPORT_BIN=path skips the release build)
# The import prints its progress; the last lines of its output are shown.
set -euo pipefail
ROWS="${1:-1000000}"
PG="${2:-${RAPPORT_BENCH_POSTGRES:-postgres://postgres@127.0.0.1:5432}}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
CACHE="$TARGET/bench-import"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$CACHE"

command -v sqlite3 >/dev/null || { echo "installing sqlite3"; apt-get install -y -q sqlite3 >/dev/null; }
[ -x /usr/bin/time ] || { echo "installing time"; apt-get install -y -q time >/dev/null; }

# The file is made once and kept: every run times the same bytes. Each row
# has an email, a phone, two tags, one of 5,000 companies and two custom
# fields (a choice and a number), as issue 14 asks.
CSV="$CACHE/people-company-custom-$ROWS.csv"
if [ ! -f "$CSV" ]; then
  echo "generating $CSV"
  awk -v n="$ROWS" 'BEGIN {
    print "first_name,last_name,email,phone,job_title,lifecycle_stage,tags,company,cf.tier,cf.seats";
    split("lead prospect customer advocate churned", stages, " ");
    split("gold silver bronze", tiers, " ");
    for (i = 0; i < n; i++)
      printf "First%d,Last%d,person%d@example.com,+1 555 %07d,Engineer,%s,t%d;bench,Company %d,%s,%d\n", i, i % 977, i, i, stages[i % 5 + 1], i % 13, i % 5000, tiers[i % 3 + 1], i % 250;
  }' > "$CSV.tmp"
  mv "$CSV.tmp" "$CSV"
fi

# Purchases of those people (two each, by email): the second kind the issue
# times.
PURCHASES="$CACHE/purchases-$ROWS.csv"
if [ ! -f "$PURCHASES" ]; then
  echo "generating $PURCHASES"
  awk -v n="$ROWS" 'BEGIN {
    print "reference,customer_email,occurred_at,amount,currency,description";
    for (i = 0; i < 2 * n; i++)
      printf "O-%d,person%d@example.com,2024-%02d-%02d,%d.%02d,EUR,Order %d\n", i, i % n, i % 12 + 1, i % 28 + 1, i % 500, i % 100, i;
  }' > "$PURCHASES.tmp"
  mv "$PURCHASES.tmp" "$PURCHASES"
fi

# RAPPORT_BIN runs another build (a debug one, to try the script quickly).
BIN="${RAPPORT_BIN:-$TARGET/release/rapport}"
[ -n "${RAPPORT_BIN:-}" ] || cargo build -q --release -p rapport --manifest-path "$ROOT/Cargo.toml"

# The two custom fields the file fills, defined through the API of a
# server started for the purpose on a free port.
define_fields() {
  local url="$1" port token pid
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  token=$("$BIN" --database-url "$url" token create --user bench@example.com)
  "$BIN" --database-url "$url" serve --bind "127.0.0.1:$port" >/dev/null 2>&1 &
  pid=$!
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
  for field in '{"entity_type":"person","key":"tier","label":"Tier","kind":"choice","choices":["gold","silver","bronze"]}' \
               '{"entity_type":"person","key":"seats","label":"Seats","kind":"number"}'; do
    curl -fs -o /dev/null -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
      -d "$field" "http://127.0.0.1:$port/api/v1/custom-fields" || { echo "could not define $field"; kill "$pid"; exit 1; }
  done
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

# Seconds and peak RSS (MB) of a command, from GNU time.
measure() {
  /usr/bin/time -f "%e %M" -o "$WORK/time" "$@" >/dev/null 2>"$WORK/stderr" || { cat "$WORK/stderr"; exit 1; }
  read -r SECONDS_TAKEN RSS_KB < "$WORK/time"
  RSS_MB=$((RSS_KB / 1024))
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

echo "== SQLite, $ROWS rows"
DB="$WORK/rapport.db"
echo "a-long-password" | "$BIN" --database-url "sqlite://$DB" user add --email bench@example.com --name Bench --role admin >/dev/null 2>&1
define_fields "sqlite://$DB"
measure "$BIN" --database-url "sqlite://$DB" import people "$CSV" --mode skip-invalid
IMPORT_S=$SECONDS_TAKEN; IMPORT_RSS=$RSS_MB
tail -n 3 "$WORK/stderr"
measure sqlite3 "$WORK/bare.db" ".mode csv" ".import $CSV people"
SQLITE_S=$SECONDS_TAKEN
echo "rapport import: ${IMPORT_S}s, peak RSS ${IMPORT_RSS} MB"
echo "sqlite3 .import: ${SQLITE_S}s"
echo "ratio: $(ratio "$IMPORT_S" "$SQLITE_S")x (goal <= 3x), RSS goal < 300 MB"
measure "$BIN" --database-url "sqlite://$DB" import purchases "$PURCHASES" --mode skip-invalid
tail -n 1 "$WORK/stderr"
P_S=$SECONDS_TAKEN; P_RSS=$RSS_MB
measure sqlite3 "$WORK/bare.db" ".mode csv" ".import $PURCHASES purchases"
echo "purchases ($((2 * ROWS)) rows): rapport import ${P_S}s, peak RSS ${P_RSS} MB; sqlite3 .import ${SECONDS_TAKEN}s; ratio $(ratio "$P_S" "$SECONDS_TAKEN")x"

if psql "$PG" -c "SELECT 1" >/dev/null 2>&1; then
  echo "== PostgreSQL, $ROWS rows"
  NAME="rapport_bench_import_$$"
  BARE="rapport_bench_copy_$$"
  psql -q "$PG" -c "CREATE DATABASE $NAME" -c "CREATE DATABASE $BARE"
  cleanup_pg() { psql -q "$PG" -c "DROP DATABASE IF EXISTS $NAME" -c "DROP DATABASE IF EXISTS $BARE" || true; rm -rf "$WORK"; }
  trap cleanup_pg EXIT
  echo "a-long-password" | "$BIN" --database-url "$PG/$NAME" user add --email bench@example.com --name Bench --role admin >/dev/null 2>&1
  define_fields "$PG/$NAME"
  measure "$BIN" --database-url "$PG/$NAME" import people "$CSV" --mode skip-invalid
  PG_IMPORT_S=$SECONDS_TAKEN; PG_RSS=$RSS_MB
  psql -q "$PG/$BARE" -c "CREATE TABLE people (first_name text, last_name text, email text, phone text, job_title text, lifecycle_stage text, tags text, company text, tier text, seats text)"
  measure psql -q "$PG/$BARE" -c "\\copy people FROM '$CSV' WITH (FORMAT csv, HEADER true)"
  COPY_S=$SECONDS_TAKEN
  echo "rapport import: ${PG_IMPORT_S}s, peak RSS ${PG_RSS} MB"
  echo "psql \\copy: ${COPY_S}s"
  echo "ratio: $(ratio "$PG_IMPORT_S" "$COPY_S")x (goal <= 3x)"
  measure "$BIN" --database-url "$PG/$NAME" import purchases "$PURCHASES" --mode skip-invalid
  tail -n 1 "$WORK/stderr"
  P_S=$SECONDS_TAKEN; P_RSS=$RSS_MB
  psql -q "$PG/$BARE" -c "CREATE TABLE purchases (reference text, customer_email text, occurred_at text, amount text, currency text, description text)"
  measure psql -q "$PG/$BARE" -c "\\copy purchases FROM '$PURCHASES' WITH (FORMAT csv, HEADER true)"
  echo "purchases ($((2 * ROWS)) rows): rapport import ${P_S}s, peak RSS ${P_RSS} MB; psql \\copy ${SECONDS_TAKEN}s; ratio $(ratio "$P_S" "$SECONDS_TAKEN")x"
else
  echo "PostgreSQL at $PG does not answer: skipped"
fi
