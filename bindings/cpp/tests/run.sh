#!/usr/bin/env bash
# In-tree test of the C++ wrapper and the quick starts (`make check` runs it):
# compiles bindings/cpp/tests/wrapper_test.cpp, bindings/cpp/examples/{quickstart,tour,tool_loop}.cpp
# and tests/install/consumer.c with -Wall -Wextra -Werror (and more)
# against the static library of the staged tree (`make`: scripts/stage.sh), also an AddressSanitizer/UBSan build of
# the wrapper test (and a valgrind run when valgrind is installed), starts the
# bundled test backend and runs them all; checks that bindings/cpp/README.md quotes
# the example files exactly.
# Needs `make` first (it runs it when the staged tree is missing).
# Env: CARGO_TARGET_DIR (default ./target), STAGE ($CARGO_TARGET_DIR/stage), CC (cc), CXX (c++),
# SANITIZE=0 to skip the sanitizer build and the valgrind run (done when valgrind exists). Last line: "check: N passed, M failed".
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
TARGET=$(realpath -m "${CARGO_TARGET_DIR:-$ROOT/target}")
export CARGO_TARGET_DIR=$TARGET
CC=${CC:-cc}
CXX=${CXX:-c++}

STAGE=${STAGE:-$TARGET/stage}
[ -f "$STAGE/lib/pkgconfig/backend_api.pc" ] && [ -f "$STAGE/lib/libbackend_api.a" ] ||
    make -s -C "$ROOT" build >&2
