#!/usr/bin/env bash
# The pipeline board's benchmark (issue 16): over the pages benchmark's
# database (100,000 people from `rapport demo --scale 50`; made first when
# missing, about 10 minutes; pass an existing database URL as $1 to skip
# that), adds once a pipeline with 10,000 open deals, then measures the
# board, a column's "Load more" and a move beside /healthz, and the board's
# compressed size.
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
cargo run --release -q -p rapport-bench --bin board -- --database-url "$url" "${@:2}"
