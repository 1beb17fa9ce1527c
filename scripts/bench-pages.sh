#!/usr/bin/env bash
# The web pages' benchmark at 100,000 people: fills a throwaway SQLite
# database with `rapport demo --scale 50` (about 4 minutes the first time;
# pass an existing database URL as $1 to skip that, on either backend), then
# measures the server time of the people list, a search, the home page and
# the customer page beside /healthz, and the compressed size of every page.
# SCALE=500 (a whole number) fills (and measures) a million people instead (issue 14, part 3).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

url="${1:-}"
if [ -z "$url" ]; then
    dir="${BENCH_DIR:-target/bench-pages}"
    mkdir -p "$dir"
    scale="${SCALE:-50}"
    file="$dir/demo-$((scale * 2))k.db" # 2,000 people a unit of scale, as bench-board.sh names it
    url="sqlite://$file"
    if [ ! -s "$file" ]; then
        cargo run --release -q -- --database-url "$url" demo --scale "$scale" --seed 1
    fi
fi
cargo run --release -q -p rapport-bench --bin pages -- --database-url "$url" "${@:2}"
