#!/usr/bin/env bash
# The benchmark suite: builds in release mode, starts its own canned servers on
# loopback, runs every measure, prints the table (figures, ratios, targets) and
# writes bench/results.json and bench/results.svg. Reports; asserts nothing.
# BENCH_QUICK=1 runs a smaller version (for a smoke check).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/g4f-venvs.sh >/dev/null || echo "!!!! no g4f venvs: the Python comparison will be missing" >&2
cargo build --release --lib --quiet
cargo bench --bench bench --quiet
