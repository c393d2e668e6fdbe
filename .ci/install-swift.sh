#!/usr/bin/env bash
# Install (or reuse) a Swift 6 toolchain for the Swift binding's tests.
#
# Debian 12 (bookworm) has no Swift package; Debian 13 (trixie) packages Swift 6 as
# `swiftlang`. We therefore build a minimal trixie chroot (debootstrap --variant=minbase,
# using the machine's own Debian mirror, .ci/debian-mirror.sh) with `swiftlang` and
# `libc6-dev`, cached OUTSIDE
# the repository at
#     ${BACKEND_API_CACHE:-$HOME/.cache/backend-api}/swift-chroot      (~3 GB)
# and reused when `chroot ROOT /usr/libexec/swift/bin/swift --version` works there
# (with /proc mounted: without it swift-frontend dies with "Illegal instruction").
# A marker file ROOT/.backend-api-swift-ok is written after a successful install.
#
# The same chroot is the "clean machine" of tests/clean-machine/run.sh: no Rust toolchain,
# but the tools a user of the C library has (gcc/g++, make, CMake, pkgconf, Go 1.24 from
# trixie). They are installed here too, also into an existing chroot that lacks them.
#
# The chroot is built in ROOT.partial and renamed to ROOT only once it works, so an
# interrupted run never leaves a half-built ROOT; a re-run resumes after debootstrap.
# All chroot work (including debootstrap, which mounts /proc and /sys itself) runs in
# a private mount namespace (unshare --mount), so no mount can outlive this script.
# Concurrent runs are serialised with flock on ${CACHE}/swift-chroot.lock.
#
# Needs root, network access to the Debian mirror. Non-interactive (CI=true, no stdin).
# Output: progress on stderr; on stdout the `swift --version` lines, then the chroot
# path as the LAST stdout line. Run commands inside it with scripts/in-swift-chroot.sh.
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive
# HOME may be unset in minimal CI environments.
: "${HOME:=$(getent passwd "$(id -u)" | cut -d: -f6)}"; export HOME
CACHE=${BACKEND_API_CACHE:-$HOME/.cache/backend-api}
ROOT=$CACHE/swift-chroot
PARTIAL=$ROOT.partial
MARKER=.backend-api-swift-ok
PACKAGES=(swiftlang libc6-dev gcc g++ make cmake pkgconf golang-go)
SWIFT=/usr/libexec/swift/bin/swift
CHROOT_PATH=/usr/libexec/swift/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

log() { echo "install-swift: $*" >&2; }

[ "$(id -u)" = 0 ] || { log "must run as root"; exit 1; }
mkdir -p "$CACHE"

# Run "$@" inside chroot $1 in a private mount namespace with /proc, /dev, /sys and a
# throwaway tmpfs /tmp mounted;
# the mounts disappear with the namespace whatever happens.
in_chroot() {
    local root=$1; shift
    # shellcheck disable=SC2016  # the inner script expands its own positional parameters
    unshare --mount --propagation private -- /bin/sh -eu -c '
        root=$1; shift
        mount -t proc proc "$root/proc"
        mount --bind /dev "$root/dev"
        mount --bind /dev/pts "$root/dev/pts"
        mount --bind /sys "$root/sys"
        mount -t tmpfs -o mode=1777 tmpfs "$root/tmp"   # swift-driver litters /tmp
        exec chroot "$root" /usr/bin/env -i \
            PATH='"$CHROOT_PATH"' HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive \
            LD_LIBRARY_PATH=/usr/libexec/swift/lib/swift/linux "$@"
    ' in_chroot "$root" "$@"
}

swift_works() { # $1 = chroot root
    [ -x "$1$SWIFT" ] && in_chroot "$1" "$SWIFT" --version >/dev/null 2>&1
}

# Refuse to delete anything that still has something mounted below it.
safe_rm() {
    local d=$1
    [ -e "$d" ] || return 0
    if awk -v d="$(realpath "$d")" '$5 == d || index($5, d "/") == 1 {found=1} END {exit !found}' /proc/self/mountinfo; then
        log "refusing to delete $d: something is mounted below it (see /proc/self/mountinfo)"
        exit 1
    fi
    rm -rf --one-file-system "$d"
}

exec 9>"$CACHE/swift-chroot.lock"
flock 9

if swift_works "$ROOT"; then
    log "reusing $ROOT"
    [ -e "$ROOT/$MARKER" ] || date -u +%FT%TZ > "$ROOT/$MARKER"
    missing=()
    for p in "${PACKAGES[@]}"; do
        in_chroot "$ROOT" dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
            || missing+=("$p")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        log "apt-get install ${missing[*]} (inside the chroot)"
        in_chroot "$ROOT" apt-get update -qq >&2
        in_chroot "$ROOT" apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
        in_chroot "$ROOT" apt-get clean >&2
    fi
else
    if [ -e "$ROOT" ]; then
        log "$ROOT exists but swift does not run in it; rebuilding"
        safe_rm "$ROOT"
    fi
    if ! command -v debootstrap >/dev/null; then
        log "installing debootstrap"
        apt-get update -qq >&2
        apt-get install -y -qq --no-install-recommends debootstrap >&2
    fi
    # The machine's own Debian mirror (first URIs: line of the deb822 sources file).
    MIRROR=$("$(dirname "$0")/debian-mirror.sh")   # fails clearly when apt has no Debian source

    if [ ! -e "$PARTIAL/.debootstrap-done" ]; then
        safe_rm "$PARTIAL"
        log "debootstrap --variant=minbase trixie $PARTIAL $MIRROR"
        unshare --mount --propagation private -- \
            debootstrap --variant=minbase trixie "$PARTIAL" "$MIRROR" >&2
        touch "$PARTIAL/.debootstrap-done"
    else
        log "resuming in $PARTIAL (debootstrap already done)"
    fi
    log "apt-get install ${PACKAGES[*]} (inside the chroot)"
    in_chroot "$PARTIAL" apt-get update -qq >&2
    in_chroot "$PARTIAL" dpkg --configure -a >&2   # finish a dpkg run interrupted earlier
    in_chroot "$PARTIAL" apt-get install -y -q --no-install-recommends "${PACKAGES[@]}" >&2
    in_chroot "$PARTIAL" apt-get clean >&2
    swift_works "$PARTIAL" || { log "swift does not run in $PARTIAL"; exit 1; }
    date -u +%FT%TZ > "$PARTIAL/$MARKER"
    mv "$PARTIAL" "$ROOT"
    log "built $ROOT"
fi

in_chroot "$ROOT" "$SWIFT" --version
echo "$ROOT"
