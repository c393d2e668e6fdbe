#!/usr/bin/env bash
# Usage: scripts/release.sh [OUT [TARGET...]]    (OUT: dist/ by default, replaced)
#
# Builds the release files of the version in Cargo.toml, each named after its target triple
# (TARGET: any of the triples below; all of them by default):
#   x86_64-unknown-linux-gnu, aarch64-unknown-linux-gnu
#       OUT/backend-api-VERSION-TRIPLE.tar.gz  one folder backend-api-VERSION-TRIPLE/ holding
#           the installation tree of scripts/stage.sh (lib/ with the shared and static
#           libraries, pkg-config files with a relocatable prefix and the CMake package;
#           include/ with the C and C++ headers; bin/backend-api, the command-line client;
#           share/ its man page and completions) plus LICENSE, README.md and CHANGELOG.md
#       OUT/backend-api_VERSION-1_ARCH.deb     (amd64, arm64) the same tree installed for /usr
#           (make install DESTDIR=...), packed by dpkg-deb (control file: pkg/deb/control.in)
#       Linked against glibc 2.28 with zig (cargo-zigbuild's `zig cc`), so they run on
#       Debian 10+, Ubuntu 20.04+, RHEL 8+; the highest GLIBC_ symbol version is printed and
#       must not exceed it.
#   x86_64-unknown-linux-musl, aarch64-unknown-linux-musl
#       OUT/backend-api-VERSION-TRIPLE.tar.gz  the command-line client alone, linked statically
#           with musl (no dynamic dependencies: for Alpine and `FROM scratch` containers):
#           bin/backend-api, share/ (man page, completions), LICENSE, README.md, CHANGELOG.md
#   x86_64-pc-windows-gnu
#       OUT/backend-api-VERSION-TRIPLE.zip     bin/backend_api.dll, bin/backend-api.exe (the
#           command-line client, linked to the DLL beside it); lib/libbackend_api.dll.a
#           (import library for MinGW), lib/backend_api.lib (for MSVC, made by llvm-dlltool
#           from lib/backend_api.def and read back by lld-link), lib/libbackend_api.a (static,
#           only the C API global), lib/pkgconfig/, lib/cmake/backend_api/ (CMake package);
#           include/ (C header, C++ wrapper); LICENSE, README.md, CHANGELOG.md
#   OUT/SHA256SUMS                             sha256sum of every other file in OUT
#
# Where: the host's target is built here with the host's Rust (target folder
# target/glibc-2.28, shared with `make GLIBC=2.28`); the others in the cross chroot (.ci/install-cross.sh: Debian's rustc
# 1.85.1 builds their standard library from rust-src, -Zbuild-std), entered with
# scripts/in-chroot.sh, in target/cross, the folder scripts/cross.sh uses too: the Windows
# build is made once and tested there. This script re-enters itself in the chroot as
# `release.sh --in-cross STEP TRIPLE` (STEP: gnu, musl, windows), which builds into
# target/cross/TRIPLE/release/stage; packing, checks and checksums happen on the host.
# Refuses a version without its CHANGELOG.md entry. Tools: .ci/install-cargo-tools.sh (zig),
# .ci/install-cross.sh, dpkg-deb. Env: CARGO_TARGET_DIR (./target).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
: "${HOME:=$(getent passwd "$(id -u)" | cut -d: -f6)}"
TOOLS=${BACKEND_API_CACHE:-$HOME/.cache/backend-api}/cargo-tools/bin
[ -d "$TOOLS" ] && PATH=$TOOLS:$PATH
GLIBC=2.28
TARGETS=(x86_64-unknown-linux-gnu aarch64-unknown-linux-gnu x86_64-unknown-linux-musl aarch64-unknown-linux-musl
    x86_64-pc-windows-gnu)
die() { echo "release: $*" >&2; exit 1; }
TARGET_DIR=$(realpath -m "${CARGO_TARGET_DIR:-$ROOT/target}")
CROSS_DIR=$TARGET_DIR/cross   # in the chroot: CARGO_TARGET_DIR itself (see the end of in_cross)

