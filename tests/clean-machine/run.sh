#!/usr/bin/env bash
# Usage: tests/clean-machine/run.sh [DIST]     (DIST: the output of scripts/release.sh, ./dist)
#
# The release files on a clean machine: the trixie chroot of .ci/install-swift.sh, which has
# no Rust at all, entered with scripts/in-chroot.sh on a throwaway overlay (so each run
# starts pristine). Twice: the archive unpacked into /opt/backend-api, then the .deb
# installed with dpkg. Each time tests/clean-machine/inside.sh builds and runs, with only that
# installation: a C program via pkg-config, the command-line client, a C++ program via CMake
# find_package, a Go program using the module as a module proxy serves it (zipped from a copy
# of bindings/go/backendapi, unpacked by `go get` into the module cache), and a Swift package
# (the binding README's quick start) depending on a copy of this repository's root by path. Each streams an answer from the
# bundled test backend, which runs on the host (the chroot shares loopback).
# On the host first: SHA256SUMS, the archive's layout, and the highest GLIBC_ symbol version
# its binaries need (at most GLIBC_2.28).
# Then the other targets' release files: tests/release/run.sh (aarch64 Linux under qemu, the
# static clients in an empty root, the Windows zip under Wine), counted as one check here.
# Needs root and the chroots. Env: CARGO_TARGET_DIR (./target). Last line "clean machine: N passed, M failed".
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
DIST=$(realpath "${1:-$ROOT/dist}")
TARGET=$(realpath -m "${CARGO_TARGET_DIR:-$ROOT/target}")
GLIBC_MAX=2.28
VERSION=$(sed -n 's/^version *= *"\([0-9][0-9.]*\)".*/\1/p' "$ROOT/Cargo.toml" | head -n 1)
# This machine's files (the other targets' are run by tests/release/run.sh, at the end).
archive=$DIST/backend-api-$VERSION-$(rustc -vV | sed -n 's/^host: //p').tar.gz
deb=$DIST/backend-api_$VERSION-1_$(dpkg --print-architecture).deb

WORK=$(mktemp -d "${TMPDIR:-/tmp}/clean-machine.XXXXXX")
# shellcheck source=scripts/backend.sh
. "$ROOT/scripts/backend.sh"
trap 'stop_backend; rm -rf "$WORK"' EXIT
PASSED=0 FAILED=0
pass() { PASSED=$((PASSED + 1)); echo "  ok   $*"; }
fail() { FAILED=$((FAILED + 1)); echo "  FAIL $*"; }

echo "== the release files (host)"
if (cd "$DIST" && sha256sum -c --quiet SHA256SUMS); then pass "SHA256SUMS matches"; else fail "SHA256SUMS"; fi
mkdir "$WORK/unpacked"
tar -xzf "$archive" -C "$WORK/unpacked"
A=$WORK/unpacked/$(basename "$archive" .tar.gz)
missing=()
for f in LICENSE README.md CHANGELOG.md bin/backend-api include/backend_api.h include/backend_api.hpp \
        lib/libbackend_api.so.$VERSION lib/libbackend_api.a lib/pkgconfig/backend_api.pc \
        lib/pkgconfig/backend_api-static.pc lib/cmake/backend_api/backend_apiConfig.cmake; do
    [ -e "$A/$f" ] || missing+=("$f")
