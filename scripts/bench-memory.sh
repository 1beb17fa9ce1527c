#!/usr/bin/env bash
# Memory and start-up benchmark (issue 14, part 4; not run in CI): imports
# ROWS people (the import benchmark's file) into SQLite and PostgreSQL, then
# runs `rapport serve` over each as its own process and prints the time to
# its first answered request, its resident memory idle, under 32 clients,
# and every 10 s over a mixed-load run (crates/bench/src/bin/memory.rs).
# Goals (docs/PERFORMANCE.md): idle < 50 MB and under load < 150 MB at
# 100,000 people, flat over 10 minutes; start < 1 s at 1,000,000 people.
# Usage: scripts/bench-memory.sh [ROWS] [SOAK_MINUTES] [POSTGRES_URL]
#   (RAPPORT_BIN=path serves another rapport binary; the SQLite file is kept in
#   target/bench-memory and reused, the PostgreSQL database is dropped.)
set -euo pipefail
ROWS="${1:-100000}"
SOAK="${2:-10}"
PG="${3:-${RAPPORT_BENCH_POSTGRES:-postgres://postgres@127.0.0.1:5432}}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
CACHE="$TARGET/bench-memory"
mkdir -p "$CACHE"
BIN="${RAPPORT_BIN:-$TARGET/release/rapport}"
. "$ROOT/scripts/lib/bench-data.sh"
# Both in one build: built apart, their dependencies' features differ and
# the second build compiles most of the workspace again.
cargo build -q --release -p rapport -p rapport-bench --bin rapport --bin memory --manifest-path "$ROOT/Cargo.toml"
CSV="$(people_csv "$ROWS")"

# Fills a fresh database once: the bench admin, the custom fields, the people.
fill() {
  prepare_database "$1"
  echo "importing $ROWS people into $1"
  "$BIN" --database-url "$1" import people "$CSV" --mode skip-invalid 2>&1 | tail -n 1
}

measure() {
  "$TARGET/release/memory" --rapport "$BIN" --database-url "$1" --soak-minutes "$SOAK"
}

DB="$CACHE/people-$ROWS.db"
if [ ! -f "$DB.filled" ]; then
  rm -f "$DB" "$DB-wal" "$DB-shm"
  fill "sqlite://$DB"
  touch "$DB.filled"
fi
echo "== SQLite, $ROWS people ($(du -h "$DB" | cut -f1))"
measure "sqlite://$DB"

if psql "$PG" -c "SELECT 1" >/dev/null 2>&1; then
  NAME="rapport_bench_memory_$$"
  psql -q "$PG" -c "CREATE DATABASE $NAME"
  trap 'psql -q "$PG" -c "DROP DATABASE IF EXISTS $NAME" || true' EXIT
  fill "$PG/$NAME"
  echo "== PostgreSQL, $ROWS people"
  measure "$PG/$NAME"
else
  echo "PostgreSQL at $PG does not answer: skipped"
fi