# ---- Inside the cross chroot: build one target's tree into CROSS_DIR/TRIPLE/release/stage.
# Debian's cargo with std built from rust-src; crates.io through the host's CA bundle.
in_cross() { # STEP TRIPLE
    local step=$1 triple=$2 arch=${2%%-*}
    export CARGO_HTTP_CAINFO=/etc/ssl/certs/ca-certificates.crt CARGO_TARGET_DIR=$CROSS_DIR RUSTC_BOOTSTRAP=1
    # -Zbuild-std as configuration, so that cargo-c (which has no such option) builds std too
    # (cargo-c is Debian's, in the chroot: the Windows tree's DLL, .def and import library).
    export CARGO_UNSTABLE_BUILD_STD="std panic_unwind"
    local stage=$CROSS_DIR/$triple/release/stage
    case $step in
    gnu)
        # The target's binutils localise the static library (scripts/localize-staticlib.sh).
        LD=$arch-linux-gnu-ld OBJCOPY=$arch-linux-gnu-objcopy AR=$arch-linux-gnu-ar \
            "$ROOT/scripts/stage.sh" "$stage" --target "$triple" --glibc "$GLIBC"
        strip_tree "$arch-linux-gnu-strip" "$stage"
        ;;
    musl)
        # Only the static library is needed: the client is linked by zig against musl, and
        # with it Rust's unwinder (-lunwind: zig builds LLVM's libunwind).
        local zigcc=$CROSS_DIR/zigcc-$triple
        printf '#!/bin/sh\nexec cargo-zigbuild zig cc -- -fno-sanitize=all -target %s-linux-musl "$@"\n' "$arch" > "$zigcc"
        chmod +x "$zigcc"
        # shellcheck disable=SC2097,SC2098  # CC_<triple> is for cc-rs (ring's C code)
        env "CC_${triple//-/_}=$zigcc" "CARGO_TARGET_$(echo "$triple" | tr '[:lower:]-' '[:upper:]_')_LINKER=$zigcc" \
            cargo rustc --manifest-path "$ROOT/Cargo.toml" --release --locked --lib --crate-type staticlib --target "$triple"
        # shellcheck source=cli/cflags.sh
        . "$ROOT/cli/cflags.sh"
        rm -rf "$stage"
        mkdir -p "$stage/bin"
        "$zigcc" "${CLI_CFLAGS[@]}" -O2 -static -I"$ROOT/include" "${CLI_SOURCES[@]/#/$ROOT/cli/}" \
            "$CROSS_DIR/$triple/release/libbackend_api.a" -lunwind -o "$stage/bin/backend-api"
        install -D -m 644 "$ROOT/cli/backend-api.1" "$stage/share/man/man1/backend-api.1"
        install -D -m 644 "$ROOT/cli/completions/backend-api.bash" "$stage/share/bash-completion/completions/backend-api"
        install -D -m 644 "$ROOT/cli/completions/_backend-api" "$stage/share/zsh/site-functions/_backend-api"
        strip_tree "$arch-linux-gnu-strip" "$stage"
        ;;
    windows) windows_tree "$triple" "$stage" ;;
    *) die "unknown step $step" ;;
    esac
}

strip_tree() { # STRIP STAGE: no debug information shipped (the archive keeps its symbol table)
    local s
    for s in "$2"/lib/libbackend_api.so.*.*.* "$2/bin/backend-api"; do
        [ -e "$s" ] && "$1" --strip-unneeded "$s"
    done
    if [ -e "$2/lib/libbackend_api.a" ]; then "$1" --strip-debug "$2/lib/libbackend_api.a"; fi
}

