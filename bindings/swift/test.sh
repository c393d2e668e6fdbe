#!/usr/bin/env bash
# Runs the Swift binding's tests (`swift test`) inside the Swift 6 trixie chroot
# (scripts/in-chroot.sh swift-chroot, built by .ci/install-swift.sh).
#
# Environment (both required; scripts/test.sh sets them):
#   BACKEND_API_LIB_DIR       folder holding libbackend_api.so (cargo's target/debug)
#   BACKEND_API_TEST_BACKEND  the test backend binary (cargo build --example test_backend)
# Optional:
#   SWIFT_TEST_TIMEOUT        seconds before the whole run is killed (default 900)
#   SWIFT_TEST_ARGS           extra arguments for `swift test`, e.g. "--filter Cancellation"
#
# The chroot sees only one host folder (bind-mounted at the same path), so this
# script mounts the deepest folder that contains the repository, the library and the
# backend. They must share a parent other than `/` (e.g. all under the repo's parent).
# SwiftPM's build folder is .build at the repository's root (gitignored). The library is found
# through pkg-config, as users find it: a backend_api.pc in .build/pkgconfig points at the
# library folder. Exits non-zero on failure.
set -euo pipefail

die() { echo "bindings/swift/test.sh: $*" >&2; exit 2; }

repo=$(cd "$(dirname "$0")/../.." && pwd -P)
pkg=$repo   # Package.swift is at the repository's root (SwiftPM's rule); sources in bindings/swift

[ -n "${BACKEND_API_LIB_DIR:-}" ] || die "BACKEND_API_LIB_DIR is not set (the folder with libbackend_api.so)"
[ -n "${BACKEND_API_TEST_BACKEND:-}" ] || die "BACKEND_API_TEST_BACKEND is not set (the test_backend binary)"
[ -d "$BACKEND_API_LIB_DIR" ] || die "BACKEND_API_LIB_DIR=$BACKEND_API_LIB_DIR is not a folder"
lib=$(realpath "$BACKEND_API_LIB_DIR")
[ -e "$lib/libbackend_api.so" ] || [ -e "$lib/libbackend_api.dylib" ] \
    || die "no libbackend_api.so in $lib (run cargo build)"
[ -x "$BACKEND_API_TEST_BACKEND" ] || die "BACKEND_API_TEST_BACKEND=$BACKEND_API_TEST_BACKEND is not executable"
backend=$(realpath "$BACKEND_API_TEST_BACKEND")

# The deepest common parent folder of the repository, the library and the backend.
common() { # common A B: the deepest folder containing both absolute paths
    local a=$1/ b=$2/ p=""
    while [ -n "$a" ] && [ "${a%%/*}" = "${b%%/*}" ] && [ "$a" != "${a#*/}" ]; do
        p+="${a%%/*}/"; a=${a#*/}; b=${b#*/}
    done
    p=${p%/}
    echo "${p:-/}"
}
host=$(common "$repo" "$lib")
host=$(common "$host" "$(dirname "$backend")")
[ "$host" != / ] || die "the repo ($repo), BACKEND_API_LIB_DIR ($lib) and the backend ($backend) share no parent but /; put them under one folder (e.g. CARGO_TARGET_DIR under the repo's parent)"

# Programs linked to the library look for its soname (libbackend_api.so.0.MINOR, see
# build.rs). When the lib folder has no file of that name, a symlink to it goes in a
# folder of our own inside .build (the lib folder is not ours to write).
libpath=$lib
soname=$(readelf -d "$lib/libbackend_api.so" 2>/dev/null | sed -n 's/.*SONAME.*\[\(.*\)\]/\1/p' || true)
if [ -n "$soname" ] && [ ! -e "$lib/$soname" ]; then
    shim=$pkg/.build/soname
    mkdir -p "$shim"
    ln -sfn "$lib/libbackend_api.so" "$shim/$soname"
    libpath=$lib:$shim
fi

mkdir -p "$pkg/.build/pkgconfig"
cat > "$pkg/.build/pkgconfig/backend_api.pc" <<PC
Name: backend_api
Description: backend-api (in-tree test)
Version: $(sed -n 's/^version *= *"\(.*\)".*/\1/p' "$repo/Cargo.toml" | head -n 1)
Cflags: -I$repo/include
Libs: -L$lib -lbackend_api
PC

echo "swift test: package $pkg, library $lib, backend $backend, chroot sees $host"
export BACKEND_API_TEST_BACKEND=$backend
export CHROOT_LD_LIBRARY_PATH=$libpath
export PKG_CONFIG_PATH=$pkg/.build/pkgconfig
export CHROOT_ENV="BACKEND_API_TEST_BACKEND PKG_CONFIG_PATH${CHROOT_ENV:+ $CHROOT_ENV}"
# shellcheck disable=SC2086  # SWIFT_TEST_ARGS is split on purpose
exec timeout --kill-after=30 "${SWIFT_TEST_TIMEOUT:-900}" \
    "$repo/scripts/in-chroot.sh" swift-chroot "$host" -- \
    swift test --package-path "$pkg" --scratch-path "$pkg/.build" \
        -Xswiftc -warnings-as-errors ${SWIFT_TEST_ARGS:-}
