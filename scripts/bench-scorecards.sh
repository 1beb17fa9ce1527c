#!/usr/bin/env bash
# The staff scorecard benchmark (issue 13): a throwaway SQLite database with
# 200 staff in 20 teams, 20,000 customers they own and a year of their work
# (200,000 activities, 40,000 tasks, 20,000 tickets, 5,000 closed deals, NPS
# answers about them); times the scorecards for everyone over 365 days
# beside Store::style_facts and Store::ping, then the /style pages' server
# time beside /healthz. Arguments go to the binary: --scale F (row counts),
# --tickets N, --answers N, --runs N, --requests N, --seed N.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

cargo run --release -q -p rapport-bench --bin scorecards -- "$@"