windows_tree() { # TRIPLE STAGE: cargo-c's tree for Windows, completed
    local triple=$1 stage=$2 dest=$CROSS_DIR/$1/cinstall
    # A fixed destdir: cargo-c rebuilds the library whenever the install paths change.
    rm -rf "$dest"
    cargo cinstall --manifest-path "$ROOT/Cargo.toml" --release --locked --target "$triple" \
        --destdir "$dest" --prefix /prefix --libdir lib --includedir include
    rm -rf "$stage"
    mv "$dest/prefix" "$stage"
    rm -rf "$dest"
    local L=$stage/lib
    [ -f "$L/backend_api.def" ] || die "cargo-c wrote no backend_api.def in $L"
    # The import libraries, both from the DLL's export list: for MinGW by its own dlltool, under
    # MinGW's name (-lbackend_api finds it first), and for MSVC by llvm-dlltool. cargo-c's
    # backend_api.dll.a is not shipped: a MinGW program linked with it crashes at its first
    # call into the DLL under Wine (an unbound import, read at 0xffffffffffffffff).
    rm -f "$L/backend_api.dll.a"
    x86_64-w64-mingw32-dlltool -d "$L/backend_api.def" -D backend_api.dll -l "$L/libbackend_api.dll.a"
    llvm-dlltool -m i386:x86-64 -d "$L/backend_api.def" -D backend_api.dll -l "$L/backend_api.lib"
    LD=x86_64-w64-mingw32-ld OBJCOPY=x86_64-w64-mingw32-objcopy AR=x86_64-w64-mingw32-ar \
        "$ROOT/scripts/localize-staticlib.sh" "$L/libbackend_api.a" "$L/libbackend_api.a"
    x86_64-w64-mingw32-strip --strip-unneeded "$stage/bin/backend_api.dll"
    # The command-line client beside the DLL (Windows looks for a program's DLLs in its folder
    # first), with cli/platform_windows.c and cli/lineedit_windows.c for the POSIX files and
    # MinGW's runtime linked in (-static): it needs nothing but the DLL and Windows.
    # shellcheck source=cli/cflags.sh
    . "$ROOT/cli/cflags.sh"
    x86_64-w64-mingw32-gcc "${CLI_CFLAGS[@]}" -O2 -I"$stage/include" "${CLI_WINDOWS_SOURCES[@]/#/$ROOT/cli/}" \
        "$L/libbackend_api.dll.a" -static -lpthread -lws2_32 -lshell32 -o "$stage/bin/backend-api.exe"
    x86_64-w64-mingw32-strip --strip-unneeded "$stage/bin/backend-api.exe"
    x86_64-w64-mingw32-strip --strip-debug "$L/libbackend_api.a"
    sed -i 's|^prefix=.*|prefix=${pcfiledir}/../..|' "$L"/pkgconfig/*.pc
    local native version
    native=$(sed -n 's/^Libs.private: *//p' "$L/pkgconfig/backend_api.pc")
    version=$(sed -n 's/^Version: *//p' "$L/pkgconfig/backend_api.pc")
    mkdir -p "$L/cmake/backend_api"
    sed -e "s|@VERSION@|$version|g" -e "s|@NATIVE_LIBS@|$(echo "$native" | sed 's/^-l//; s/ -l/;/g')|g" \
        "$ROOT/pkg/windows/backend_apiConfig.cmake.in" > "$L/cmake/backend_api/backend_apiConfig.cmake"
    sed -e "s|@VERSION@|$version|g" -e "s|@MAJOR@|${version%%.*}|g" -e "s|@MINOR@|$(echo "$version" | cut -d. -f2)|g" \
        -e "s|@SIZEOF_VOID_P@|8|g" "$ROOT/pkg/backend_apiConfigVersion.cmake.in" \
        > "$L/cmake/backend_api/backend_apiConfigVersion.cmake"
}

