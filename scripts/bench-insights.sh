#!/usr/bin/env bash
# The insights benchmark: RFM and cohorts over 10,000,000 purchases on SQLite
# (the goal: under 5 seconds end to end). Builds release, makes a SQLite
# database with `rapport migrate` and fills it with 1,000,000 people and
# 10,000,000 purchases in EUR (the `insights` bench binary, through rusqlite:
# about 2 minutes the first time; cached under target/bench-insights/ and
# reused), then times, in the same run:
#   (a) baseline: sqlite3's own bare scan of the purchases (count and sum),
#   (b) `rapport insights rfm --format json`,
#   (c) `rapport insights cohorts --format json`,
#   (d) RFM and cohorts from one pass, from Store::connect to the reports,
# each in seconds and as a ratio to the baseline, with the peak RSS.
# Usage: scripts/bench-insights.sh [PEOPLE] [PURCHASES]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

people="${1:-1000000}"
purchases="${2:-10000000}"
dir="${BENCH_DIR:-target/bench-insights}"
db="$dir/insights-${people}-${purchases}.db"
url="sqlite://$db"
target="${CARGO_TARGET_DIR:-target}"
rapport="$target/release/rapport"
bench="$target/release/insights"
export RAPPORT_LOG=warn

cargo build --release -q -p rapport -p rapport-bench
mkdir -p "$dir"
if [ ! -s "$db" ]; then
    rm -f "$db" "$db-wal" "$db-shm"
    "$rapport" --database-url "$url" migrate
    "$bench" generate --path "$db" --people "$people" --purchases "$purchases" || { rm -f "$db"*; exit 1; }
fi

if [ -x /usr/bin/time ]; then
    has_time=1
else
    has_time=0
fi

# Runs a command with its output thrown away; prints "SECONDS PEAK_KIB".
measure() {
    local log start end
    log="$(mktemp)"
    start="$(date +%s.%N)"
    if [ "$has_time" = 1 ]; then
        /usr/bin/time -v -o "$log" "$@" > /dev/null
    else
        "$@" > /dev/null
    fi
    end="$(date +%s.%N)"
    local peak
    peak="$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$log" 2>/dev/null)"
    rm -f "$log"
    echo "$(echo "$end - $start" | bc -l) ${peak:-0}"
}

report() { # NAME SECONDS PEAK_KIB
    printf '%-48s %7.3f s  %6.1fx baseline  peak RSS %5.0f MiB\n' "$1" "$2" "$(echo "$2 / $baseline" | bc -l)" \
        "$(echo "$3 / 1024" | bc -l)"
}

currency="$(sqlite3 "$db" "SELECT currency FROM purchases INDEXED BY purchases_insights GROUP BY currency ORDER BY count(*) DESC LIMIT 1")"
echo "database: $db ($(du -h "$db" | cut -f1)), $(sqlite3 "$db" "SELECT count(*) FROM people") people, " \
    "$(sqlite3 "$db" "SELECT count(*) FROM purchases") purchases"
# Warm the page cache once, so every figure reads from memory alike.
sqlite3 "$db" "SELECT count(*), sum(amount_minor) FROM purchases WHERE currency = '$currency'" > /dev/null

read -r baseline peak_a < <(measure sqlite3 "$db" "SELECT count(*), sum(amount_minor) FROM purchases WHERE currency = '$currency'")
read -r rfm peak_b < <(measure "$rapport" --database-url "$url" insights rfm --format json)
read -r cohorts peak_c < <(measure "$rapport" --database-url "$url" insights cohorts --format json)
read -r both peak_d < <(measure "$bench" run --database-url "$url")
read -r feed peak_e < <(measure "$bench" run --database-url "$url" --feed-only)

echo
report "(a) sqlite3 bare scan (count, sum) [baseline]" "$baseline" "$peak_a"
report "(b) rapport insights rfm --format json" "$rfm" "$peak_b"
report "(c) rapport insights cohorts --format json" "$cohorts" "$peak_c"
report "(d) RFM + cohorts, one pass (connect to reports)" "$both" "$peak_d"
report "    the purchase feed alone (no reports)" "$feed" "$peak_e"
echo
echo "(d) in phases:"
"$bench" run --database-url "$url"
