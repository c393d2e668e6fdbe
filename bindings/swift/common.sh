# Sourced by test.sh and bench/drain.sh. Needs `die` defined by the caller.

# use_library SHIM_DIR: checks BACKEND_API_LIB_DIR and sets `lib` (that folder,
# resolved) and `libpath` (the folders the loader needs). Programs linked to the
# library look for its soname (libbackend_api.so.0.MINOR, see build.rs); when the lib
# folder has no file of that name, a symlink to it goes in SHIM_DIR (the lib folder
# is not ours to write).
use_library() {
    [ -n "${BACKEND_API_LIB_DIR:-}" ] || die "BACKEND_API_LIB_DIR is not set (the folder with libbackend_api.so)"
    [ -d "$BACKEND_API_LIB_DIR" ] || die "BACKEND_API_LIB_DIR=$BACKEND_API_LIB_DIR is not a folder"
    lib=$(realpath "$BACKEND_API_LIB_DIR")
    [ -e "$lib/libbackend_api.so" ] || [ -e "$lib/libbackend_api.dylib" ] \
        || die "no libbackend_api.so in $lib (run cargo build)"
    libpath=$lib
    local soname
    soname=$(readelf -d "$lib/libbackend_api.so" 2>/dev/null | sed -n 's/.*SONAME.*\[\(.*\)\]/\1/p' || true)
    if [ -n "$soname" ] && [ ! -e "$lib/$soname" ]; then
        mkdir -p "$1"
        ln -sfn "$lib/libbackend_api.so" "$1/$soname"
        libpath=$lib:$1
    fi
}

# common A B: the deepest folder containing both absolute paths (the one folder the
# Swift chroot is shown, see scripts/in-chroot.sh).
common() {
    local a=$1/ b=$2/ p=""
    while [ -n "$a" ] && [ "${a%%/*}" = "${b%%/*}" ] && [ "$a" != "${a#*/}" ]; do
        p+="${a%%/*}/"; a=${a#*/}; b=${b#*/}
    done
    p=${p%/}
    echo "${p:-/}"
}
