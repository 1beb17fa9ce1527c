#!/usr/bin/env bash
# The public survey answer page's benchmark (issue 12): a throwaway SQLite
# database with N customers (200 by default), each sent the shipped NPS
# survey on a personal link; all of them open their link at once, then all
# send their answer at once, beside /healthz at the same concurrency.
# Arguments go to the binary: --customers N, --rounds R, --spread-ms MS.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

cargo run --release -q -p rapport-bench --bin survey_page -- "$@"
