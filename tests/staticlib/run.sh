#!/usr/bin/env bash
# Usage: tests/staticlib/run.sh PREFIX RAW.a
#
# Tests the static library of an installation tree PREFIX (made by scripts/stage.sh)
# against RAW.a, the archive as cargo wrote it:
#   - the archive's global symbols are exactly the functions of backend_api.h;
#   - it leaves no Rust symbol undefined (the partial link kept them all inside);
#   - a C program linking RAW.a beside a second, independent Rust static library
#     (tests/staticlib/other, built here) FAILS to link (duplicate Rust runtime);
#   - the same program linking PREFIX's archive links and runs.
# Env: CC (cc), CARGO (cargo), CARGO_TARGET_DIR (./target). Last line "staticlib: N passed, M failed".
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 PREFIX RAW.a" >&2; exit 2; }
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
PREFIX=$(realpath "$1")
RAW=$(realpath "$2")
CC=${CC:-cc}
CARGO=${CARGO:-cargo}
TARGET=$(realpath -m "${CARGO_TARGET_DIR:-$ROOT/target}")
A=$PREFIX/lib/libbackend_api.a
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

PASSED=0 FAILED=0
pass() { PASSED=$((PASSED + 1)); echo "  ok   $*"; }
fail() { FAILED=$((FAILED + 1)); echo "  FAIL $*"; }

# The API: every function the header declares (comments stripped by the preprocessor).
"$CC" -E -P -x c "$PREFIX/include/backend_api.h" | grep -o '\bbackend_api_[a-z0-9_]*\s*(' \
    | tr -d ' (' | sort -u > "$WORK/api.txt"
nm -g --defined-only "$A" | awk 'NF == 3 {print $3}' | sort -u > "$WORK/globals.txt"
echo "   $(wc -l < "$WORK/api.txt") functions in the header, $(wc -l < "$WORK/globals.txt") global symbols in $A"
if diff "$WORK/api.txt" "$WORK/globals.txt" > "$WORK/diff.txt"; then
    pass "the archive's global symbols are exactly the header's functions"
else
    fail "the archive's global symbols differ from the header's functions (< header only, > archive only):"
    head -n 20 "$WORK/diff.txt"
fi
nm -g --undefined-only "$A" | awk '{print $NF}' | grep -E '^(_ZN|_R|__rust_|rust_)' > "$WORK/rust-undef.txt" || true
if [ -s "$WORK/rust-undef.txt" ]; then
    fail "the archive leaves Rust symbols undefined: $(head -n 5 "$WORK/rust-undef.txt" | tr '\n' ' ')"
else
    pass "no Rust symbol left undefined"
fi
raw_globals=$(nm -g --defined-only "$RAW" 2>/dev/null | awk 'NF == 3' | wc -l)
echo "   (cargo's archive had $raw_globals global definitions)"

echo "== a second Rust static library"
"$CARGO" build --release --quiet --manifest-path "$HERE/other/Cargo.toml" --target-dir "$TARGET/staticlib-other"
OTHER=$TARGET/staticlib-other/release/libother_rust_lib.a
# System libraries both archives need (from the installed pkg-config file).
read -r -a NATIVE < <(sed -n 's/^Libs.private: *//p' "$PREFIX/lib/pkgconfig/backend_api.pc")

if "$CC" "$HERE/main.c" -I"$PREFIX/include" "$RAW" "$OTHER" "${NATIVE[@]}" -o "$WORK/raw" > "$WORK/raw.log" 2>&1; then
    fail "linking cargo's archive beside another Rust library should fail, but it linked"
else
    pass "cargo's archive beside another Rust library fails to link: $(grep -m1 -o 'multiple definition of `[^'\'']*' "$WORK/raw.log" || head -n 1 "$WORK/raw.log")"
fi
if "$CC" "$HERE/main.c" -I"$PREFIX/include" "$A" "$OTHER" "${NATIVE[@]}" -o "$WORK/localized" > "$WORK/loc.log" 2>&1; then
    pass "the installed archive links beside another Rust library"
    if out=$("$WORK/localized"); then pass "and runs: $out"; else fail "and runs: exit $?, $out"; fi
else
    fail "the installed archive beside another Rust library does not link:"; head -n 20 "$WORK/loc.log"
fi

echo "staticlib: $PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
