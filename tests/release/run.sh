#!/usr/bin/env bash
# Usage: tests/release/run.sh [DIST]     (DIST: the output of scripts/release.sh, ./dist)
#
# Runs the release files of the targets other than this machine's (the x86_64 Linux archive
# and .deb are tests/clean-machine/run.sh's), each against loopback servers on this host:
# the bundled test backend (HTTP) and, before it, tests/release/tls_proxy.py (TLS with the
# test certificate of tests/tls).
#   on the host   SHA256SUMS lists every file and matches; every file's name carries its
#                 target triple (or, for a .deb, its Debian architecture); the arm64 archive
#                 and .deb hold the same files as the amd64 ones; the aarch64 library and
#                 client need at most GLIBC_2.28
#   static CLIs   (x86_64 and aarch64 musl) `ldd` says "not a dynamic executable"; each is
#                 run in an empty root (a chroot holding only the binary, the CA file and,
#                 for aarch64, the static qemu-aarch64): one answer over HTTP, one over TLS
#                 with --cacert, and TLS refused without it
#   in the cross chroot (tests/release/inside-cross.sh): aarch64 Linux under qemu-aarch64,
#                 the Windows zip under Wine
# Needs root and the cross chroot (.ci/install-cross.sh). Last line "release matrix: N passed, M failed".
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
DIST=$(realpath "${1:-$ROOT/dist}")
CROSS_ROOT=${BACKEND_API_CACHE:-$HOME/.cache/backend-api}/cross-chroot
VERSION=$(sed -n 's/^version *= *"\([0-9][0-9.]*\)".*/\1/p' "$ROOT/Cargo.toml" | head -n 1)

