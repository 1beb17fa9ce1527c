#!/usr/bin/env bash
# The web pages' benchmark at 100,000 people: fills a throwaway SQLite
# database with `rapport demo --scale 50` (about 10 minutes the first time;
# pass an existing database URL as $1 to skip that), then measures the server
# time of the people list and the customer page beside /healthz, and the
# compressed size of every page.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

url="${1:-}"
if [ -z "$url" ]; then
    dir="${BENCH_DIR:-target/bench-pages}"
    mkdir -p "$dir"
    url="sqlite://$dir/demo-100k.db"
    if [ ! -s "$dir/demo-100k.db" ]; then
        cargo run --release -q -- --database-url "$url" demo --scale 50 --seed 1
    fi
fi
cargo run --release -q -p rapport-bench --bin pages -- --database-url "$url" "${@:2}"
