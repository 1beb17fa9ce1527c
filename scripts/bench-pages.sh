#!/usr/bin/env bash
# The web pages' benchmark at 100,000 people: fills a throwaway SQLite
# database with `rapport demo --scale 50` (about 4 minutes the first time;
# pass an existing database URL as $1 to skip that, on either backend), then
# measures the server time of the people list, a search, the home page and
# the customer page beside /healthz, and the compressed size of every page.
# SCALE=500 (a whole number) fills (and measures) a million people instead (issue 14, part 3).
# COPIES=10 (SQLite) measures a copy of the database whose people are copied
# ten times over, each copy with a new id: a million people in about two
# minutes instead of SCALE=500's hour and a half. Only the people grow (with
# their search documents); their emails, tags and purchases stay with the
# originals, so it measures the list and search, not the customer pages.
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
copies="${COPIES:-1}"
if [ "$copies" -gt 1 ]; then
    command -v sqlite3 >/dev/null || apt-get install -y -q sqlite3 >/dev/null
    source="${url#sqlite://}"
    source="${source%%\?*}"
    file="${source%.db}-people-x$copies.db"
    if [ ! -s "$file" ]; then
        cp "$source" "$file.tmp"
        # Every column as it is but the unique ones: a new id, no external
        # id, and no referrer (a copy would refer to the original).
        columns=$(sqlite3 "$file.tmp" "SELECT group_concat(name, ', ') FROM pragma_table_info('people')")
        values=$(sqlite3 "$file.tmp" "SELECT group_concat(CASE name WHEN 'id' THEN 'randomblob(16)' \
            WHEN 'external_id' THEN 'NULL' WHEN 'referred_by_id' THEN 'NULL' ELSE name END, ', ') \
            FROM pragma_table_info('people')")
        sqlite3 "$file.tmp" "WITH RECURSIVE copy(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM copy WHERE n < $copies - 1)
            INSERT INTO people ($columns) SELECT $values FROM people, copy"
        mv "$file.tmp" "$file"
    fi
    url="sqlite://$file"
fi
cargo run --release -q -p rapport-bench --bin pages -- --database-url "$url" "${@:2}"
