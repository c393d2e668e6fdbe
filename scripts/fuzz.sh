#!/usr/bin/env bash
# Coverage-guided fuzzing of the decoder and the request builder with cargo-fuzz
# (libFuzzer) on the stable toolchain. Usage: scripts/fuzz.sh [SECONDS_PER_TARGET]
# (default 30: the short CI run; run for hours to search deeper). The decoder's
# corpus is seeded from the real g4f streams in tests/interop/fixtures. Crashes
# land in fuzz/artifacts/<target>/; turn each into a regression test.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-30}
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked --version 0.13.2
# cargo-fuzz passes -Z flags (sanitizers, coverage); RUSTC_BOOTSTRAP lets stable accept them.
export RUSTC_BOOTSTRAP=1
mkdir -p fuzz/corpus/decoder fuzz/corpus/request
for f in tests/interop/fixtures/*-{normal,echo,fail-after,tool-calls,unicode}.txt; do
    [ -e "$f" ] || continue
    # A control byte 0x80 (no tight limit, split every 11 bytes) then the real stream.
    { printf '\x80'; cat "$f"; } > "fuzz/corpus/decoder/seed-$(basename "$f" .txt)"
done
for target in decoder request; do
    echo "== fuzz $target for ${secs}s"
    cargo fuzz run --sanitizer address "$target" -- -max_total_time="$secs" -max_len=65536 -print_final_stats=1 2>&1 \
        | tee "/tmp/fuzz-$target.log" | grep -E "^(#[0-9]+ +DONE|stat::number_of_executed_units|==[0-9]+==ERROR|SUMMARY)" || true
    grep -q "stat::number_of_executed_units" "/tmp/fuzz-$target.log" || { echo "fuzzing $target did not finish cleanly"; exit 1; }
done
