#!/usr/bin/env bash
# Lifetime-value benchmark: 1,000,000 synthetic customers drawn from known
# BG/NBD + Gamma-Gamma parameters, fitted by rapport-insights (release build)
# and by the Python lifetimes package (in a throwaway venv) on the same CSV.
# Usage: scripts/bench-clv.sh [N] [SEED]
set -euo pipefail
N="${1:-1000000}"
SEED="${2:-7}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

python3 -m venv "$WORK/venv"
"$WORK/venv/bin/pip" install -q lifetimes

cargo build -q --release -p rapport-insights --example clv_bench --manifest-path "$ROOT/Cargo.toml"
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/examples/clv_bench"
"$BIN" generate "$N" "$SEED" "$WORK/customers.csv"

RUST_OUT="$("$BIN" fit "$WORK/customers.csv")"
echo "$RUST_OUT"
RUST_SECONDS="$(echo "$RUST_OUT" | sed -n 's/^RUST_SECONDS=//p')"

PY_SECONDS="$("$WORK/venv/bin/python" - "$WORK/customers.csv" <<'PY'
import sys, time
import pandas as pd
from lifetimes import BetaGeoFitter, GammaGammaFitter
d = pd.read_csv(sys.argv[1])
t0 = time.perf_counter()
bg = BetaGeoFitter().fit(d["frequency"], d["recency"], d["T"])
t1 = time.perf_counter()
rep = d[d["frequency"] > 0]
gg = GammaGammaFitter().fit(rep["frequency"], rep["monetary_value"])
t2 = time.perf_counter()
print(f"lifetimes BG/NBD: {t1 - t0:.3f} s, Gamma-Gamma: {t2 - t1:.3f} s", file=sys.stderr)
print("  " + " ".join(f"{k}={v:.5f}" for k, v in bg.params_.items()), file=sys.stderr)
print("  " + " ".join(f"{k}={v:.5f}" for k, v in gg.params_.items()), file=sys.stderr)
print(f"{t2 - t0:.6f}")
PY
)"
echo "lifetimes total: ${PY_SECONDS} s"
python3 -c "print(f'speed-up: {${PY_SECONDS} / ${RUST_SECONDS}:.1f}x')"
