#!/usr/bin/env bash
# Installation test: `make` (cargo, staged tree), then `make install` into a temporary
# prefix with NO cargo or rustc reachable (install never builds), then build consumers
# against the INSTALLED copy with nothing but pkg-config (sources copied out of the
# repository, so no in-tree header can leak in):
#   - tests/install/consumer.c (bindings/cpp/README.md's C quick start), dynamic and static;
#   - bindings/cpp/examples/quickstart.cpp (bindings/cpp/README.md's C++ quick start), dynamic;
#   - bindings/cpp/tests/wrapper_test.cpp (the C++ wrapper's test), dynamic and static;
# runs them and the installed command-line client against the bundled test backend, checks
# the soname and the symlinks (readelf -d), that a DESTDIR install lays out the same files,
# that `make uninstall` removes everything, the CMake package (when cmake is installed), and
# docs/install.md's in-tree build line (target/stage, no install).
# Env: CARGO_TARGET_DIR (default ./target), CC (cc), CXX (c++), KEEP=1
# keeps the temporary directory. Last line: "install: N passed, M failed"; exit 1 on failure.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TARGET=$(realpath -m "${CARGO_TARGET_DIR:-$ROOT/target}")
export CARGO_TARGET_DIR=$TARGET
CC=${CC:-cc}
CXX=${CXX:-c++}
MAKE=${MAKE:-make}

for tool in pkg-config readelf "$CC" "$CXX"; do
    command -v "$tool" > /dev/null || { echo "install test: $tool is missing" >&2; exit 1; }
done