WORK=$(mktemp -d "${TMPDIR:-/tmp}/release-matrix.XXXXXX")
# shellcheck source=scripts/backend.sh
. "$ROOT/scripts/backend.sh"
TLS_PID=
# shellcheck disable=SC2317  # called from the EXIT trap
finish() {
    stop_backend 2>/dev/null
    if [ -n "$TLS_PID" ]; then kill "$TLS_PID" 2>/dev/null || true; wait "$TLS_PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap finish EXIT
PASSED=0 FAILED=0
pass() { PASSED=$((PASSED + 1)); echo "  ok   $*"; }
fail() { FAILED=$((FAILED + 1)); echo "  FAIL $*"; }
check() { # description, command...: passes when the command does; its output is shown indented
    local what=$1; shift
    if "$@" > "$WORK/check.log" 2>&1; then pass "$what"; else fail "$what"; fi
    sed 's/^/       /' "$WORK/check.log" | tail -n 20
}
answers() { # command..., prompt last: the output holds the test backend's echo of it
    local out prompt=${!#}
    out=$("$@" 2>&1) && [[ $out == *"You said: $prompt"* ]] || { echo "output: $out"; return 1; }
    echo "$out" | head -n 3
}

echo "== the release files (host)"
check "SHA256SUMS matches" bash -c "cd '$DIST' && sha256sum -c SHA256SUMS"
check "SHA256SUMS lists every other file" bash -c "cd '$DIST' && diff <(find . -maxdepth 1 -type f ! -name SHA256SUMS -printf '%f\n' | sort) <(awk '{print \$2}' SHA256SUMS | sort)"
names_ok() {
    local f bad=0
    for f in "$DIST"/*; do
        case $(basename "$f") in
            SHA256SUMS) ;;
            backend-api-"$VERSION"-*-*-*.tar.gz | backend-api-"$VERSION"-*-*-*.zip) echo "$(basename "$f")" ;;
            backend-api_"$VERSION"-1_amd64.deb | backend-api_"$VERSION"-1_arm64.deb) echo "$(basename "$f")" ;;
            *) echo "no target in the name: $f"; bad=1 ;;
        esac
    done
    return $bad
}
check "each file's name carries its target" names_ok
for triple in x86_64-unknown-linux-gnu aarch64-unknown-linux-gnu x86_64-unknown-linux-musl aarch64-unknown-linux-musl; do
    [ -e "$DIST/backend-api-$VERSION-$triple.tar.gz" ] || fail "no $triple archive in $DIST"
done
[ -e "$DIST/backend-api-$VERSION-x86_64-pc-windows-gnu.zip" ] || fail "no Windows zip in $DIST"
same_layout() {
    diff <(tar -tzf "$DIST/backend-api-$VERSION-x86_64-unknown-linux-gnu.tar.gz" | sed 's|^[^/]*/||' | sort) \
         <(tar -tzf "$DIST/backend-api-$VERSION-aarch64-unknown-linux-gnu.tar.gz" | sed 's|^[^/]*/||' | sort) &&
    diff <(dpkg-deb -c "$DIST/backend-api_${VERSION}-1_amd64.deb" | awk '{print $6}' | sort) \
         <(dpkg-deb -c "$DIST/backend-api_${VERSION}-1_arm64.deb" | awk '{print $6}' | sort) &&
    dpkg-deb -f "$DIST/backend-api_${VERSION}-1_arm64.deb" Package Version Architecture Depends &&
    echo "$(tar -tzf "$DIST/backend-api-$VERSION-aarch64-unknown-linux-gnu.tar.gz" | wc -l) archive entries," \
        "$(dpkg-deb -c "$DIST/backend-api_${VERSION}-1_arm64.deb" | wc -l) .deb entries, same in both"
}
check "the aarch64 archive and arm64 .deb have the x86_64 ones' layout" same_layout
glibc_2_28() { # the aarch64 archive's library and client need at most GLIBC_2.28
    local a=$WORK/glibc need
    mkdir -p "$a"
    tar -xzf "$DIST/backend-api-$VERSION-aarch64-unknown-linux-gnu.tar.gz" -C "$a" --strip-components=1
    need=$(readelf --dyn-syms --wide "$a"/lib/libbackend_api.so.*.*.* "$a/bin/backend-api" | grep -o 'GLIBC_[0-9.]*' | sort -Vu | tail -n 1)
    echo "highest: $need"
    [ "$(printf '%s\n' "$need" GLIBC_2.28 | sort -V | tail -n 1)" = GLIBC_2.28 ]
}
check "aarch64 Linux: the highest glibc symbol version needed is at most GLIBC_2.28" glibc_2_28

echo "== servers (host)"
start_backend "$(test_backend)" || { echo "the test backend did not say READY" >&2; exit 1; }
# Its standard input is a FIFO this script holds open: it ends when the script does.
mkfifo "$WORK/tls.in"
exec {TLS_IN}<> "$WORK/tls.in"
python3 "$HERE/tls_proxy.py" "$ROOT/tests/tls/server.pem" "$ROOT/tests/tls/server.key" "${BACKEND_URL##*:}" \
    <&"$TLS_IN" > "$WORK/tls.out" 2>&1 &
TLS_PID=$!
for _ in $(seq 100); do grep -q '^READY ' "$WORK/tls.out" && break; sleep 0.1; done
port=$(sed -n 's/^READY //p' "$WORK/tls.out")
[ -n "$port" ] || { echo "the TLS proxy did not say READY: $(cat "$WORK/tls.out")" >&2; exit 1; }
HTTPS_URL=https://127.0.0.1:$port
echo "   $BACKEND_URL, $HTTPS_URL"

echo "== static command-line clients in an empty root (host)"
for triple in x86_64-unknown-linux-musl aarch64-unknown-linux-musl; do
    mkdir -p "$WORK/$triple"
    tar -xzf "$DIST/backend-api-$VERSION-$triple.tar.gz" -C "$WORK/$triple" --strip-components=1
    bin=$WORK/$triple/bin/backend-api
    check "$triple: file(1)" file "$bin"
    check "$triple: ldd says \"not a dynamic executable\"" bash -c "ldd '$bin' 2>&1 | tee /dev/stderr | grep -q 'not a dynamic executable'"
    check "$triple: no program interpreter, no NEEDED library (readelf)" \
        bash -c "! readelf -l '$bin' | grep -q INTERP && ! readelf -d '$bin' 2>&1 | grep -q NEEDED && readelf -h '$bin' | grep Machine"
    empty=$WORK/$triple-root
    mkdir -p "$empty"
    cp "$bin" "$empty/backend-api"
    cp "$ROOT/tests/tls/ca.pem" "$empty/ca.pem"
    run=(chroot "$empty")
    if [ "${triple%%-*}" = aarch64 ]; then
        cp "$CROSS_ROOT/usr/bin/qemu-aarch64" "$empty/qemu-aarch64"   # static-pie: needs nothing either
        run+=(/qemu-aarch64)
    fi
    check "$triple: the empty root holds only $(cd "$empty" && find . -type f | sort | tr '\n' ' ')" \
        test "$(find "$empty" -mindepth 1 | wc -l)" -le 3
    check "$triple: one answer over HTTP" answers "${run[@]}" /backend-api --url "$BACKEND_URL" "static over HTTP"
    check "$triple: one answer over TLS with --cacert /ca.pem" \
        answers "${run[@]}" /backend-api --url "$HTTPS_URL" --cacert /ca.pem "static over TLS"
    refused() { ! "${run[@]}" /backend-api --url "$HTTPS_URL" "no CA" > "$WORK/out" 2>&1 && cat "$WORK/out" && grep -qi 'certificate\|tls' "$WORK/out"; }
    check "$triple: TLS refused without the CA (nothing else to trust in the empty root)" refused
done

echo "== aarch64 Linux under qemu, Windows under Wine (cross chroot)"
mkdir -p "$WORK/cross"
cp "$HERE/inside-cross.sh" "$WORK/cross/"
cp "$DIST/backend-api-$VERSION-aarch64-unknown-linux-gnu.tar.gz" "$DIST/backend-api_${VERSION}-1_arm64.deb" \
    "$DIST/backend-api-$VERSION-x86_64-pc-windows-gnu.zip" "$WORK/cross/"
cp "$ROOT/tests/install/consumer.c" "$ROOT/tests/c/abi_test.c" "$ROOT/tests/c/check.h" \
    "$ROOT/bindings/cpp/examples/quickstart.cpp" "$ROOT/tests/tls/ca.pem" "$WORK/cross/"
if CHROOT_OVERLAY=1 "$ROOT/scripts/in-chroot.sh" cross-chroot "$WORK/cross" -- \
        bash "$WORK/cross/inside-cross.sh" "$WORK/cross" "$VERSION" "$BACKEND_URL" "$HTTPS_URL" > "$WORK/cross.log" 2>&1; then
    pass "cross chroot: $(tail -n 1 "$WORK/cross.log")"
else
    fail "cross chroot: $(tail -n 1 "$WORK/cross.log")"
fi
sed 's/^/   /' "$WORK/cross.log"

echo "release matrix: $PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
