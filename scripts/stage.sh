#!/usr/bin/env bash
# Usage: scripts/stage.sh OUT [--target TRIPLE] [--glibc VERSION]
#
# Builds the library with cargo alone (`cargo rustc --release --lib`: the shared library,
# its soname set by build.rs, and the static archive) and lays out a complete installation
# tree in OUT (replaced), the one every install path ships: `make` / `make install`, the
# release archive and the .deb (scripts/release.sh).
#   lib/      libbackend_api.so.X.Y.Z, its soname and development links,
#             libbackend_api.a with only the backend_api_* symbols global
#             (scripts/localize-staticlib.sh),
#             pkgconfig/backend_api.pc and backend_api-static.pc (pkg/*.pc.in; their
#             Libs.private are Rust's native libraries, as rustc prints them),
#             cmake/backend_api/backend_apiConfig.cmake and ...ConfigVersion.cmake
#   include/  backend_api.h (generated, checked in), backend_api.hpp (the C++ wrapper)
#   bin/      backend-api, the command-line client (finds the library through
#             $ORIGIN/../lib, so the tree works wherever it is unpacked)
#   share/    the client's man page and bash/zsh completions; doc/backend-api/ with
#             README.md, CHANGELOG.md and LICENSE
# The tree is relocatable: the pkg-config files say prefix=${pcfiledir}/../.. and the
# CMake files are relative to their own folder (`make install` writes its PREFIX into the
# pkg-config files).
#
# --target TRIPLE   build for another target (default: the host's)
# --glibc VERSION   link against that glibc version with zig (cargo-zigbuild's `zig cc`),
#                   e.g. 2.28, so the artifacts run on older Linux distributions; built in
#                   a target folder of its own, CARGO_TARGET_DIR/glibc-VERSION (cargo does
#                   not rebuild when only the linker changes), shared by `make GLIBC=...`
#                   and scripts/release.sh, so the release builds nothing again.
# Tools: cargo; for --glibc cargo-zigbuild and zig (.ci/install-cargo-tools.sh: prebuilt,
# from PyPI), whose cache folder is put on PATH when present.
# Env: CARGO_TARGET_DIR (./target), CC (cc).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
: "${HOME:=$(getent passwd "$(id -u)" | cut -d: -f6)}"
TOOLS=${BACKEND_API_CACHE:-$HOME/.cache/backend-api}/cargo-tools/bin
[ -d "$TOOLS" ] && PATH=$TOOLS:$PATH

# The command-line client: its man page and completions; its sources and flags are
# those of cli/cflags.sh, which cli/build.sh reads too.
CLI=(cli/backend-api.1 cli/completions/backend-api.bash cli/completions/_backend-api)
# shellcheck source=cli/cflags.sh
. "$ROOT/cli/cflags.sh"

die() { echo "stage: $*" >&2; exit 1; }
[ $# -ge 1 ] || die "usage: $0 OUT [--target TRIPLE] [--glibc VERSION]"
OUT=$(realpath -m "$1"); shift
PC_PREFIX='${pcfiledir}/../..'
TARGET_TRIPLE=$(rustc -vV | sed -n 's/^host: //p')
GLIBC=
while [ $# -gt 0 ]; do
    case $1 in
        --target) TARGET_TRIPLE=$2; shift 2 ;;
        --glibc) GLIBC=$2; shift 2 ;;
        *) die "unknown argument $1" ;;
    esac
done
CC=${CC:-cc}
TARGET_DIR=$(realpath -m "${CARGO_TARGET_DIR:-$ROOT/target}")
[ -z "$GLIBC" ] || TARGET_DIR=$TARGET_DIR/glibc-$GLIBC
export CARGO_TARGET_DIR=$TARGET_DIR

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

if [ -n "$GLIBC" ]; then
    command -v cargo-zigbuild > /dev/null || die "--glibc needs cargo-zigbuild and zig (run .ci/install-cargo-tools.sh)"
    # cargo-zigbuild's own compiler wrapper, as `cargo zigbuild --target T.VERSION` writes it;
    # here it serves cargo: rustc links with it and cc-rs (ring) compiles with it.
    arch=${TARGET_TRIPLE%%-*}
    # At a fixed path: cargo and cc-rs rebuild everything when the linker's path changes.
    zigcc=$TARGET_DIR/zigcc-$TARGET_TRIPLE.$GLIBC
    mkdir -p "$(dirname "$zigcc")"
    cat > "$zigcc" <<SH
#!/bin/sh
exec cargo-zigbuild zig cc -- -g -fno-sanitize=all -target $arch-linux-gnu.$GLIBC "\$@"
SH
    chmod +x "$zigcc"
    env_triple=$(echo "$TARGET_TRIPLE" | tr '[:lower:]-' '[:upper:]_')
    export "CARGO_TARGET_${env_triple}_LINKER=$zigcc" "CC_${TARGET_TRIPLE//-/_}=$zigcc"
    CC=$zigcc
fi

