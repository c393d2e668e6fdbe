#!/usr/bin/env bash
# Usage: scripts/in-chroot.sh NAME HOST_DIR -- CMD [ARGS...]
#
# Runs CMD inside the trixie chroot NAME built by .ci/install-chroot.sh
# (${BACKEND_API_CACHE:-$HOME/.cache/backend-api}/NAME: swift-chroot, cross-chroot), with
# HOST_DIR bind-mounted at the same absolute path inside the chroot and as the working directory.
# Exits with CMD's exit status.
#
# Inside the chroot:
#   PATH            /usr/libexec/swift/bin:<standard dirs>
#   LD_LIBRARY_PATH /usr/libexec/swift/lib/swift/linux[:$CHROOT_LD_LIBRARY_PATH]
#   HOME=/root, LANG=C.UTF-8, TERM and CI passed through; other variables are NOT passed
#   unless named in CHROOT_ENV (space-separated names, e.g. CHROOT_ENV="RUST_LOG FOO").
#   HOST_DIR is canonicalised (symlinks resolved); paths in CMD must use the same form.
#   Only HOST_DIR is visible from the host: it must contain everything CMD needs (the
#   Swift package AND the C header and shared library it links), e.g. the repo root.
#
# CHROOT_OVERLAY=1: the chroot's root is an overlay (overlayfs, its upper layer in a
#   temporary folder on the host) whose changes vanish at exit: packages installed with
#   dpkg, files written to /usr or /opt. tests/clean-machine/run.sh uses it to get a
#   pristine machine each time without copying the cached chroot.
#
# Mounts: /proc, /dev, /dev/pts, /sys, a fresh tmpfs on /tmp (only those not already
# mounted; the chroot's /tmp does not persist between runs) and a plain,
# non-recursive `mount --bind HOST_DIR` (submounts of HOST_DIR are NOT carried in).
# Everything this script mounts is unmounted on exit (EXIT/INT/TERM trap). In addition the
# script re-executes itself in a private mount namespace (unshare --mount --propagation
# private), so its mounts are invisible to the host and vanish with the process even if it
# is SIGKILLed, and concurrent runs cannot unmount each other's mounts. Needs root.
set -euo pipefail

usage() { echo "usage: $0 NAME HOST_DIR -- CMD [ARGS...]" >&2; exit 2; }
die() { echo "in-chroot: $*" >&2; exit 2; }
# HOME may be unset in minimal CI environments.
: "${HOME:=$(getent passwd "$(id -u)" | cut -d: -f6)}"; export HOME