read -r -a NATIVE < <(sed -n 's/^Libs.private: *//p' "$STAGE/lib/pkgconfig/backend_api.pc")
# shellcheck source=scripts/backend.sh
. "$ROOT/scripts/backend.sh"
BACKEND=$(test_backend)
WORK=$(mktemp -d)
G4F_PID=
cleanup() {
    stop_backend
    if [ -n "$G4F_PID" ]; then kill "$G4F_PID" 2>/dev/null || true; wait "$G4F_PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

PASSED=0 FAILED=0
pass() { PASSED=$((PASSED + 1)); echo "  ok   $*"; }
fail() { FAILED=$((FAILED + 1)); echo "  FAIL $*"; }

CWARN=(-Wall -Wextra -Werror -Wpedantic -Wshadow)
CXXWARN=(-std=c++17 -Wall -Wextra -Werror -Wpedantic -Wshadow -Wconversion -Wsign-conversion -Wold-style-cast)
INC=(-I"$ROOT/include" -I"$ROOT/bindings/cpp/include")
LINK=("$STAGE/lib/libbackend_api.a" "${NATIVE[@]}")

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
compile tool_loop "$CXX" "${CXXWARN[@]}" "${INC[@]}" "$ROOT/bindings/cpp/examples/tool_loop.cpp" "${LINK[@]}" -o "$WORK/tool_loop"
compile many_streams "$CXX" "${CXXWARN[@]}" "${INC[@]}" "$ROOT/bindings/cpp/examples/many_streams.cpp" "${LINK[@]}" -o "$WORK/many_streams"
compile consumer "$CC" -std=c99 "${CWARN[@]}" "${INC[@]}" "$ROOT/tests/install/consumer.c" "${LINK[@]}" -o "$WORK/consumer"
# The C++ header also compiles as C++20, and C programs see the C header alone.
compile header-cxx20 "$CXX" -std=c++20 -Wall -Wextra -Werror -fsyntax-only "${INC[@]}" -x c++ - <<< '#include <backend_api.hpp>'
# A consumer built without exceptions, and the throwing form there (it must abort, not be silent).
compile noexcept_test "$CXX" "${CXXWARN[@]}" -fno-exceptions "${INC[@]}" "$ROOT/bindings/cpp/tests/noexcept_test.cpp" "${LINK[@]}" -o "$WORK/noexcept_test"
compile noexcept_abort "$CXX" "${CXXWARN[@]}" -fno-exceptions "${INC[@]}" -x c++ - -x none "${LINK[@]}" -o "$WORK/noexcept_abort" \
    <<< '#include <backend_api.hpp>
int main() { backend_api::Client("not a url").open(backend_api::Request()); }'
# The benchmark's drain programs (bench/), optimised as the benchmark builds them.
compile drain_c "$CC" -std=c99 -O2 "${CWARN[@]}" "${INC[@]}" "$ROOT/bindings/cpp/bench/drain.c" "${LINK[@]}" -o "$WORK/drain_c"
compile drain_cpp "$CXX" "${CXXWARN[@]}" -O2 "${INC[@]}" "$ROOT/bindings/cpp/bench/drain.cpp" "${LINK[@]}" -o "$WORK/drain_cpp"
# ThreadSanitizer: const members of one Chunk on several threads (its old text cache raced).
# The Rust library is not instrumented: linked as a shared library whose own calls to
# malloc/free and the like TSan leaves alone (called_from_lib), so that only C++ is judged.
if [ "${SANITIZE:-1}" != 0 ]; then
    mkdir -p "$WORK/tsan"
    cp -P "$STAGE"/lib/libbackend_api.so* "$WORK/tsan/"   # the library with its soname links
    echo "called_from_lib:libbackend_api.so" > "$WORK/tsan/suppressions"
    compile wrapper_test-tsan "$CXX" "${CXXWARN[@]}" -g -fsanitize=thread "${INC[@]}" \
        "$ROOT/bindings/cpp/tests/wrapper_test.cpp" -L"$WORK/tsan" -Wl,-rpath,"$WORK/tsan" -lbackend_api \
        -o "$WORK/wrapper_test-tsan"
fi

echo "== every function of the C API reaches the bindings"
if "$ROOT/bindings/c-api-coverage.sh" > "$WORK/coverage.log" 2>&1; then pass "$(tail -n 1 "$WORK/coverage.log")"; else fail "C API coverage:"; cat "$WORK/coverage.log"; fi

echo "== compile-time rejections"
# Each pair: code that must not compile (the message must match), then its sound twin, which must.
PRELUDE='#include <backend_api.hpp>
#include <iostream>
void f(backend_api::Client& client, backend_api::Request& request, backend_api::Stream& stream,
       backend_api::Chunk& chunk, const backend_api::Error& error, std::error_code& ec) {
    (void)client; (void)request; (void)stream; (void)chunk; (void)error; (void)ec;'
rejects() { # name, message regex, rejected code, accepted twin
    local name=$1 want=$2
    printf '%s\n%s;\n}\n' "$PRELUDE" "$3" > "$WORK/reject.cpp"
    printf '%s\n%s;\n}\n' "$PRELUDE" "$4" > "$WORK/accept.cpp"
    if "$CXX" -std=c++17 -fsyntax-only "${INC[@]}" "$WORK/reject.cpp" > "$WORK/reject.log" 2>&1; then
        fail "$name: compiles"
    elif ! grep -Eq "$want" "$WORK/reject.log"; then
        fail "$name: rejected for another reason:"; head -n 5 "$WORK/reject.log"
    elif ! "$CXX" -std=c++17 -Wall -Wextra -Werror -fsyntax-only "${INC[@]}" "$WORK/accept.cpp" > "$WORK/accept.log" 2>&1; then
        fail "$name: the sound twin does not compile:"; head -n 5 "$WORK/accept.log"
    else
        pass "rejected: $name"
    fi
}
rejects "a view from a temporary Chunk" deleted \
    'std::string_view v = backend_api::Chunk().text(); (void)v' 'std::string_view v = chunk.text(); (void)v'
rejects "a field of a chunk moved away" deleted \
    'auto v = std::move(chunk).field("content"); (void)v' 'auto v = chunk.field("content"); (void)v'
rejects "the JSON of the chunk in next()'s temporary optional" deleted \
    'std::string_view v = stream.next().value().json(); (void)v' 'auto c = stream.next(); std::string_view v = c->json(); (void)v'
rejects "chunks(ec) of a temporary stream" deleted \
    'for (auto& c : client.open(request).chunks(ec)) (void)c' \
    'backend_api::Stream s = client.open(request); for (auto& c : s.chunks(ec)) (void)c'
rejects "the chunk of a temporary error" deleted \
    'const backend_api::Chunk* c = backend_api::Error(error).chunk(); (void)c' 'const backend_api::Chunk* c = error.chunk(); (void)c'
rejects "printing a request (it was given the api key)" 'no match for|invalid operands' \
    'std::cout << request' 'std::cout << error.what()'
rejects "printing a client" 'no match for|invalid operands' 'std::cout << client' 'std::cout << chunk.text()'

echo "== starting the test backend"
start_backend "$BACKEND" || { echo "the test backend did not say READY" >&2; exit 1; }
URL=$BACKEND_URL
echo "   $URL"

# The real `g4f api` (tests/interop/g4f_server.py in the venv of scripts/g4f-venvs.sh), as
# tests/cli/run.py runs it: the wrapper test lists its models under both protocols
# (BACKEND_API_G4F_URL; without it that case skips loudly).
g4f_py=${BACKEND_API_CACHE:-$HOME/.cache/backend-api}/venv-g4f-8.8.6/bin/python
if [ -x "$g4f_py" ]; then
    "$g4f_py" "$ROOT/tests/interop/g4f_server.py" --port 0 --quiet --api --no-stdin-watch \
        < /dev/null > "$WORK/g4f.out" 2> /dev/null &
    G4F_PID=$!
    for _ in $(seq 1200); do grep -q '^READY ' "$WORK/g4f.out" && break; sleep 0.1; done
    if port=$(sed -n 's/^READY \([0-9]*\)$/\1/p' "$WORK/g4f.out") && [ -n "$port" ]; then
        export BACKEND_API_G4F_URL=http://127.0.0.1:$port
        echo "   real g4f api at $BACKEND_API_G4F_URL"
    else
        echo "   !!! the real g4f api did not start: its test case skips"
    fi
else
    echo "   !!! no g4f venv at $g4f_py (scripts/g4f-venvs.sh): the real g4f api case skips"
fi
if [ -z "${BACKEND_API_G4F_URL:-}" ] && [ "${CI:-}" = true ]; then
    echo "   !!! under CI the real g4f api must run (scripts/g4f-venvs.sh makes its venv)" >&2
    exit 1
fi

run_wrapper() { # name, command... (the URL is appended); a run that hangs for 10 minutes fails
    local name=$1 log=$WORK/$1.out; shift
    if [ ! -x "${!#}" ]; then fail "$name (not built)"; return; fi
    if timeout 600 "$@" "$URL" > "$log" 2>&1; then pass "$name: $(tail -n 1 "$log")"; else fail "$name: $(tail -n 1 "$log")"; cat "$log"; fi
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
    WRAPPER_TEST_ONLY="const chunk" TSAN_OPTIONS="halt_on_error=1 suppressions=$WORK/tsan/suppressions" run_wrapper wrapper_test-tsan "$WORK/wrapper_test-tsan"
fi
run_wrapper "C++ built with -fno-exceptions" "$WORK/noexcept_test"
abort_out=$("$WORK/noexcept_abort" 2>&1) && abort_rc=0 || abort_rc=$?
[ "$abort_rc" = 134 ] && [[ $abort_out == *"built without exceptions"* ]] &&
    pass "without exceptions, a throwing form aborts and says why" || fail "noexcept_abort: exit $abort_rc: $abort_out"

echo "== drain programs (bench/)"
run_drain() { # name, program, N (the URL goes first)
    if timeout 600 "$2" "$URL" "$3" > "$WORK/drain.out" 2>&1; then pass "$1"; else fail "$1: $(cat "$WORK/drain.out")"; fi
}
run_drain "C drain of 1000 chunks" "$WORK/drain_c" 1000
run_drain "C++ drain of 1000 chunks" "$WORK/drain_cpp" 1000
for d in drain_c drain_cpp; do
    "$WORK/$d" http://127.0.0.1:1 10 > /dev/null 2>&1 && rc=0 || rc=$?
    [ "$rc" = 1 ] && pass "$d fails without its chunks (exit 1)" || fail "$d without a server: exit $rc"
done

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
expect_output "C++ tool loop (tool_loop.cpp), the test backend's scripted agent" "The weather in Paris" \
    "$WORK/tool_loop" "$URL/v1" test-model 'test_openai="agent"'
ms_out=$("$WORK/many_streams" "$URL" one two three 2>&1) && ms_rc=0 || ms_rc=$?
[ "$ms_rc" = 0 ] && [[ $ms_out == *"one -> "*"You said: one"* && $ms_out == *"two -> "*"You said: two"* &&
    $ms_out == *"three -> "*"You said: three"* ]] && pass "C++ many_streams.cpp: 3 answers from one thread" ||
    fail "C++ many_streams.cpp (exit $ms_rc): $ms_out"
qs_out=$("$WORK/quickstart" http://127.0.0.1:1 x 2>&1) && qs_rc=0 || qs_rc=$?
[ "$qs_rc" = 1 ] && [[ $qs_out == *"error (CONNECT)"* ]] && pass "C++ quick start, connection refused: exit 1" ||
    fail "C++ quick start, connection refused: exit $qs_rc: $qs_out"

echo "== README quotes"
if bash "$ROOT/bindings/cpp/tests/readme_snippets.sh" "$ROOT/bindings/cpp/README.md" > "$WORK/readme.log" 2>&1; then
    pass "bindings/cpp/README.md quotes the example files exactly ($(grep -c '^  ok' "$WORK/readme.log") blocks)"
else
    fail "bindings/cpp/README.md differs from the files it quotes:"; cat "$WORK/readme.log"
fi

echo "check: $PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
