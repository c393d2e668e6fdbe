#!/usr/bin/env bash
# Coverage-guided fuzzing of the decoder and the request builder with cargo-fuzz
# (libFuzzer) on the stable toolchain. Usage: scripts/fuzz.sh [SECONDS_PER_TARGET]
# (default 30: the short CI run; run for hours to search deeper). The decoder's
# corpus is seeded from the real g4f streams in tests/interop/fixtures. Crashes
# land in fuzz/artifacts/<target>/; turn each into a regression test and keep the
# input in fuzz/regressions/<target>-<what>.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-30}
# cargo-fuzz: prebuilt by .ci/install-cargo-tools.sh when it ran, else compiled once here.
TOOLS=${BACKEND_API_CACHE:-$HOME/.cache/backend-api}/cargo-tools/bin
[ -x "$TOOLS/cargo-fuzz" ] && PATH=$TOOLS:$PATH
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked --version 0.13.2
# cargo-fuzz passes -Z flags (sanitizers, coverage); RUSTC_BOOTSTRAP lets stable accept them.
export RUSTC_BOOTSTRAP=1
mkdir -p fuzz/corpus/decoder fuzz/corpus/request
for f in tests/interop/fixtures/*-{normal,echo,fail-after,tool-calls,unicode}.txt; do
    [ -e "$f" ] || continue
    # A control byte 0x80 (no tight limit, split every 11 bytes) then the real stream.
    { printf '\x80'; cat "$f"; } > "fuzz/corpus/decoder/seed-$(basename "$f" .txt)"
done
log=$(mktemp -d)
# Inputs that once crashed a target stay in its corpus (fuzz/regressions/<target>-*).
for f in fuzz/regressions/*; do
    [ -e "$f" ] || continue
    name=$(basename "$f")
    cp "$f" "fuzz/corpus/${name%%-*}/regression-$name"
done
for target in decoder request; do
    echo "== fuzz $target for ${secs}s"
    rc=0
    cargo fuzz run --sanitizer address "$target" -- -max_total_time="$secs" -max_len=65536 -print_final_stats=1 \
        > "$log/$target.log" 2>&1 || rc=$?
    grep -E "^(stat::number_of_executed_units|==[0-9]+==ERROR|SUMMARY)|panicked|Test unit written" "$log/$target.log" || true
    if [ "$rc" -ne 0 ]; then
        tail -n 40 "$log/$target.log"
        echo "fuzzing $target FAILED (exit $rc): see fuzz/artifacts/$target/"
        exit 1
    fi
done
rm -rf "$log"