if [ $# -lt 4 ] || [ "$3" != "--" ]; then usage; fi
[ "$(id -u)" = 0 ] || die "must run as root"

CACHE=${BACKEND_API_CACHE:-$HOME/.cache/backend-api}
ROOT=$CACHE/$1
if [ ! -e "$ROOT/.backend-api-chroot-ok" ] && [ ! -e "$ROOT/.backend-api-swift-ok" ]; then
    die "no chroot at $ROOT; run .ci/install-chroot.sh (through .ci/install-swift.sh or .ci/install-cross.sh) first"
fi
ROOT=$(realpath "$ROOT")

# Private mount namespace (see header). IN_CHROOT_NS marks the inner run.
if [ -z "${IN_CHROOT_NS:-}" ] && command -v unshare >/dev/null \
        && unshare --mount --propagation private true 2>/dev/null; then
    IN_CHROOT_NS=1 exec unshare --mount --propagation private -- "$0" "$@"
fi

[ -d "$2" ] || die "HOST_DIR '$2' is not a directory"
HOST_DIR=$(realpath "$2")
shift 3

# Refuse bind mounts that would shadow the chroot's own system or hide the chroot itself.
case "$HOST_DIR/" in
    //) die "refusing HOST_DIR=/" ;;
    /proc/*|/dev/*|/sys/*|/usr/*|/etc/*|/bin/*|/sbin/*|/lib/*|/lib32/*|/lib64/*|/libx32/*|/boot/*|/run/*)
        die "refusing HOST_DIR=$HOST_DIR (would shadow a system directory of the chroot)" ;;
esac
case "$ROOT/" in "$HOST_DIR"/*) die "refusing HOST_DIR=$HOST_DIR: it contains the chroot $ROOT" ;; esac
case "$HOST_DIR/" in "$ROOT"/*) die "refusing HOST_DIR=$HOST_DIR: it is inside the chroot" ;; esac

MOUNTED=()   # what we mounted, in order; unmounted in reverse
# shellcheck disable=SC2317  # invoked via trap
cleanup() {
    local i m
    for (( i=${#MOUNTED[@]}-1; i>=0; i-- )); do
        m=${MOUNTED[i]}
        umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null \
            || echo "in-chroot: could not unmount $m" >&2
    done
    MOUNTED=()
    if [ -n "${LAYERS:-}" ] && ! mountpoint -q "$LAYERS/root"; then rm -rf --one-file-system "$LAYERS"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mnt() { # mnt TARGET MOUNT-ARGS...: mount unless TARGET is already a mount point
    local target=$1; shift
    if mountpoint -q "$target"; then return 0; fi
    mount "$@" "$target"
    MOUNTED+=("$target")
}

if [ "${CHROOT_OVERLAY:-0}" = 1 ]; then
    LAYERS=$(mktemp -d "${TMPDIR:-/tmp}/chroot-overlay.XXXXXX")
    mkdir "$LAYERS/upper" "$LAYERS/work" "$LAYERS/root"
    mnt "$LAYERS/root" -t overlay overlay -o "lowerdir=$ROOT,upperdir=$LAYERS/upper,workdir=$LAYERS/work"
    ROOT=$LAYERS/root
fi
mnt "$ROOT/proc" -t proc proc
mnt "$ROOT/dev" --bind /dev
if [ -d "$ROOT/dev/pts" ]; then mnt "$ROOT/dev/pts" --bind /dev/pts; fi
mnt "$ROOT/sys" --bind /sys
# Fresh /tmp per run: swift-driver leaves TemporaryDirectory.* behind in /tmp on every
# invocation, which would pile up in the cached chroot. (Mount points for HOST_DIRs under
# /tmp are created inside this tmpfs, so they vanish too.)
mnt "$ROOT/tmp" -t tmpfs -o mode=1777,size=50% tmpfs
# The mount point must not leave the chroot through a symlink (e.g. trixie's /var/run -> /run).
[ "$(realpath -m "$ROOT$HOST_DIR")" = "$ROOT$HOST_DIR" ] \
    || die "$ROOT$HOST_DIR resolves to $(realpath -m "$ROOT$HOST_DIR"); refusing to mount there"
mkdir -p "$ROOT$HOST_DIR"
mnt "$ROOT$HOST_DIR" --bind "$HOST_DIR"

LIBS=/usr/libexec/swift/lib/swift/linux${CHROOT_LD_LIBRARY_PATH:+:$CHROOT_LD_LIBRARY_PATH}
ENVS=(PATH=/usr/libexec/swift/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
      HOME=/root LANG=C.UTF-8 "TERM=${TERM:-dumb}" "LD_LIBRARY_PATH=$LIBS")
if [ -n "${CI:-}" ]; then ENVS+=("CI=$CI"); fi
for name in ${CHROOT_ENV:-}; do
    if [ -n "${!name+x}" ]; then ENVS+=("$name=${!name}"); fi
done

rc=0
# shellcheck disable=SC2016  # the inner sh expands its own positional parameters
chroot "$ROOT" /usr/bin/env -i "${ENVS[@]}" \
    /bin/sh -c 'cd "$1" && shift && exec "$@"' in-chroot "$HOST_DIR" "$@" || rc=$?
exit "$rc"
