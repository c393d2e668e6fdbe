#!/usr/bin/env bash
# Install (or reuse) the cross-building chroot: Debian 13 (trixie) with Debian's own Rust
# (rustc 1.85.1, the project's MSRV, with rust-src) and cargo-c (the Windows tree's DLL, .def
# and import library), plus zig (.ci/install-chroot.sh). A chroot of its own because the other one
# (swift-chroot) must stay without Rust: it is the clean machine. What each release target
# needs there (scripts/release.sh builds them, tests/release/ runs them):
#   aarch64 Linux  gcc-aarch64-linux-gnu (its binutils localise and strip; it compiles the
#                  test consumers, with the headers of libc6-dev-arm64-cross),
#                  libc6-arm64-cross (the loader and libc qemu runs them with), qemu-user
#                  (qemu-aarch64, user-mode emulation, no binfmt needed; static, so the
#                  empty-root test copies it)
#   static CLIs    nothing more: zig brings musl for x86_64 and aarch64 (musl-tools' musl-gcc
#                  is x86_64 only, so it is not used)
#   Windows        mingw-w64 and Wine; llvm (llvm-dlltool: the MSVC import library) and
#                  lld (lld-link: reads it back)
#   every target   pkgconf (the consumers are built from the archives' .pc files), zip, unzip
# Cached at ${BACKEND_API_CACHE:-$HOME/.cache/backend-api}/cross-chroot. Prints its path as
# the LAST stdout line. scripts/cross.sh runs the builds in it.
#   - rsbegin.o / rsend.o for x86_64-pc-windows-gnu, which Debian does not ship: compiled
#     once from rust-src.
#   - zig: the binary of the PyPI package ziglang (from .ci/install-cargo-tools.sh), copied
#     to /opt/zig (zig is statically linked), on PATH as /usr/local/bin/zig; cargo-zigbuild
#     (static too) beside it: scripts/stage.sh links with its `zig cc` for glibc 2.28.
#   - the host's CA bundle, so cargo inside reaches crates.io the way the host does.
set -euo pipefail
: "${HOME:=$(getent passwd "$(id -u)" | cut -d: -f6)}"; export HOME
HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${BACKEND_API_CACHE:-$HOME/.cache/backend-api}
log() { echo "install-cross: $*" >&2; }

ROOT=$("$HERE/install-chroot.sh" cross-chroot --check 'rustc --version' \
    rustc cargo rust-src cargo-c gcc libc6-dev gcc-mingw-w64-x86-64 g++-mingw-w64-x86-64 wine64 ca-certificates \
    gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user llvm lld pkgconf zip unzip openssl | tail -n 1)

cp /etc/ssl/certs/ca-certificates.crt "$ROOT/etc/ssl/certs/ca-certificates.crt"

RUSTLIB=$ROOT/usr/lib/rustlib/x86_64-pc-windows-gnu/lib
if [ ! -e "$RUSTLIB/self-contained/rsend.o" ]; then
    log "compiling rsbegin.o and rsend.o for x86_64-pc-windows-gnu from rust-src"
    tmp=$(mktemp -d)
    # shellcheck disable=SC2016  # expanded inside the chroot
    "$HERE/../scripts/in-chroot.sh" cross-chroot "$tmp" -- sh -eu -c '
        S=/usr/lib/rustlib/x86_64-pc-windows-gnu/lib; mkdir -p $S/self-contained
        src=$(ls -d /usr/src/rustc-*/library/rtstartup | head -n 1)
        for f in rsbegin rsend; do
            RUSTC_BOOTSTRAP=1 rustc --target x86_64-pc-windows-gnu --emit=obj -C panic=abort -O \
                -o $S/$f.o $src/$f.rs
            cp $S/$f.o $S/self-contained/
        done' >&2
    rmdir "$tmp"
fi

ZIG_SRC=$("$CACHE/zig-venv/bin/python" -c 'import os, ziglang; print(os.path.dirname(ziglang.__file__))' 2>/dev/null) ||
    { log "no zig: run .ci/install-cargo-tools.sh first"; exit 1; }
# Copied whole or not at all: a marker names the version once the copy is complete (a copy
# cut short once left zig without its C headers, and only its version was looked at).
ZIG_VERSION=$("$ZIG_SRC/zig" version)
if [ "$(cat "$ROOT/opt/zig/.copied" 2>/dev/null)" != "$ZIG_VERSION" ]; then
    log "copying zig $ZIG_VERSION into /opt/zig"
    rm -rf "$ROOT/opt/zig" "$ROOT/opt/zig.partial"
    cp -R "$ZIG_SRC" "$ROOT/opt/zig.partial"
    echo "$ZIG_VERSION" > "$ROOT/opt/zig.partial/.copied"
    mv "$ROOT/opt/zig.partial" "$ROOT/opt/zig"
fi
ln -sf /opt/zig/zig "$ROOT/usr/local/bin/zig"
cp "$CACHE/zig-venv/bin/cargo-zigbuild" "$ROOT/usr/local/bin/cargo-zigbuild"
log "$(chroot "$ROOT" rustc --version); zig $("$ROOT/opt/zig/zig" version); $(chroot "$ROOT" cargo-zigbuild --version)"
echo "$ROOT"