done
if [ ${#missing[@]} = 0 ]; then pass "the archive holds libraries, headers, pkg-config and CMake files, client, docs"
else fail "the archive lacks: ${missing[*]}"; fi
if grep -q "^prefix=\${pcfiledir}" "$A/lib/pkgconfig/backend_api.pc" && ! grep -rq "$ROOT\|$TARGET" "$A/lib/pkgconfig" "$A/lib/cmake"; then
    pass "pkg-config and CMake files are relocatable (no build path inside)"
else fail "pkg-config or CMake files name a build path"; fi
need=$(objdump -T "$A/lib/libbackend_api.so.$VERSION" "$A/bin/backend-api" | grep -o 'GLIBC_[0-9.]*' | sort -Vu | tail -n 1)
if [ "$(printf '%s\n' "$need" "GLIBC_$GLIBC_MAX" | sort -V | tail -n 1)" = "GLIBC_$GLIBC_MAX" ]; then
    pass "highest glibc symbol version needed: $need (at most GLIBC_$GLIBC_MAX)"
else fail "the binaries need $need, newer than GLIBC_$GLIBC_MAX"; fi
echo "   archive $(basename "$archive"): $(stat -c %s "$archive") bytes; $(basename "$deb"): $(stat -c %s "$deb") bytes"

# What the chroot sees: WORK only (bind-mounted at the same path).
mkdir -p "$WORK/dist" "$WORK/src" "$WORK/repo" "$WORK/goproxy"
cp "$archive" "$deb" "$WORK/dist/"
cp "$HERE/inside.sh" "$WORK/"
echo "$VERSION" > "$WORK/version"
# A copy of the checkout (tracked and untracked, not ignored files), as a user's clone.
(cd "$ROOT" && git ls-files -co --exclude-standard -z | tar --null -T - -cf -) | tar -C "$WORK/repo" -xf -
cp "$ROOT/tests/install/consumer.c" "$ROOT/bindings/cpp/examples/quickstart.cpp" "$HERE/cmake/CMakeLists.txt" "$WORK/src/"
# The Swift program: the binding README's quick start (G4F_URL names the server; it says "Hello!").
mkdir -p "$WORK/src/swift/Sources/chat"
awk '/<!-- quick start -->/ { armed = 1; next } armed && /^```swift$/ { inside = 1; next }
     inside && /^```$/ { exit } inside { print }' "$ROOT/bindings/swift/README.md" \
    > "$WORK/src/swift/Sources/chat/QuickStart.swift"
# The Go program: the binding README's complete example.
sed -n '/^\/\/ chat: /,/^```$/p' "$ROOT/bindings/go/backendapi/README.md" | sed '$d' > "$WORK/src/main.go"

# A module proxy (GOPROXY=file://...) serving the Go module at v$VERSION, laid out as the
# GOPROXY protocol says: <module>/@v/list, .info, .mod and the zip of <module>@<version>/...
MODDIR=$WORK/repo/bindings/go/backendapi
MODULE=$(sed -n 's/^module //p' "$MODDIR/go.mod")
echo "$MODULE" > "$WORK/gomodule"
V=$WORK/goproxy/$MODULE/@v
mkdir -p "$V"
echo "v$VERSION" > "$V/list"
printf '{"Version":"v%s","Time":"%s"}\n' "$VERSION" "$(date -u +%FT%TZ)" > "$V/v$VERSION.info"
cp "$MODDIR/go.mod" "$V/v$VERSION.mod"
python3 - "$MODDIR" "$V/v$VERSION.zip" "$MODULE@v$VERSION" <<'PY'
import os, sys, zipfile
src, out, prefix = sys.argv[1:]
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
    for name in sorted(os.listdir(src)):
        if os.path.isfile(os.path.join(src, name)):
            z.write(os.path.join(src, name), f"{prefix}/{name}")
PY

echo "== the test backend (host)"
start_backend "$(test_backend)" || { echo "the test backend did not say READY" >&2; exit 1; }
echo "   $BACKEND_URL"

for mode in archive deb; do
    echo
    if CHROOT_OVERLAY=1 "$ROOT/scripts/in-chroot.sh" swift-chroot "$WORK" -- bash "$WORK/inside.sh" "$mode" "$WORK" "$BACKEND_URL" \
            > "$WORK/$mode.log" 2>&1; then
        pass "clean machine, $mode: $(tail -n 1 "$WORK/$mode.log")"
    else
        fail "clean machine, $mode: $(tail -n 1 "$WORK/$mode.log")"
    fi
    sed 's/^/   /' "$WORK/$mode.log"
done

echo
if "$ROOT/tests/release/run.sh" "$DIST" > "$WORK/matrix.log" 2>&1; then
    pass "the other targets: $(tail -n 1 "$WORK/matrix.log")"
else
    fail "the other targets: $(tail -n 1 "$WORK/matrix.log")"
fi
sed 's/^/   /' "$WORK/matrix.log"

echo "clean machine: $PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