echo "stage: cargo rustc --release --lib --target $TARGET_TRIPLE${GLIBC:+ (glibc $GLIBC)}" >&2
# One rustc run writes the shared library, the archive and (as a note) the native libraries
# the archive needs; cargo repeats the note when the build is already up to date.
cargo rustc --manifest-path "$ROOT/Cargo.toml" --release --locked --lib --target "$TARGET_TRIPLE" \
    -- --print native-static-libs 2> "$WORK/build.log" || { cat "$WORK/build.log" >&2; die "cargo failed"; }
NATIVE_LIBS=$(sed -n 's/.*note: native-static-libs: *//p' "$WORK/build.log" | tail -n 1)
[ -n "$NATIVE_LIBS" ] || { cat "$WORK/build.log" >&2; die "rustc printed no native-static-libs"; }
BUILT=$TARGET_DIR/$TARGET_TRIPLE/release
VERSION=$(sed -n 's/^version *= *"\([0-9][0-9.]*\)".*/\1/p' "$ROOT/Cargo.toml" | head -n 1)
SONAME=$(readelf -d "$BUILT/libbackend_api.so" | sed -n 's/.*(SONAME).*\[\(.*\)\].*/\1/p')
[ -n "$SONAME" ] || die "$BUILT/libbackend_api.so has no soname (build.rs sets it)"
REALNAME=libbackend_api.so.$VERSION

rm -rf "$OUT"
L=$OUT/lib
mkdir -p "$L/pkgconfig" "$OUT/include"
install -m 755 "$BUILT/libbackend_api.so" "$L/$REALNAME"
ln -s "$REALNAME" "$L/$SONAME"
ln -s "$REALNAME" "$L/libbackend_api.so"
install -m 644 "$ROOT/include/backend_api.h" "$ROOT/bindings/cpp/include/backend_api.hpp" "$OUT/include/"

# The static archive: only the C API stays global.
"$ROOT/scripts/localize-staticlib.sh" "$BUILT/libbackend_api.a" "$L/libbackend_api.a"

# pkg-config: the files get a relocatable prefix; the -static one links the archive itself.
IFS=. read -r MAJOR MINOR _ <<< "$VERSION"
template() { # IN OUT
    sed -e "s|@PREFIX@|$PC_PREFIX|g" -e 's|@LIBDIR@|${prefix}/lib|g' -e 's|@INCLUDEDIR@|${prefix}/include|g' \
        -e "s|@VERSION@|$VERSION|g" -e "s|@MAJOR@|$MAJOR|g" -e "s|@MINOR@|$MINOR|g" \
        -e "s|@SONAME@|$SONAME|g" -e "s|@REALNAME@|$REALNAME|g" -e "s|@NATIVE_LIBS@|$NATIVE_LIBS|g" \
        -e 's|@CMAKE_TO_LIBDIR@|../..|g' -e 's|@CMAKE_TO_INCLUDEDIR@|../../../include|g' \
        -e "s|@CMAKE_NATIVE_LIBS@|$(echo "$NATIVE_LIBS" | sed 's/^-l//; s/ -l/;/g')|g" \
        -e "s|@SIZEOF_VOID_P@|$(rustc --print cfg --target "$TARGET_TRIPLE" | sed -n 's/^target_pointer_width="\(.*\)"/\1/p' | awk '{print $1 / 8}')|g" \
        "$1" > "$2"
}
template "$ROOT/pkg/backend_api.pc.in" "$L/pkgconfig/backend_api.pc"
template "$ROOT/pkg/backend_api-static.pc.in" "$L/pkgconfig/backend_api-static.pc"
mkdir -p "$L/cmake/backend_api"
template "$ROOT/pkg/backend_apiConfig.cmake.in" "$L/cmake/backend_api/backend_apiConfig.cmake"
template "$ROOT/pkg/backend_apiConfigVersion.cmake.in" "$L/cmake/backend_api/backend_apiConfigVersion.cmake"

# The command-line client, linked to the tree's own shared library.
mkdir -p "$OUT/bin"
# shellcheck disable=SC2016  # $ORIGIN is for the dynamic loader
"$CC" "${CLI_CFLAGS[@]}" -O2 -I"$OUT/include" "${CLI_SOURCES[@]/#/$ROOT/cli/}" -o "$OUT/bin/backend-api" \
    -L"$L" -lbackend_api -ldl -lpthread -Wl,-rpath,'$ORIGIN/../lib'
install_data() { # SOURCE DEST_DIR [NAME]
    [ -n "$1" ] || return 0
    install -D -m 644 "$ROOT/$1" "$OUT/$2/${3:-$(basename "$1")}"
}
install_data "${CLI[0]}" share/man/man1
install_data "${CLI[1]}" share/bash-completion/completions backend-api
install_data "${CLI[2]}" share/zsh/site-functions
for doc in README.md CHANGELOG.md LICENSE; do install_data "$doc" share/doc/backend-api; done

echo "stage: $OUT: backend_api $VERSION (soname $SONAME)" >&2
