#!/usr/bin/env bash
# FetchContent consumer test: a CMake project (tests/fetchcontent/CMakeLists.txt, copied out
# of the repository) declares backend-api with FetchContent from a local git URL of this
# repository at its HEAD commit, builds it through the root CMakeLists.txt (cargo, dev
# profile, the shared target folder to stay lean) and links a C program to
# backend_api::backend_api and the C++ quick start to backend_api::cpp; both stream an answer
# from the test backend. Uncommitted changes are not part of it (git clones HEAD).
# Env: CARGO_TARGET_DIR (./target). Last line "fetchcontent: N passed, M failed".
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
TARGET=$(realpath -m "${CARGO_TARGET_DIR:-$ROOT/target}")
WORK=$(mktemp -d)
# shellcheck source=scripts/backend.sh
. "$ROOT/scripts/backend.sh"
trap 'stop_backend; rm -rf "$WORK"' EXIT
PASSED=0 FAILED=0
check() { # description, command...
    local what=$1; shift
    if "$@" > "$WORK/check.log" 2>&1; then PASSED=$((PASSED + 1)); echo "  ok   $what"
    else FAILED=$((FAILED + 1)); echo "  FAIL $what"; tail -n 40 "$WORK/check.log" | sed 's/^/       /'; fi
}
answers() { local out; out=$("$1" "$URL" "$2" 2>&1) && [[ $out == *"You said: $2"* ]] || { echo "output: $out"; return 1; }; }

REV=$(git -C "$ROOT" rev-parse HEAD)
cp "$HERE/CMakeLists.txt" "$ROOT/tests/install/consumer.c" "$ROOT/bindings/cpp/examples/quickstart.cpp" "$WORK/"
echo "== FetchContent from file://$ROOT at $REV"
check "cmake configure (FetchContent_MakeAvailable)" cmake -S "$WORK" -B "$WORK/build" \
    -DBACKEND_API_GIT="file://$ROOT" -DBACKEND_API_REV="$REV" \
    -DBACKEND_API_CARGO_PROFILE=dev -DBACKEND_API_CARGO_TARGET_DIR="$TARGET"
check "the fetched copy is a clone at $REV" \
    test "$(git -C "$WORK/build/_deps/backend_api-src" rev-parse HEAD)" = "$REV"
check "cmake build (cargo builds the library first)" cmake --build "$WORK/build"

"$(command -v cargo)" build --quiet --manifest-path "$ROOT/Cargo.toml" --example test_backend
start_backend "$TARGET/debug/examples/test_backend" || { echo "the test backend did not say READY" >&2; exit 1; }
URL=$BACKEND_URL
check "C program (backend_api::backend_api) streams an answer" answers "$WORK/build/consumer" "fetched C"
check "C++ quick start (backend_api::cpp) streams an answer" answers "$WORK/build/quickstart" "fetched C++"
echo "fetchcontent: $PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
