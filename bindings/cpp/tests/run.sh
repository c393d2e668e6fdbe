#!/usr/bin/env bash
# In-tree test of the C++ wrapper and the quick starts (`make check` runs it):
# compiles bindings/cpp/tests/wrapper_test.cpp, bindings/cpp/examples/{quickstart,tour}.cpp
# and tests/install/consumer.c with -Wall -Wextra -Werror (and more)
# against the freshly built static library, also an AddressSanitizer/UBSan build of
# the wrapper test (and a valgrind run when valgrind is installed), starts the
# bundled test backend and runs them all; checks that bindings/cpp/README.md quotes
# the example files exactly.
# Needs `make build` first (it runs it when its output is missing).
# Env: CARGO_TARGET_DIR (default ./target), CC (cc), CXX (c++), CARGO (cargo),
# SANITIZE=0 to skip the sanitizer build and the valgrind run (done when valgrind exists). Last line: "check: N passed, M failed".
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
TARGET=$(realpath -m "${CARGO_TARGET_DIR:-$ROOT/target}")
export CARGO_TARGET_DIR=$TARGET
RELEASE=$TARGET/release
CC=${CC:-cc}
CXX=${CXX:-c++}
CARGO=${CARGO:-cargo}

[ -f "$RELEASE/backend_api.native-static-libs" ] && [ -f "$RELEASE/libbackend_api.a" ] ||
    make -s -C "$ROOT" build >&2
read -r -a NATIVE < "$RELEASE/backend_api.native-static-libs"
echo "== building the test backend" >&2
"$CARGO" build --release --quiet --manifest-path "$ROOT/Cargo.toml" --example test_backend >&2
BACKEND=$RELEASE/examples/test_backend

# shellcheck source=scripts/backend.sh
. "$ROOT/scripts/backend.sh"
WORK=$(mktemp -d)
cleanup() {
    stop_backend
    rm -rf "$WORK"
}
trap cleanup EXIT

PASSED=0 FAILED=0
pass() { PASSED=$((PASSED + 1)); echo "  ok   $*"; }
fail() { FAILED=$((FAILED + 1)); echo "  FAIL $*"; }

CWARN=(-Wall -Wextra -Werror -Wpedantic -Wshadow)
CXXWARN=(-std=c++17 -Wall -Wextra -Werror -Wpedantic -Wshadow -Wconversion -Wsign-conversion -Wold-style-cast)
INC=(-I"$ROOT/include" -I"$ROOT/bindings/cpp/include")
LINK=("$RELEASE/libbackend_api.a" "${NATIVE[@]}")

compile() { # name, command...
    local name=$1; shift
    if "$@" > "$WORK/$name.log" 2>&1; then pass "compile $name"; else fail "compile $name"; cat "$WORK/$name.log"; fi
}

echo "== compiling"
compile wrapper_test "$CXX" "${CXXWARN[@]}" -g "${INC[@]}" "$ROOT/bindings/cpp/tests/wrapper_test.cpp" "${LINK[@]}" -o "$WORK/wrapper_test"
if [ "${SANITIZE:-1}" != 0 ]; then
    compile wrapper_test-asan "$CXX" "${CXXWARN[@]}" -g -fsanitize=address,undefined -fno-sanitize-recover=all \
        "${INC[@]}" "$ROOT/bindings/cpp/tests/wrapper_test.cpp" "${LINK[@]}" -o "$WORK/wrapper_test-asan"
fi
compile quickstart "$CXX" "${CXXWARN[@]}" "${INC[@]}" "$ROOT/bindings/cpp/examples/quickstart.cpp" "${LINK[@]}" -o "$WORK/quickstart"
compile tour "$CXX" "${CXXWARN[@]}" "${INC[@]}" "$ROOT/bindings/cpp/examples/tour.cpp" "${LINK[@]}" -o "$WORK/tour"
compile consumer "$CC" -std=c99 "${CWARN[@]}" "${INC[@]}" "$ROOT/tests/install/consumer.c" "${LINK[@]}" -o "$WORK/consumer"
# The C++ header also compiles as C++20, and C programs see the C header alone.
compile header-cxx20 "$CXX" -std=c++20 -Wall -Wextra -Werror -fsyntax-only "${INC[@]}" -x c++ - <<< '#include <backend_api.hpp>'

echo "== starting the test backend"
start_backend "$BACKEND" || { echo "the test backend did not say READY" >&2; exit 1; }
URL=$BACKEND_URL
echo "   $URL"

run_wrapper() { # name, command... (the URL is appended)
    local name=$1 log=$WORK/$1.out; shift
    if [ ! -x "${!#}" ]; then fail "$name (not built)"; return; fi
    if "$@" "$URL" > "$log" 2>&1; then pass "$name: $(tail -n 1 "$log")"; else fail "$name: $(tail -n 1 "$log")"; cat "$log"; fi
}
echo "== C++ wrapper test"
run_wrapper wrapper_test "$WORK/wrapper_test"
if [ "${SANITIZE:-1}" != 0 ]; then
    run_wrapper wrapper_test-asan "$WORK/wrapper_test-asan"  # leak detection on
    if command -v valgrind > /dev/null; then
        WRAPPER_TEST_SLOW=10 run_wrapper wrapper_test-valgrind valgrind -q --error-exitcode=9 --leak-check=full \
            --errors-for-leak-kinds=definite --show-possibly-lost=no --log-file="$WORK/valgrind.log" "$WORK/wrapper_test"
        if [ -s "$WORK/valgrind.log" ]; then sed 's/^/       /' "$WORK/valgrind.log"; fi
    else
        echo "  (valgrind not installed: skipped)"
    fi
fi

echo "== quick starts"
expect_output() { # name, expected substring, command...
    local name=$1 want=$2; shift 2
    local out rc=0
    out=$("$@" 2>&1) || rc=$?
    if [ "$rc" = 0 ] && [[ $out == *"$want"* ]]; then pass "$name"; else fail "$name (exit $rc): $out"; fi
}
expect_output "C quick start (consumer.c)" "You said: hello from C" "$WORK/consumer" "$URL" "hello from C"
expect_output "C++ quick start (quickstart.cpp)" "You said: hello from C++" "$WORK/quickstart" "$URL" "hello from C++"
expect_output "C++ tour (tour.cpp)" "You said: What is in this picture?" "$WORK/tour" "$URL"

echo "== README quotes"
if bash "$ROOT/bindings/cpp/tests/readme_snippets.sh" "$ROOT/bindings/cpp/README.md" > "$WORK/readme.log" 2>&1; then
    pass "bindings/cpp/README.md quotes the example files exactly ($(grep -c '^  ok' "$WORK/readme.log") blocks)"
else
    fail "bindings/cpp/README.md differs from the files it quotes:"; cat "$WORK/readme.log"
fi

echo "check: $PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
