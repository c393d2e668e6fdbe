#!/usr/bin/env bash
# Usage: scripts/release.sh [OUT]      (OUT: dist/ by default, replaced)
#
# Builds the release files of the version in Cargo.toml for this machine's target:
#   OUT/backend-api-VERSION-TARGET.tar.gz  one folder backend-api-VERSION-TARGET/ holding the
#       installation tree of scripts/stage.sh (lib/ with the shared and static libraries,
#       pkg-config files with a relocatable prefix and the CMake package; include/ with the
#       C and C++ headers; bin/backend-api, the command-line client; share/ its man page
#       and completions) plus LICENSE, README.md and CHANGELOG.md
#   OUT/backend-api_VERSION-1_ARCH.deb     the same tree installed for /usr (make install
#       DESTDIR=...), packed by cargo-deb
#   OUT/SHA256SUMS                         sha256sum of both
# On Linux the library and the client are linked against glibc 2.28 with zig (cargo-zigbuild),
# so they run on Debian 10+, Ubuntu 20.04+, RHEL 8+; the highest GLIBC_ symbol version
# is printed and must not exceed it.
# Refuses a version without its CHANGELOG.md entry. Tools: .ci/install-cargo-tools.sh.
# Env: CARGO_TARGET_DIR (./target; the zig build goes to its own folder below it).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
: "${HOME:=$(getent passwd "$(id -u)" | cut -d: -f6)}"
TOOLS=${BACKEND_API_CACHE:-$HOME/.cache/backend-api}/cargo-tools/bin
[ -d "$TOOLS" ] && PATH=$TOOLS:$PATH
OUT=$(realpath -m "${1:-$ROOT/dist}")
GLIBC=2.28
die() { echo "release: $*" >&2; exit 1; }

VERSION=$(sed -n 's/^version *= *"\([0-9][0-9.]*\)".*/\1/p' "$ROOT/Cargo.toml" | head -n 1)
grep -q "^## \[$VERSION\]" "$ROOT/CHANGELOG.md" || die "CHANGELOG.md has no entry '## [$VERSION]'"
TRIPLE=$(rustc -vV | sed -n 's/^host: //p')
NAME=backend-api-$VERSION-$TRIPLE
# The zig-linked build in a target folder of its own (cargo does not rebuild when only
# the linker changes, so it must not share one with ordinary builds).
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}/glibc-$GLIBC
RELEASE_DIR=$CARGO_TARGET_DIR/$TRIPLE/release
case $TRIPLE in *-linux-gnu) glibc=(--glibc "$GLIBC") ;; *) glibc=() ;; esac

highest_glibc() { # FILE...: the highest GLIBC_x.y symbol version the files need
    objdump -T "$@" | grep -o 'GLIBC_[0-9.]*' | sort -Vu | tail -n 1
}

t0=$SECONDS
rm -rf "$OUT"
mkdir -p "$OUT"
"$ROOT/scripts/stage.sh" "$RELEASE_DIR/stage" --target "$TRIPLE" "${glibc[@]}"
# Shipped without debug information (the archive keeps its symbol table for linking).
strip --strip-unneeded "$RELEASE_DIR"/stage/lib/libbackend_api.so.*.*.* "$RELEASE_DIR/stage/bin/backend-api"
strip --strip-debug "$RELEASE_DIR/stage/lib/libbackend_api.a"
if [ ${#glibc[@]} -gt 0 ]; then
    need=$(highest_glibc "$RELEASE_DIR"/stage/lib/libbackend_api.so.*.*.* "$RELEASE_DIR/stage/bin/backend-api")
    echo "release: highest glibc symbol version needed: $need"
    [ "$(printf '%s\n' "$need" "GLIBC_$GLIBC" | sort -V | tail -n 1)" = "GLIBC_$GLIBC" ] ||
        die "the artifacts need $need, newer than GLIBC_$GLIBC"
fi

# The archive: the tree, plus LICENSE, README.md and CHANGELOG.md on top.
rm -rf "${RELEASE_DIR:?}/$NAME"
cp -R -P "$RELEASE_DIR/stage" "$RELEASE_DIR/$NAME"
cp "$ROOT/LICENSE" "$ROOT/README.md" "$ROOT/CHANGELOG.md" "$RELEASE_DIR/$NAME/"
tar -C "$RELEASE_DIR" --sort=name --owner=0 --group=0 --numeric-owner \
    --mtime="@$(git -C "$ROOT" log -1 --format=%ct 2>/dev/null || date +%s)" -czf "$OUT/$NAME.tar.gz" "$NAME"

# The .deb: the tree installed for /usr as a packager does (make install DESTDIR=...),
# packed by cargo-deb (Cargo.toml's [package.metadata.deb]).
rm -rf "$RELEASE_DIR/deb-root"
make -s -C "$ROOT" install STAGE="$RELEASE_DIR/stage" PREFIX=/usr DESTDIR="$RELEASE_DIR/deb-root" > /dev/null
cargo deb --manifest-path "$ROOT/Cargo.toml" --no-build --no-strip --target "$TRIPLE" --output "$OUT" > "$OUT/deb.log" 2>&1 ||
    { cat "$OUT/deb.log"; die "cargo deb failed"; }
rm -f "$OUT/deb.log"

(cd "$OUT" && sha256sum -- *.tar.gz *.deb > SHA256SUMS)
echo "release: in $((SECONDS - t0)) s:"
(cd "$OUT" && ls -l -- *.tar.gz *.deb && cat SHA256SUMS)
