#!/usr/bin/env bash
# `rapport demo` benchmark (issue 14, part 3; not run in CI): fills a new
# SQLite file with `demo --scale SCALE --seed 1` and prints each step's
# seconds, the whole run's wall time and the peak RSS. Given a second
# binary (BASELINE), runs it first on a file of its own and prints the
# steps side by side with their ratios (this build ÷ baseline).
# Goal (docs/PERFORMANCE.md): scale 500 in under 15 minutes.
# Usage: scripts/bench-demo.sh [SCALE] [BASELINE_BINARY]
#   (RAPPORT_BIN=path measures another binary than target/release/rapport;
#   KEEP_DB=path.db keeps this build's database there, e.g. for
#   scripts/bench-pages.sh sqlite://path.db, instead of deleting it.)
set -euo pipefail
SCALE="${1:-50}"
BASELINE="${2:-}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
BIN="${RAPPORT_BIN:-$TARGET/release/rapport}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
if [ -z "${RAPPORT_BIN:-}" ]; then
  cargo build -q --release -p rapport --manifest-path "$ROOT/Cargo.toml"
fi

# Runs one binary; leaves "step seconds" lines, then "all" and "peak_mb", in $2.
# A third argument is where to keep the database; without it the file is deleted.
run() {
  local bin="$1" out="$2" keep="${3:-}"
  local db="${keep:-$WORK/demo-$RANDOM.db}"
  RAPPORT_LOG=rapport=debug,warn /usr/bin/time -f "TIME %e %M" "$bin" --database-url "sqlite://$db?mode=rwc" \
    demo --scale "$SCALE" --seed 1 >"$out.log" 2>&1
  # Colours and the progress bar's carriage returns off, then one line a step.
  sed 's/\x1b\[[0-9;]*m//g' "$out.log" | tr '\r' '\n' \
    | sed -n 's/.*demo step done step="\{0,1\}\([a-z ]*[a-z]\)"\{0,1\} seconds=\([0-9.]*\).*/\1\t\2/p' >"$out"
  awk '/^TIME/ { printf "all\t%s\npeak_mb\t%.0f\n", $2, $3 / 1024 }' "$out.log" >>"$out"
  if [ -z "$keep" ]; then rm -f "$db" "$db-wal" "$db-shm"; fi
}

if [ -n "$BASELINE" ]; then
  echo "baseline: $BASELINE, scale $SCALE" >&2
  run "$BASELINE" "$WORK/before"
fi
echo "this build: $BIN, scale $SCALE" >&2
run "$BIN" "$WORK/after" "${KEEP_DB:-}"
if [ -n "$BASELINE" ]; then
  printf '%-16s %10s %10s %8s\n' step baseline this ratio
  awk -F'\t' 'NR == FNR { before[$1] = $2; next }
    { r = (before[$1] > 0) ? sprintf("%.2f", $2 / before[$1]) : "-";
      printf "%-16s %10s %10s %8s\n", $1, before[$1], $2, r }' "$WORK/before" "$WORK/after"
else
  printf '%-16s %10s\n' step seconds
  awk -F'\t' '{ printf "%-16s %10s\n", $1, $2 }' "$WORK/after"
fi