if [ "${1:-}" = --in-cross ]; then
    [ $# = 3 ] || die "usage: $0 --in-cross gnu|musl|windows TRIPLE"
    cd "$ROOT"
    CROSS_DIR=$(realpath -m "${CARGO_TARGET_DIR:-$ROOT/target/cross}")
    in_cross "$2" "$3"
    exit
fi

# ---- On the host.
OUT=$(realpath -m "${1:-$ROOT/dist}")
[ $# -ge 2 ] && TARGETS=("${@:2}")
VERSION=$(sed -n 's/^version *= *"\([0-9][0-9.]*\)".*/\1/p' "$ROOT/Cargo.toml" | head -n 1)
grep -q "^## \[$VERSION\]" "$ROOT/CHANGELOG.md" || die "CHANGELOG.md has no entry '## [$VERSION]'"
HOST=$(rustc -vV | sed -n 's/^host: //p')
MTIME=@$(git -C "$ROOT" log -1 --format=%ct 2>/dev/null || date +%s)

cross() { # STEP TRIPLE: in_cross in the chroot
    [ -e "${BACKEND_API_CACHE:-$HOME/.cache/backend-api}/cross-chroot/.backend-api-chroot-ok" ] ||
        die "$2 is built in the cross chroot: run .ci/install-cross.sh"
    CARGO_TARGET_DIR=$CROSS_DIR CHROOT_ENV=CARGO_TARGET_DIR \
        "$ROOT/scripts/in-chroot.sh" cross-chroot "$ROOT" -- nice "$ROOT/scripts/release.sh" --in-cross "$1" "$2"
}

highest_glibc() { # FILE...: the highest GLIBC_x.y symbol version the files need
    readelf --dyn-syms --wide "$@" | grep -o 'GLIBC_[0-9.]*' | sort -Vu | tail -n 1
}

folder() { # STAGE NAME: STAGE's tree plus LICENSE, README.md and CHANGELOG.md, as PARENT/NAME
    local dir
    dir=$(dirname "$1")/$2
    rm -rf "$dir"
    cp -R -P "$1" "$dir"
    cp "$ROOT/LICENSE" "$ROOT/README.md" "$ROOT/CHANGELOG.md" "$dir/"
    echo "$dir"
}

tarball() { # STAGE TRIPLE: OUT/backend-api-VERSION-TRIPLE.tar.gz
    local name=backend-api-$VERSION-$2 dir
    dir=$(folder "$1" "$name")
    tar -C "$(dirname "$dir")" --sort=name --owner=0 --group=0 --numeric-owner --mtime="$MTIME" \
        -czf "$OUT/$name.tar.gz" "$name"
}

linux_gnu() { # TRIPLE
    local triple=$1 release
    if [ "$triple" = "$HOST" ]; then
        # stage.sh builds the zig-linked library in TARGET_DIR/glibc-2.28, the build
        # `make GLIBC=2.28` makes too (scripts/test.sh runs it first: nothing is built twice).
        release=$TARGET_DIR/glibc-$GLIBC/$triple/release
        CARGO_TARGET_DIR=$TARGET_DIR "$ROOT/scripts/stage.sh" "$release/stage" --target "$triple" --glibc "$GLIBC"
        strip_tree strip "$release/stage"
    else
        cross gnu "$triple"
        release=$CROSS_DIR/$triple/release
    fi
    local need
    need=$(highest_glibc "$release"/stage/lib/libbackend_api.so.*.*.* "$release/stage/bin/backend-api")
    echo "release: $triple: highest glibc symbol version needed: $need"
    [ "$(printf '%s\n' "$need" "GLIBC_$GLIBC" | sort -V | tail -n 1)" = "GLIBC_$GLIBC" ] ||
        die "the $triple artifacts need $need, newer than GLIBC_$GLIBC"
    tarball "$release/stage" "$triple"
    deb "$release" "$triple"
}

deb() { # RELEASE TRIPLE: OUT/backend-api_VERSION-1_ARCH.deb, packed by dpkg-deb
    # The tree installed for /usr as a packager does (make install DESTDIR=...), the control
    # file of pkg/deb/control.in, the dpkg trigger that refreshes the loader's cache, the
    # copyright file from LICENSE and the md5sums of every file.
    local root=$1/deb-root arch
    case $2 in x86_64-*) arch=amd64 ;; aarch64-*) arch=arm64 ;; *) die "no Debian architecture for $2" ;; esac
    rm -rf "$root"
    make -s -C "$ROOT" install STAGE="$1/stage" PREFIX=/usr DESTDIR="$root" > /dev/null
    local doc=$root/usr/share/doc/backend-api
    { printf 'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n'
      printf 'Upstream-Name: backend-api\n\nFiles: *\nCopyright: 2026, The backend-api authors\nLicense: MIT\n'
      sed 's/^$/./; s/^/ /' "$ROOT/LICENSE"; } > "$doc/copyright"
    find "$root" -type d -exec chmod 755 {} + -o -type f -exec chmod 644 {} +
    chmod 755 "$root/usr/bin/backend-api"
    mkdir -p "$root/DEBIAN"
    sed -e "s|@VERSION@|$VERSION|" -e "s|@ARCH@|$arch|" -e "s|@INSTALLED_SIZE@|$(du -sk --exclude=DEBIAN "$root" | cut -f1)|" \
        "$ROOT/pkg/deb/control.in" | grep -v '^#' > "$root/DEBIAN/control"
    install -m 644 "$ROOT/pkg/deb/triggers" "$root/DEBIAN/triggers"
    (cd "$root" && find usr -type f | LC_ALL=C sort | xargs md5sum > DEBIAN/md5sums)
    chmod 644 "$root/DEBIAN/md5sums"
    find "$root" -exec touch -h -d "$MTIME" {} +
    SOURCE_DATE_EPOCH=${MTIME#@} dpkg-deb --root-owner-group -Zxz --build "$root" \
        "$OUT/backend-api_${VERSION}-1_$arch.deb" > /dev/null
}

