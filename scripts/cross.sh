#!/usr/bin/env bash
# Usage: scripts/cross.sh JOB...     JOB: msrv, windows, macos
#
# Builds and tests what this Linux machine can for other Rust versions and platforms, inside
# the cross chroot (.ci/install-cross.sh: Debian 13's rustc 1.85.1 with rust-src, mingw-w64,
# Wine, zig); run from the host, it enters the chroot itself (scripts/in-chroot.sh, the
# repository bind-mounted at the same path). Target folder: target/cross.
#   msrv     `cargo build` and the fast lane's `cargo test` (scripts/slow-tests.txt lists
#            what it leaves to the host) with rustc 1.85.1, the declared rust-version
#   windows  x86_64-pc-windows-gnu: the release's tree (scripts/release.sh --in-cross windows,
#            std built from rust-src with -Zbuild-std; a no-op when the release built it):
#            the DLL exports, the .def, the MSVC import library's stubs and the static
#            library's globals (localised with mingw's binutils) are exactly the header's functions;
#            tests/c/abi_test.c compiled with mingw against the DLL and against the static
#            library, and tests/c/windows_test.c (WSAPoll on the stream's socket, a media file
#            by a Windows path, a proxy from the environment, TLS with and without the CA),
#            all run under Wine against the bundled test backend and an `openssl s_server`
#            with the test certificate (both on the host's loopback; the chroot shares it)
#   macos    `cargo check` for aarch64-apple-darwin and x86_64-apple-darwin with zig as the C
#            compiler (no Apple SDK or machine here: nothing is linked or run)
# Last line: "cross: N passed, M failed".
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
[ $# -ge 1 ] || { echo "usage: $0 msrv|windows|macos..." >&2; exit 2; }

if [ ! -x /opt/zig/zig ]; then   # on the host: start the servers the tests use, enter the chroot
    # shellcheck source=scripts/backend.sh
    . "$ROOT/scripts/backend.sh"
    TLS_PID=
    # shellcheck disable=SC2317  # called from the EXIT trap
    stop() { stop_backend; if [ -n "$TLS_PID" ]; then kill "$TLS_PID"; wait "$TLS_PID" 2>/dev/null || true; fi; }
    trap stop EXIT
    if [[ " $* " == *" windows "* ]]; then
        start_backend "$(test_backend)" ||
            { echo "cross: the test backend did not say READY" >&2; exit 1; }
        # A TLS server with the test certificate of tests/tls (CA tests/tls/ca.pem).
        tls_log=$(mktemp)
        openssl s_server -accept 127.0.0.1:0 -www -cert "$ROOT/tests/tls/server.pem" \
            -key "$ROOT/tests/tls/server.key" > "$tls_log" 2>&1 &
        TLS_PID=$!
        for _ in $(seq 50); do grep -q '^ACCEPT' "$tls_log" && break; sleep 0.1; done
        HTTPS_URL=https://127.0.0.1:$(sed -n 's/^ACCEPT .*:\([0-9]*\)$/\1/p' "$tls_log")
        rm -f "$tls_log"
    fi
    export BACKEND_URL HTTPS_URL
    CHROOT_ENV="BACKEND_URL HTTPS_URL" "$ROOT/scripts/in-chroot.sh" cross-chroot "$ROOT" -- "$ROOT/scripts/cross.sh" "$@"
    exit
fi

# Inside the chroot: Debian's cargo and rustc; crates.io through the host's CA bundle.
export CARGO_HTTP_CAINFO=/etc/ssl/certs/ca-certificates.crt CARGO_TARGET_DIR=$ROOT/target/cross
cd "$ROOT"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
PASSED=0 FAILED=0
check() { # description, command...
    local what=$1; shift
    local t0=$SECONDS
    if "$@" > "$WORK/check.log" 2>&1; then PASSED=$((PASSED + 1)); echo "  ok   $what ($((SECONDS - t0)) s)"
    else FAILED=$((FAILED + 1)); echo "  FAIL $what"; tail -n 40 "$WORK/check.log" | sed 's/^/       /'; fi
}
api() { # the functions backend_api.h declares, one a line
    gcc -E -P -x c include/backend_api.h | grep -o '\bbackend_api_[a-z0-9_]*\s*(' | tr -d ' (' | sort -u
}
# `cargo SUBCOMMAND "${STD[@]}"` for a target whose std Debian does not ship: built from rust-src.
STD=(--locked -Zbuild-std=std,panic_unwind)
export RUSTC_BOOTSTRAP=1   # for -Z on Debian's stable rustc (the msrv job runs without it)

msrv() {
    echo "== $(rustc --version): build and test"
    check "cargo build (rust-version $(sed -n 's/^rust-version = "\(.*\)"/\1/p' Cargo.toml))" \
        env -u RUSTC_BOOTSTRAP cargo build --locked --lib --examples
    # CI is not passed on: without the host's g4f venvs the interop tests skip instead of failing.
    # The fast lane's tests (scripts/slow-tests.txt lists the rest, which the host runs): the
    # C programs, the phase matrix and the soak exercise the same C ABI whatever rustc built it.
    local skip=() t
    while read -r t; do skip+=(--skip "$t"); done < <(grep -v '^\s*\(#\|$\)' scripts/slow-tests.txt)
    check "cargo test (the fast lane's tests)" env -u CI -u RUSTC_BOOTSTRAP cargo test --locked -- "${skip[@]}"
    grep -E '^test result:' "$WORK/check.log" | awk '{p += $4; f += $6} END {print "   cargo test: " p " passed, " f " failed"}'
}

windows() {
    local T=x86_64-pc-windows-gnu
    local OUT=$CARGO_TARGET_DIR/$T/release/stage
    echo "== $T"
    # The release's Windows tree (scripts/release.sh builds it, here or before: built once).
    check "the release tree: DLL, import libraries, localised static library (scripts/release.sh --in-cross windows)" \
        scripts/release.sh --in-cross windows "$T"
    sed -n 's/^Libs.private: *//p' "$OUT/lib/pkgconfig/backend_api.pc" > "$WORK/native-libs"
    api > "$WORK/api.txt"
    x86_64-w64-mingw32-objdump -p "$OUT/bin/backend_api.dll" \
        | awk '/\[Ordinal\/Name Pointer\] Table/ {on = 1; next} on && !/^\t\[/ && !/Ordinal/ {on = 0} on && /^\t\[/ {print $NF}' \
        | sort -u > "$WORK/exports.txt"
    check "the DLL exports exactly the header's $(wc -l < "$WORK/api.txt") functions" diff "$WORK/api.txt" "$WORK/exports.txt"
    awk '$1 != "EXPORTS" {print $1}' "$OUT/lib/backend_api.def" | sort -u > "$WORK/def.txt"
    check "backend_api.def (the MSVC import library's source) lists exactly them" diff "$WORK/api.txt" "$WORK/def.txt"
    # Each function's stub X and its import address __imp_X, nothing else.
    llvm-nm "$OUT/lib/backend_api.lib" | awk '$2 == "T" {sub(/^__imp_/, "", $3); print $3}' | sort | uniq -c \
        | awk '$1 == 2 {print $2}' > "$WORK/lib.txt"
    check "backend_api.lib (MSVC import library) defines exactly their stubs and __imp_ pointers" \
        diff "$WORK/api.txt" "$WORK/lib.txt"
    # The Rust code's globals, in the one object; the import-library members beside it
    # define only their DLL stubs (__imp_X, X, _head_...), pulled in one at a time.
    x86_64-w64-mingw32-nm -g --defined-only "$OUT/lib/libbackend_api.a" \
        | awk '/:$/ {member = $1} member == "backend_api.o:" && NF == 3 {print $3}' | sort -u > "$WORK/globals.txt"
    check "the static library's object's global symbols are exactly the header's functions" diff "$WORK/api.txt" "$WORK/globals.txt"

    # The C ABI test program, against the DLL (next to the .exe, where Windows looks) and static.
    mkdir -p "$WORK/win"
    cp "$OUT/bin/backend_api.dll" "$WORK/win/"
    local CFLAGS=(-std=c11 -O1 -Wall -Wextra -Werror -Iinclude -Itests/c)
    check "mingw: abi_test.exe against the DLL" x86_64-w64-mingw32-gcc "${CFLAGS[@]}" tests/c/abi_test.c \
        "$OUT/lib/libbackend_api.dll.a" -static -lpthread -o "$WORK/win/abi_test.exe"
    read -r -a native < "$WORK/native-libs"
    check "mingw: abi_test-static.exe against the localised static library" x86_64-w64-mingw32-gcc "${CFLAGS[@]}" \
        tests/c/abi_test.c "$OUT/lib/libbackend_api.a" "${native[@]}" -static -lpthread -o "$WORK/win/abi_test-static.exe"
    export WINEDEBUG=-all WINEPREFIX=$CARGO_TARGET_DIR/wine
    local wine=/usr/lib/wine/wine64
    [ -x "$wine" ] || wine=$(command -v wine)
    check "mingw: windows_test.exe (WSAPoll, media path, proxy, TLS)" x86_64-w64-mingw32-gcc "${CFLAGS[@]}" \
        tests/c/windows_test.c "$OUT/lib/libbackend_api.dll.a" -lws2_32 -static -lpthread -o "$WORK/win/windows_test.exe"
    for run in "abi_test $BACKEND_URL" "abi_test-static $BACKEND_URL" \
            "windows_test $BACKEND_URL $HTTPS_URL Z:$ROOT/tests/tls/ca.pem"; do
        read -r -a args <<< "$run"
        check "wine ${args[0]}.exe" timeout 300 "$wine" "$WORK/win/${args[0]}.exe" "${args[@]:1}"
        grep -E 'passed|woke|took|WSAPoll|media|PROXY|TLS' "$WORK/check.log" | sed 's/^/   /' | tr -d '\r'
        tail -n 1 "$WORK/check.log" | tr -d '\r' | grep -q ' passed, 0 failed$' ||
            { FAILED=$((FAILED + 1)); echo "  FAIL ${args[0]}.exe did not end with 'N passed, 0 failed'"; }
    done
}

macos() {
    local T arch
    for T in aarch64-apple-darwin x86_64-apple-darwin; do
        arch=${T%%-*}
        # cc-rs adds --target=/-arch flags zig does not take; zig's own -target replaces them.
        cat > "$WORK/cc-$arch" <<SH
#!/bin/sh
skip=
for a; do
    shift
    if [ -n "\$skip" ]; then skip=; continue; fi
    case \$a in -arch|-target) skip=1 ;; --target=*) ;; *) set -- "\$@" "\$a" ;; esac
done
exec /opt/zig/zig cc -target $arch-macos "\$@"
SH
        chmod +x "$WORK/cc-$arch"
        check "cargo check --target $T (zig cc as the C compiler)" \
            env "CC_${T//-/_}=$WORK/cc-$arch" cargo check "${STD[@]}" --lib --target "$T"
    done
}

for job; do "$job"; done
echo "cross: $PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
