#!/usr/bin/env bash
# The Swift drain benchmark program (bench/Sources/Drain/main.swift).
#
#   BACKEND_API_LIB_DIR=<folder with libbackend_api.so> bench/drain.sh build
#       builds it in release mode, Swift 6 mode, warnings as errors: with the machine's
#       `swift` when there is one, else in the Swift chroot (scripts/in-chroot.sh swift-chroot).
#       The library folder is baked in as the run path.
#   bench/drain.sh run BASE_URL N
#       runs it (exit 0 only when all N chunks arrived). Without a Swift toolchain on the
#       machine it runs through the chroot's own dynamic loader and libraries, as a plain
#       child process (no chroot, no mounts), so getrusage/time measure the program itself.
set -euo pipefail

die() { echo "bindings/swift/bench/drain.sh: $*" >&2; exit 2; }

bench=$(cd "$(dirname "$0")" && pwd -P)
pkg=$(dirname "$bench")
repo=$(cd "$pkg/../.." && pwd -P)
chroot=${BACKEND_API_CACHE:-$HOME/.cache/backend-api}/swift-chroot
program=$bench/.build/release/backend-api-drain

case ${1:-} in
build)
    # shellcheck source=../common.sh
    . "$pkg/common.sh"
    use_library "$bench/.build/soname"
    set -- swift build -c release --package-path "$bench" --scratch-path "$bench/.build" \
        -Xswiftc -warnings-as-errors -Xlinker -L"$lib" -Xlinker -rpath -Xlinker "$libpath"
    if command -v swift >/dev/null; then
        "$@"
    else
        host=$(common "$repo" "$lib")
        [ "$host" != / ] || die "the repo ($repo) and BACKEND_API_LIB_DIR ($lib) share no parent but /"
        "$repo/scripts/in-chroot.sh" swift-chroot "$host" -- "$@"
    fi
    echo "built $program"
    ;;
run)
    [ $# -eq 3 ] || die "usage: drain.sh run BASE_URL N"
    [ -x "$program" ] || die "$program is not built (drain.sh build)"
    shift
    if command -v swift >/dev/null; then
        exec "$program" "$@"
    fi
    arch=$(uname -m)
    loader=$(ls "$chroot"/lib*/ld-linux*.so.* 2>/dev/null | head -n 1)
    [ -n "$loader" ] || die "no Swift toolchain here and no chroot at $chroot (.ci/install-swift.sh)"
    exec "$loader" --library-path \
        "$chroot/usr/lib/$arch-linux-gnu:$chroot/lib/$arch-linux-gnu:$chroot/usr/libexec/swift/lib/swift/linux" \
        "$program" "$@"
    ;;
*)
    die "usage: drain.sh build | run BASE_URL N"
    ;;
esac