WORK=$(mktemp -d)
PREFIX=$WORK/prefix
# shellcheck source=scripts/backend.sh
. "$ROOT/scripts/backend.sh"
cleanup() {
    stop_backend
    if [ "${KEEP:-0}" = 1 ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

PASSED=0 FAILED=0
pass() { PASSED=$((PASSED + 1)); echo "  ok   $*"; }
fail() { FAILED=$((FAILED + 1)); echo "  FAIL $*"; }
check() { # description, command...
    local what=$1; shift
    if "$@" > "$WORK/check.log" 2>&1; then pass "$what"; else fail "$what"; sed 's/^/       /' "$WORK/check.log"; fi
}

VERSION=$(sed -n 's/^version *= *"\([0-9][0-9.]*\)".*/\1/p' "$ROOT/Cargo.toml" | head -n 1)
IFS=. read -r MAJOR MINOR _ <<< "$VERSION"
if [ "$MAJOR" = 0 ]; then SONAME=libbackend_api.so.0.$MINOR; else SONAME=libbackend_api.so.$MAJOR; fi

echo "== make (cargo build, staged in $TARGET/stage)"
"$MAKE" -s -C "$ROOT" > "$WORK/build.log" 2>&1 || { cat "$WORK/build.log"; echo "install: make failed"; exit 1; }
pass "make"

echo "== make install PREFIX=$PREFIX, without cargo or rustc"
# cargo and rustc on PATH are stand-ins that fail and leave a mark: install must not build.
mkdir -p "$WORK/norust"
for tool in cargo rustc; do
    printf '#!/bin/sh\ntouch %s/%s.called; exit 1\n' "$WORK" "$tool" > "$WORK/norust/$tool"
    chmod +x "$WORK/norust/$tool"
done
PATH="$WORK/norust:$PATH" CARGO=false "$MAKE" -s -C "$ROOT" install PREFIX="$PREFIX" > "$WORK/install.log" 2>&1 || {
    cat "$WORK/install.log"; echo "install: make install failed"; exit 1; }
pass "make install"
check "make install ran neither cargo nor rustc" test ! -e "$WORK/cargo.called" -a ! -e "$WORK/rustc.called"

echo "== layout"
L=$PREFIX/lib
check "the library file is $SONAME's target libbackend_api.so.$VERSION" test -f "$L/libbackend_api.so.$VERSION" -a ! -L "$L/libbackend_api.so.$VERSION"
check "$SONAME -> libbackend_api.so.$VERSION" test "$(readlink "$L/$SONAME")" = "libbackend_api.so.$VERSION"
check "libbackend_api.so -> libbackend_api.so.$VERSION" test "$(readlink -f "$L/libbackend_api.so")" = "$(readlink -f "$L/libbackend_api.so.$VERSION")"
check "readelf -d shows SONAME $SONAME" bash -c "readelf -d '$L/libbackend_api.so.$VERSION' | grep -F '(SONAME)' | grep -qF '[$SONAME]'"
check "static library installed" test -f "$L/libbackend_api.a"
check "headers installed (C and C++)" test -f "$PREFIX/include/backend_api.h" -a -f "$PREFIX/include/backend_api.hpp"
check "CMake package installed" test -f "$L/cmake/backend_api/backend_apiConfig.cmake" -a -f "$L/cmake/backend_api/backend_apiConfigVersion.cmake"
check "command-line client installed" test -x "$PREFIX/bin/backend-api"

echo "== pkg-config"
export PKG_CONFIG_PATH=$L/pkgconfig
unset PKG_CONFIG_LIBDIR PKG_CONFIG_SYSROOT_DIR CPATH C_INCLUDE_PATH CPLUS_INCLUDE_PATH LIBRARY_PATH LD_LIBRARY_PATH
check "pkg-config --modversion backend_api = $VERSION" test "$(pkg-config --modversion backend_api)" = "$VERSION"
read -r CFLAGS_OUT < <(pkg-config --cflags backend_api)  # read drops pkg-config's trailing blank
check "pkg-config --cflags points into the prefix" test "$CFLAGS_OUT" = "-I$PREFIX/include"
check "pkg-config --static --libs lists Rust's native libs" bash -c "pkg-config --static --libs backend_api | grep -q -- -lpthread"
check "pkg-config --variable=prefix backend_api = $PREFIX" test "$(pkg-config --variable=prefix backend_api)" = "$PREFIX"
echo "   dynamic: $(pkg-config --cflags --libs backend_api)"
echo "   static:  $(pkg-config --static --cflags --libs backend_api-static)"

echo "== building consumers from copies of their sources"
SRC=$WORK/src
mkdir -p "$SRC" "$WORK/bin"
cp "$ROOT/tests/install/consumer.c" "$ROOT/bindings/cpp/examples/quickstart.cpp" "$ROOT/bindings/cpp/tests/wrapper_test.cpp" "$SRC/"
RPATH=-Wl,-rpath,$(pkg-config --variable=libdir backend_api)
# shellcheck disable=SC2046  # pkg-config output is meant to be split
{
    check "C consumer, dynamic" "$CC" -std=c99 -Wall -Wextra -Werror "$SRC/consumer.c" -o "$WORK/bin/consumer" \
        $(pkg-config --cflags --libs backend_api) "$RPATH"
    check "C consumer, static" "$CC" -std=c99 -Wall -Wextra -Werror "$SRC/consumer.c" -o "$WORK/bin/consumer-static" \
        $(pkg-config --static --cflags --libs backend_api-static)
    check "C++ quick start, dynamic" "$CXX" -std=c++17 -Wall -Wextra -Werror "$SRC/quickstart.cpp" -o "$WORK/bin/quickstart" \
        $(pkg-config --cflags --libs backend_api) "$RPATH"
    check "C++ wrapper test, dynamic" "$CXX" -std=c++17 -Wall -Wextra -Werror "$SRC/wrapper_test.cpp" -o "$WORK/bin/wrapper_test" \
        $(pkg-config --cflags --libs backend_api) "$RPATH"
    check "C++ wrapper test, static" "$CXX" -std=c++17 -Wall -Wextra -Werror "$SRC/wrapper_test.cpp" -o "$WORK/bin/wrapper_test-static" \
        $(pkg-config --static --cflags --libs backend_api-static)
}
needed() { readelf -d "$1" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\].*/\1/p'; }
check "dynamic consumer needs $SONAME" bash -c "readelf -d '$WORK/bin/consumer' | grep -F '(NEEDED)' | grep -qF '[$SONAME]'"
check "dynamic consumer loads it from the prefix" bash -c "ldd '$WORK/bin/consumer' | grep -F '$SONAME' | grep -qF '$L/'"
check "static consumer needs no libbackend_api" bash -c "! readelf -d '$WORK/bin/consumer-static' | grep -F '(NEEDED)' | grep -q backend_api"
echo "   static consumer needs: $(needed "$WORK/bin/consumer-static" | tr '\n' ' ')"

echo "== running them against the test backend"
start_backend "$(test_backend)" || { echo "the test backend did not say READY" >&2; exit 1; }
URL=$BACKEND_URL
echo "   $URL"
answers() { # binary, message
    local out
    out=$("$1" "$URL" "$2") && [[ $out == *"You said: $2"* ]] || { echo "output: $out"; return 1; }
}
check "C consumer (dynamic) streams an answer" answers "$WORK/bin/consumer" "installed dynamic"
client() { local out; out=$("$PREFIX/bin/backend-api" --url "$URL" "$1") && [[ $out == *"You said: $1"* ]] || { echo "output: $out"; return 1; }; }
check "installed command-line client streams an answer (finds its library by \$ORIGIN)" client "installed client"
check "C consumer (static) streams an answer" answers "$WORK/bin/consumer-static" "installed static"
check "C++ quick start streams an answer" answers "$WORK/bin/quickstart" "installed C++"
for t in wrapper_test wrapper_test-static; do
    if "$WORK/bin/$t" "$URL" > "$WORK/$t.log" 2>&1; then pass "$t: $(tail -n 1 "$WORK/$t.log")"; else
        fail "$t: $(tail -n 1 "$WORK/$t.log")"; cat "$WORK/$t.log"; fi
done

if command -v cmake > /dev/null; then
    echo "== CMake package"
    mkdir -p "$WORK/cmake"
    cp "$SRC/consumer.c" "$SRC/quickstart.cpp" "$WORK/cmake/"
    cat > "$WORK/cmake/CMakeLists.txt" <<EOF
cmake_minimum_required(VERSION 3.14)
project(consumer C CXX)
find_package(backend_api $MAJOR.$MINOR REQUIRED)
add_executable(consumer consumer.c)
target_link_libraries(consumer PRIVATE backend_api::backend_api)
add_executable(consumer_static consumer.c)
target_link_libraries(consumer_static PRIVATE backend_api::backend_api_static)
add_executable(quickstart quickstart.cpp)
target_link_libraries(quickstart PRIVATE backend_api::cpp)
EOF
    check "cmake configure (find_package(backend_api $MAJOR.$MINOR))" \
        cmake -S "$WORK/cmake" -B "$WORK/cmake/build" -DCMAKE_PREFIX_PATH="$PREFIX" -DCMAKE_BUILD_TYPE=Release
    check "cmake build" cmake --build "$WORK/cmake/build"
    check "CMake consumer (shared) streams an answer" answers "$WORK/cmake/build/consumer" "cmake shared"
    check "CMake consumer (static) streams an answer" answers "$WORK/cmake/build/consumer_static" "cmake static"
    check "CMake C++ quick start streams an answer" answers "$WORK/cmake/build/quickstart" "cmake C++"
    # The version file: another ABI is refused.
    if [ "$MAJOR" = 0 ]; then OTHER=0.$((MINOR + 1)); else OTHER=$((MAJOR + 1)).0; fi
    sed -i "s/find_package(backend_api $MAJOR.$MINOR REQUIRED)/find_package(backend_api $OTHER REQUIRED)/" "$WORK/cmake/CMakeLists.txt"
    check "find_package(backend_api $OTHER) is refused" bash -c "! cmake -S '$WORK/cmake' -B '$WORK/cmake/build2' -DCMAKE_PREFIX_PATH='$PREFIX'"
else
    echo "== CMake package: cmake not installed, skipped"
fi

echo "== docs/install.md's in-tree build line (no install)"
line=$(grep -m1 '^cc app.c -Itarget/stage' "$ROOT/docs/install.md" || true)
if [ -z "$line" ]; then
    fail "docs/install.md has no line 'cc app.c -Itarget/stage...'"
elif [ "$TARGET" != "$ROOT/target" ]; then
    echo "   (CARGO_TARGET_DIR is not ./target: the line does not apply; not checked)"
else
    check "docs/install.md: $line" bash -c "cd '$ROOT' && ${line/app.c/$SRC/consumer.c} -o '$WORK/bin/intree'"
    check "the in-tree build streams an answer" answers "$WORK/bin/intree" "in-tree"
fi

echo "== DESTDIR and uninstall"
"$MAKE" -s -C "$ROOT" install PREFIX=/opt/backend_api DESTDIR="$WORK/stage" > "$WORK/stage.log" 2>&1 ||
    { cat "$WORK/stage.log"; fail "make install DESTDIR=..."; }
check "DESTDIR install lays out the same files" \
    diff <(cd "$PREFIX" && find . -not -type d | sort) <(cd "$WORK/stage/opt/backend_api" && find . -not -type d | sort)
check "DESTDIR install keeps the final prefix in the .pc" grep -qx 'prefix=/opt/backend_api' "$WORK/stage/opt/backend_api/lib/pkgconfig/backend_api.pc"
"$MAKE" -s -C "$ROOT" uninstall PREFIX="$PREFIX" > /dev/null 2>&1 || fail "make uninstall"
check "make uninstall removes every file" test -z "$(find "$PREFIX" -not -type d)"

echo "install: $PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
