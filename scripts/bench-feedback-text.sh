#!/usr/bin/env bash
# Feedback-text benchmark (issue 12): VADER sentiment, key phrases and themes
# over 100,000 generated survey comments with rapport-text (release build),
# against the Python vaderSentiment package (in a throwaway venv) scoring the
# same comments in the same run. Prints the figures and the ratio.
# Usage: scripts/bench-feedback-text.sh [COUNT] [SEED]
#   (builds into CARGO_TARGET_DIR, /work/target-release unless set)
set -euo pipefail
COUNT="${1:-100000}"
SEED="${2:-7}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/work/target-release}"

python3 -m venv "$WORK/venv"
"$WORK/venv/bin/pip" install -q vaderSentiment==3.3.2

# FEEDBACK_TEXT_BIN: an already built binary (skips the build).
BIN="${FEEDBACK_TEXT_BIN:-$CARGO_TARGET_DIR/release/feedback_text}"
if [ -z "${FEEDBACK_TEXT_BIN:-}" ]; then
  cargo build -q --release -p rapport-bench --bin feedback_text --manifest-path "$ROOT/Cargo.toml"
fi

echo "== rapport-text ($(nproc) cores)"
RUST_OUT="$("$BIN" --count "$COUNT" --seed "$SEED" --out "$WORK/comments.txt")"
echo "$RUST_OUT"
value() { echo "$RUST_OUT" | sed -n "s/^$1=//p"; }

echo "== Python vaderSentiment $("$WORK/venv/bin/python" -c 'from importlib.metadata import version; print(version("vaderSentiment"))')"
PY_OUT="$("$WORK/venv/bin/python" - "$WORK/comments.txt" "$WORK/scores.txt" <<'PY'
import sys, time
t0 = time.perf_counter()
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
analyzer = SentimentIntensityAnalyzer()
load = time.perf_counter() - t0
with open(sys.argv[1], encoding="utf-8") as f:
    comments = f.read().split("\n")[:-1]
t0 = time.perf_counter()
scores = [analyzer.polarity_scores(c)["compound"] for c in comments]
seconds = time.perf_counter() - t0
with open(sys.argv[2], "w") as f:
    f.write("\n".join(str(s) for s in scores) + "\n")
print(f"PY_LOAD_SECONDS={load:.4f}")
print(f"PY_SENTIMENT_SECONDS={seconds:.4f}")
print(f"PY_COMPOUND_SUM={sum(scores):.4f}")
PY
)"
echo "$PY_OUT"
PY_SECONDS="$(echo "$PY_OUT" | sed -n 's/^PY_SENTIMENT_SECONDS=//p')"

echo "== agreement"
"$BIN" --compare "$WORK/comments.txt" --scores "$WORK/scores.txt"

echo "== ratios (Python sentiment time ÷ Rust time)"
python3 - "$PY_SECONDS" "$(value RUST_SENTIMENT_1_THREAD_SECONDS)" "$(value RUST_ANALYSE_SECONDS)" "$(value RUST_TOTAL_SECONDS)" <<'PY'
import sys
py, one, analyse, total = map(float, sys.argv[1:])
print(f"sentiment, 1 thread:                    {py / one:6.1f}x  ({one:.3f} s vs {py:.3f} s)")
print(f"sentiment + key phrases, every core:    {py / analyse:6.1f}x  ({analyse:.3f} s)")
print(f"sentiment + key phrases + themes:       {py / total:6.1f}x  ({total:.3f} s, goal < 10 s)")
PY