linux_musl() { # TRIPLE
    cross musl "$1"
    local bin=$CROSS_DIR/$1/release/stage/bin/backend-api
    # A static executable has no program interpreter and needs no shared library.
    if readelf -l "$bin" | grep -q 'INTERP' || readelf -d "$bin" 2>/dev/null | grep -q '(NEEDED)'; then
        die "$bin is not static: $(readelf -d "$bin" | grep NEEDED)"
    fi
    echo "release: $1: the client is static (no INTERP, no NEEDED)"
    tarball "$CROSS_DIR/$1/release/stage" "$1"
}

windows() { # TRIPLE
    cross windows "$1"
    local name=backend-api-$VERSION-$1 dir
    dir=$(folder "$CROSS_DIR/$1/release/stage" "$name")
    local parent
    parent=$(dirname "$dir")
    rm -f "$parent/$name.zip"
    find "$dir" -exec touch -h -d "$MTIME" {} +
    # zip(1) is the cross chroot's (.ci/install-cross.sh), like every Windows tool here.
    # shellcheck disable=SC2016  # expanded by the inner sh
    "$ROOT/scripts/in-chroot.sh" cross-chroot "$parent" -- \
        sh -c 'find "$1" -print | LC_ALL=C sort | zip -q -X -y "$1.zip" -@' zip "$name"
    mv "$parent/$name.zip" "$OUT/"
}

t0=$SECONDS
rm -rf "$OUT"
mkdir -p "$OUT"
for triple in "${TARGETS[@]}"; do
    t=$SECONDS
    case $triple in
        *-linux-gnu) linux_gnu "$triple" ;;
        *-linux-musl) linux_musl "$triple" ;;
        *-windows-gnu) windows "$triple" ;;
        *) die "no release recipe for $triple (known: ${TARGETS[*]})" ;;
    esac
    echo "release: $triple in $((SECONDS - t)) s"
done

(cd "$OUT" && find . -maxdepth 1 -type f ! -name SHA256SUMS -printf '%f\n' | LC_ALL=C sort | xargs sha256sum -- > SHA256SUMS)
echo "release: in $((SECONDS - t0)) s:"
(cd "$OUT" && ls -l && cat SHA256SUMS)
