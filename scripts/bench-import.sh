#!/usr/bin/env bash
# Import benchmark (not run in CI): 1,000,000 people from one CSV file.
# Times `rapport import people` (release build) into a fresh SQLite file, with
# its peak memory, against sqlite3's own `.import` of the same file into a bare
# table; and, when PostgreSQL answers, the import against psql's `\copy`.
# Goal (docs/PERFORMANCE.md): at most 3x either, peak RSS under 300 MB.
# Then the same for 2 x ROWS purchases of those people.
# Usage: scripts/bench-import.sh [ROWS] [POSTGRES_URL]   (RAPPORT_BIN=path skips the release build)
# SQLITE_SQL and POSTGRES_SQL, when set, run on the prepared database before
# the import: to measure what a trigger or an index costs, drop it there.
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

# RAPPORT_BIN runs another build (a debug one, to try the script quickly).
BIN="${RAPPORT_BIN:-$TARGET/release/rapport}"
. "$ROOT/scripts/lib/bench-data.sh"
CSV="$(people_csv "$ROWS")"

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

[ -n "${RAPPORT_BIN:-}" ] || cargo build -q --release -p rapport --manifest-path "$ROOT/Cargo.toml"

# Seconds and peak RSS (MB) of a command, from GNU time.
measure() {
  /usr/bin/time -f "%e %M" -o "$WORK/time" "$@" >/dev/null 2>"$WORK/stderr" || { cat "$WORK/stderr"; exit 1; }
  read -r SECONDS_TAKEN RSS_KB < "$WORK/time"
  RSS_MB=$((RSS_KB / 1024))
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

echo "== SQLite, $ROWS rows"
DB="$WORK/rapport.db"
prepare_database "sqlite://$DB"
[ -z "${SQLITE_SQL:-}" ] || sqlite3 "$DB" "$SQLITE_SQL"
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
  prepare_database "$PG/$NAME"
  [ -z "${POSTGRES_SQL:-}" ] || psql -q "$PG/$NAME" -c "$POSTGRES_SQL"
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
