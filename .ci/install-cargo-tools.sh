#!/usr/bin/env bash
# Make the packaging tools available, cached outside the repository in
# ${BACKEND_API_CACHE:-$HOME/.cache/backend-api}, and print the folder holding their
# binaries as the LAST stdout line (put it on PATH):
#   cargo-c        (cargo cbuild / cinstall / ctest): `cargo install --locked`, no prebuilt
#                  binary is reachable from here (crates.io only; not on PyPI). ~6 min.
#   cargo-deb      (the .deb): `cargo install --locked`. ~1 min.
#   cargo-zigbuild and zig (Linux artifacts for glibc 2.28): the PyPI packages
#                  `cargo-zigbuild` and `ziglang` ship prebuilt binaries; in a venv.
# Versions are pinned here; a tool already at its pinned version is not reinstalled.
set -euo pipefail
: "${HOME:=$(getent passwd "$(id -u)" | cut -d: -f6)}"; export HOME
CACHE=${BACKEND_API_CACHE:-$HOME/.cache/backend-api}
TOOLS=$CACHE/cargo-tools
VENV=$CACHE/zig-venv
CARGO_C_VERSION=0.10.24+cargo-0.98.0
CARGO_DEB_VERSION=3.8.0
ZIGBUILD_VERSION=0.24.0
ZIG_VERSION=0.15.2
log() { echo "install-cargo-tools: $*" >&2; }
mkdir -p "$TOOLS/bin"

exec 9>"$CACHE/cargo-tools.lock"
flock 9

installed() { # crate version: cargo install's own record says it is there
    grep -qF "\"$1 $2 (registry" "$TOOLS/.crates2.json" 2>/dev/null && [ -x "$TOOLS/bin/$3" ]
}
cargo_install() { # crate version binary
    if installed "$1" "$2" "$3"; then log "$1 $2 already installed"; return; fi
    # cargo-c links libssl and finds it through pkg-config.
    if [ "$1" = cargo-c ] && ! pkg-config --exists openssl 2>/dev/null; then
        apt-get update -qq >&2 && apt-get install -y -qq libssl-dev pkg-config >&2
    fi
    log "cargo install --locked $1 $2 (into $TOOLS)"
    local t0=$SECONDS
    CARGO_TARGET_DIR=$CACHE/cargo-tools-build nice cargo install --locked --quiet \
        --root "$TOOLS" --version "=$2" "$1" >&2
    rm -rf "$CACHE/cargo-tools-build"
    log "$1 built in $((SECONDS - t0)) s"
}
cargo_install cargo-c "$CARGO_C_VERSION" cargo-cbuild
cargo_install cargo-deb "$CARGO_DEB_VERSION" cargo-deb

if ! "$VENV/bin/python" -m pip show cargo-zigbuild ziglang 2>/dev/null \
        | grep -qxF "Version: $ZIGBUILD_VERSION"; then
    log "pip install cargo-zigbuild==$ZIGBUILD_VERSION ziglang==$ZIG_VERSION (into $VENV)"
    python3 -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q "cargo-zigbuild==$ZIGBUILD_VERSION" "ziglang==$ZIG_VERSION" >&2
fi
# zig's binary is inside the ziglang package; `python -m ziglang` runs it.
cat > "$TOOLS/bin/zig" <<SH
#!/bin/sh
exec "$VENV/bin/python" -m ziglang "\$@"
SH
chmod +x "$TOOLS/bin/zig"
ln -sf "$VENV/bin/cargo-zigbuild" "$TOOLS/bin/cargo-zigbuild"
log "$("$TOOLS/bin/cargo-cbuild" --version 2>/dev/null | head -n 1); $("$TOOLS/bin/cargo-deb" --version); zig $("$TOOLS/bin/zig" version); $("$TOOLS/bin/cargo-zigbuild" --version)"
echo "$TOOLS/bin"
