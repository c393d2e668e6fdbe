#!/usr/bin/env bash
# Usage: .ci/install-chroot.sh NAME [--check 'CMD ARGS'] PACKAGE...
#
# Builds (or reuses) a minimal Debian 13 (trixie) chroot with PACKAGE... installed, cached
# OUTSIDE the repository at ${BACKEND_API_CACHE:-$HOME/.cache/backend-api}/NAME, and prints
# its path as the LAST stdout line. Run commands inside it with scripts/in-chroot.sh NAME.
# The project's chroots, trixie because Debian 12 packages neither Swift nor a Rust as new as
# the MSRV, and Debian 13 packages both (`swiftlang` 6.0.3, `rustc` 1.85.1):
#   swift-chroot  Swift 6 (.ci/install-swift.sh), also the Rust-free "clean machine"
#   cross-chroot  Debian's Rust 1.85, mingw-w64 and Wine (.ci/install-cross.sh)
#
# debootstrap --variant=minbase from the machine's own Debian mirror (.ci/debian-mirror.sh).
# A new chroot is built in NAME.partial and renamed to NAME only once it works, so an
# interrupted run never leaves a half-built NAME; a re-run resumes after debootstrap. An
# existing chroot (marker file NAME/.backend-api-chroot-ok) gets the packages it lacks. With
# --check, CMD must succeed inside afterwards. All chroot work runs in a private mount
# namespace (unshare --mount), so no mount outlives this script. Concurrent runs are
# serialised with flock on ${CACHE}/NAME.lock. Needs root and the Debian mirror.
# Non-interactive (CI=true, no stdin). Progress goes to stderr.
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive
# HOME may be unset in minimal CI environments.
: "${HOME:=$(getent passwd "$(id -u)" | cut -d: -f6)}"; export HOME
[ $# -ge 2 ] || { echo "usage: $0 NAME [--check 'CMD'] PACKAGE..." >&2; exit 2; }
NAME=$1; shift
CHECK=
if [ "$1" = --check ]; then CHECK=$2; shift 2; fi
PACKAGES=("$@")
CACHE=${BACKEND_API_CACHE:-$HOME/.cache/backend-api}
ROOT=$CACHE/$NAME
PARTIAL=$ROOT.partial
MARKER=.backend-api-chroot-ok
LEGACY_MARKER=.backend-api-swift-ok   # written by the Swift-only installer before
CHROOT_PATH=/usr/libexec/swift/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

log() { echo "install-chroot($NAME): $*" >&2; }

[ "$(id -u)" = 0 ] || { log "must run as root"; exit 1; }
mkdir -p "$CACHE"

# Run "$@" inside chroot $1 in a private mount namespace with /proc, /dev, /sys and a
# throwaway tmpfs /tmp mounted; the mounts disappear with the namespace whatever happens.
in_chroot() {
    local root=$1; shift
    # shellcheck disable=SC2016  # the inner script expands its own positional parameters
    unshare --mount --propagation private -- /bin/sh -eu -c '
        root=$1; shift
        mount -t proc proc "$root/proc"
        mount --bind /dev "$root/dev"
        mount --bind /dev/pts "$root/dev/pts"
        mount --bind /sys "$root/sys"
        mount -t tmpfs -o mode=1777 tmpfs "$root/tmp"
        exec chroot "$root" /usr/bin/env -i \
            PATH='"$CHROOT_PATH"' HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive \
            LD_LIBRARY_PATH=/usr/libexec/swift/lib/swift/linux "$@"
    ' in_chroot "$root" "$@"
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

install_packages() { # ROOT: installs the PACKAGES it lacks
    local missing=() p
    for p in "${PACKAGES[@]}"; do
        in_chroot "$1" dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
            || missing+=("$p")
    done
    [ ${#missing[@]} -gt 0 ] || return 0
    log "apt-get install ${missing[*]} (inside the chroot)"
    in_chroot "$1" apt-get update -qq >&2
    in_chroot "$1" dpkg --configure -a >&2   # finish a dpkg run interrupted earlier
    in_chroot "$1" apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
    in_chroot "$1" apt-get clean >&2
}

exec 9>"$CACHE/$NAME.lock"
flock 9

if [ -e "$ROOT/$MARKER" ] || [ -e "$ROOT/$LEGACY_MARKER" ]; then
    log "reusing $ROOT"
    install_packages "$ROOT"
    [ -e "$ROOT/$MARKER" ] || date -u +%FT%TZ > "$ROOT/$MARKER"
else
    if [ -e "$ROOT" ]; then
        log "$ROOT exists but was never finished; rebuilding"
        safe_rm "$ROOT"
    fi
    if ! command -v debootstrap >/dev/null; then
        log "installing debootstrap"
        apt-get update -qq >&2
        apt-get install -y -qq --no-install-recommends debootstrap >&2
    fi
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
    install_packages "$PARTIAL"
    if [ -n "$CHECK" ]; then
        # shellcheck disable=SC2086  # CHECK is a command line, split on purpose
        in_chroot "$PARTIAL" $CHECK >&2 || { log "'$CHECK' fails in $PARTIAL"; exit 1; }
    fi
    date -u +%FT%TZ > "$PARTIAL/$MARKER"
    mv "$PARTIAL" "$ROOT"
    log "built $ROOT"
fi
# A minbase chroot may lack /etc/hosts, and then `localhost` does not resolve there (no
# DNS either): the tests that resolve a name run inside, as on any machine, through it.
if [ ! -s "$ROOT/etc/hosts" ]; then
    log "writing $ROOT/etc/hosts (localhost)"
    printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' > "$ROOT/etc/hosts"
fi
if [ -n "$CHECK" ]; then
    # shellcheck disable=SC2086
    in_chroot "$ROOT" $CHECK >&2 || { log "'$CHECK' fails in $ROOT"; exit 1; }
fi
echo "$ROOT"
