#!/usr/bin/env bash
# The project's whole test suite, in lanes:
#   fast  fmt, module order, clippy, and every Rust test except the slow ones
#         (`scripts/test.sh fast`; CONTRIBUTING.md gives its time)
#   slow  the Rust tests named in scripts/slow-tests.txt: the C programs under the
#         sanitizers and Valgrind, the phase matrix, the soak and resident memory, and the
#         interop runs against the real g4f servers (`scripts/test.sh slow`)
#   then  fuzzing, the command-line client, make check, install, static library, the release
#         files on a clean machine, the cross checks, FetchContent, the docs, Go and Swift.
# A full run is all three, in that order, and stops after the fast lane when it fails;
# `lanes` runs the first two, `rest` the third (.ci/run installs the chroots meanwhile).
# A missing toolchain or venv is skipped LOUDLY; under CI (CI=true) a skip is a failure,
# since .ci/run installs them. Last line: "N passed, M failed" counting the suites below.
# Each target is built once: the Rust tests' dev build gives the library and the test
# backend to the later suites; `make GLIBC=2.28` builds the release's x86_64 library,
# which scripts/release.sh reuses.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
target=${CARGO_TARGET_DIR:-$root/target}
cache=${BACKEND_API_CACHE:-$HOME/.cache/backend-api}
passed=0 failed=0 skipped=0
failures=()

suite() { # name command...
    local name=$1; shift
    echo
    echo "==== $name"
    local t0=$SECONDS
    if "$@"; then
        passed=$((passed + 1)); echo "==== $name: ok ($((SECONDS - t0)) s)"
    else
        failed=$((failed + 1)); failures+=("$name"); echo "==== $name: FAILED ($((SECONDS - t0)) s)"
    fi
}

skip() { # name reason
    echo
    echo "################################################################"
    echo "#### SKIPPED $1: $2"
    echo "################################################################"
    skipped=$((skipped + 1))
    if [ "${CI:-}" = true ]; then
        failed=$((failed + 1)); failures+=("$1 (skipped under CI)")
    fi
}

lane=${1:-all}   # lanes: fast then slow; rest: what follows them (.ci/run splits a run so)
case $lane in fast | slow | lanes | rest | all) ;; *) echo "usage: $0 [fast|slow|lanes|rest]" >&2; exit 2 ;; esac
wants() { [[ " $* " == *" $lane "* ]]; }
# libtest filters of the slow lane's tests (comments and blank lines dropped).
mapfile -t slow_tests < <(grep -v '^\s*\(#\|$\)' scripts/slow-tests.txt)
skip_slow=()
for t in "${slow_tests[@]}"; do skip_slow+=(--skip "$t"); done

# The fast lane, first: a change that breaks formatting, lints, the module order or
# the Rust tests fails here in a minute or two, before the venvs, toolchains and the matrix.
fast() { # name command...
    suite "$@"
    if [ "$failed" -gt 0 ]; then
        echo
        echo "fast lane failed (${failures[*]}): the long suites were not run"
        exit 1
    fi
}
if wants fast lanes all; then
    fast "cargo fmt --check" cargo fmt --all -- --check
    fast "modules of src/ in dependency order, no import circle" scripts/modules.py --check
    fast "cargo clippy" cargo clippy --workspace --all-targets --quiet -- -D warnings
    # The fuzz targets are a crate of their own (cargo-fuzz's): linted here, so a change of the
    # library's Rust API that breaks them fails in the fast lane, not after it.
    fast "cargo clippy, fuzz targets" cargo clippy --manifest-path fuzz/Cargo.toml --bins --quiet -- -D warnings
    fast "cargo test, fast lane (all but scripts/slow-tests.txt)" cargo test --quiet -- "${skip_slow[@]}"
    if [ "$lane" = fast ]; then
        echo
        echo "fast lane: $passed passed in $SECONDS s"
        exit 0
    fi
fi

# The slow lane. Its interop tests run the real g4f servers and the openai package from
# these venvs (cached; made once).
if wants slow lanes all; then
    suite "g4f venvs" scripts/g4f-venvs.sh
    suite "openai venv" scripts/openai-venv.sh
    suite "cargo test, slow lane (scripts/slow-tests.txt)" cargo test --quiet -- "${slow_tests[@]}"
fi
if ! wants rest all; then
    echo
    echo "$lane: $passed passed, $failed failed in $SECONDS s"
    [ "$failed" -eq 0 ]
    exit
fi

suite "fuzzing, short run" scripts/fuzz.sh "${FUZZ_SECONDS:-30}"

# The Go, Swift and install suites link the shared library and run the test backend.
suite "build the shared library and the test backend" cargo build --quiet --lib --examples
lib_dir=$target/debug
export BACKEND_API_LIB_DIR=$lib_dir
export BACKEND_API_TEST_BACKEND=$target/debug/examples/test_backend
# Programs linked to the library look for its soname (see build.rs).
soname=$(readelf -d "$lib_dir/libbackend_api.so" 2>/dev/null | sed -n 's/.*SONAME.*\[\(.*\)\]/\1/p')
[ -n "$soname" ] && ln -sf libbackend_api.so "$lib_dir/$soname"

suite "command-line client backend-api (tests/cli/run.py)" tests/cli/run.py
# With zig (.ci/install-cargo-tools.sh), `make` links for glibc 2.28 as the release does: the
# release then builds nothing for this machine again.
host=$(rustc -vV | sed -n 's/^host: //p')
if [ -x "$cache/cargo-tools/bin/cargo-zigbuild" ]; then export GLIBC=2.28; fi
suite "C++ wrapper, quick starts and demo (make check)" make -s check
if command -v pkg-config >/dev/null; then
    suite "C/C++ install and pkg-config" tests/install/run.sh
else
    skip "C/C++ install and pkg-config" "pkg-config is not installed (apt-get install pkg-config)"
fi
suite "static library: only the C API is global" \
    tests/staticlib/run.sh "$target/stage" "$target/${GLIBC:+glibc-$GLIBC/}$host/release/libbackend_api.a"
if [ -z "${GLIBC:-}" ]; then
    skip "release files, clean machine" "no zig (run .ci/install-cargo-tools.sh)"
elif [ ! -e "$cache/cross-chroot/.backend-api-chroot-ok" ]; then
    skip "release files, clean machine" "no cross chroot at $cache/cross-chroot (run .ci/install-cross.sh)"
else
    suite "release files (scripts/release.sh)" scripts/release.sh "$target/dist"
    if [ -x "$cache/swift-chroot/usr/libexec/swift/bin/swift" ]; then
        suite "clean machine: archive and .deb, consumers without Rust" tests/clean-machine/run.sh "$target/dist"
    else
        skip "clean machine" "no trixie chroot at $cache/swift-chroot (run .ci/install-swift.sh)"
    fi
fi
if [ -e "$cache/cross-chroot/.backend-api-chroot-ok" ]; then
    suite "Rust 1.85, Windows under Wine, macOS check (scripts/cross.sh)" scripts/cross.sh msrv windows macos
else
    skip "Rust 1.85, Windows, macOS" "no cross chroot at $cache/cross-chroot (run .ci/install-cross.sh)"
fi
if command -v cmake >/dev/null; then
    suite "CMake FetchContent of this repository" tests/fetchcontent/run.sh
else
    skip "CMake FetchContent" "cmake is not installed (apt-get install cmake)"
fi

# README.md and docs/: generated figures, every shell block and C/C++ program run against the
# bundled backend (after `make check` above, scripts/demo.sh recompiles only the crate itself),
# links, once-stale claims. Their Go and Swift programs are built by the binding suites below.
suite "docs (scripts/docs.py check)" scripts/docs.py check

go_bin=${GO:-$(command -v go || ls -d /usr/lib/go-1.2[3-9]/bin/go 2>/dev/null | tail -n 1)}
if [ -n "$go_bin" ] && [ -x "$go_bin" ]; then
    suite "Go binding" env GO="$go_bin" bindings/go/test.sh
else
    skip "Go binding" "no Go toolchain (run .ci/install-go.sh)"
fi

if [ -x "$cache/swift-chroot/usr/libexec/swift/bin/swift" ]; then
    suite "Swift binding" bindings/swift/test.sh
else
    skip "Swift binding" "no Swift chroot at $cache/swift-chroot (run .ci/install-swift.sh)"
fi

echo
[ ${#failures[@]} -gt 0 ] && printf 'failed: %s\n' "${failures[@]}"
[ "$skipped" -gt 0 ] && echo "skipped suites: $skipped (see the banners above)"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
