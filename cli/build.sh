#!/usr/bin/env bash
# Builds the command-line client `backend-api` (cli/*.c, see cli/cli.h) against the library,
# linked statically so that the program stands alone: it needs only the C library at
# run time (libedit, for line editing, is loaded when the system has it).
#
#   cli/build.sh [--debug] [--with-example NAME] [-o OUTPUT] [-- extra cc arguments...]
#
# --with-example NAME builds that example in the same cargo run (scripts/demo.sh: the offline
# backend). The library is then compiled once with the features the examples' dev-dependencies
# add; built alone it would have other ones, and since the static and shared libraries keep one
# file name whatever the features, each build would replace the other's and compile again.
#
# Builds the library first (cargo build --lib, release unless --debug), asks rustc once
# which system libraries the static library needs (kept in
# <target>/<profile>/backend_api.native-static-libs, which `make build` also writes),
# then compiles with the flags of cli/cflags.sh (shared with scripts/stage.sh). The last line
# on standard output is the program's path; the default is <target>/<profile>/backend-api.
# Examples: cli/build.sh; cli/build.sh --debug -o /tmp/b -- -g -fsanitize=address,undefined
#
# Installing (what a package or the release archive holds), from the repository root:
#   bin/backend-api                                  the program
#   share/man/man1/backend-api.1                     cli/backend-api.1
#   share/bash-completion/completions/backend-api    cli/completions/backend-api.bash
#   share/zsh/site-functions/_backend-api            cli/completions/_backend-api
#
# Env: CARGO_TARGET_DIR (default ./target), CARGO (cargo), CC (cc), CFLAGS (added).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TARGET=$(realpath -m "${CARGO_TARGET_DIR:-$ROOT/target}")
export CARGO_TARGET_DIR=$TARGET
CARGO=${CARGO:-cargo}
CC=${CC:-cc}
log() { echo "cli/build.sh: $*" >&2; }

profile=release out='' extra=() examples=()
while [ $# -gt 0 ]; do
    case $1 in
        --debug) profile=debug ;;
        --with-example) examples+=(--example "${2:?--with-example needs a name}"); shift ;;
        -o) out=${2:?-o needs a path}; shift ;;
        --) shift; extra=("$@"); break ;;
        -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) log "unknown argument $1 (see --help)"; exit 2 ;;
    esac
    shift
done
cargo_profile=(); [ "$profile" = release ] && cargo_profile=(--release)
LIBDIR=$TARGET/$profile
out=${out:-$LIBDIR/backend-api}

command -v "$CARGO" > /dev/null || { log "cargo not found: install Rust (https://rustup.rs)"; exit 2; }
command -v "$CC" > /dev/null || { log "no C compiler ($CC) found: install gcc or set CC"; exit 2; }

[ -f "$LIBDIR/libbackend_api.a" ] || log "building the library (the first build takes a few minutes)"
# The system libraries the static library needs, as rustc says (asked once, then kept). Asked
# before the build below: `cargo rustc` compiles the library with its own arguments, and the
# build after it leaves the library as the build asks for it.
NATIVE_FILE=$LIBDIR/backend_api.native-static-libs
if [ ! -s "$NATIVE_FILE" ]; then
    # On a fresh clone the profile's folder does not exist yet, and the redirection below is
    # opened before cargo makes it: without this the first build failed after compiling.
    mkdir -p "$LIBDIR"
    "$CARGO" rustc "${cargo_profile[@]}" --lib --quiet --manifest-path "$ROOT/Cargo.toml" -- \
        --print native-static-libs 2>&1 | sed -n 's/^note: native-static-libs: //p' | tail -n 1 > "$NATIVE_FILE.tmp"
    [ -s "$NATIVE_FILE.tmp" ] || { log "rustc did not print native-static-libs"; exit 1; }
    mv "$NATIVE_FILE.tmp" "$NATIVE_FILE"
fi
read -r -a NATIVE < "$NATIVE_FILE"
"$CARGO" build "${cargo_profile[@]}" --quiet --lib "${examples[@]}" --manifest-path "$ROOT/Cargo.toml"

# shellcheck source=cli/cflags.sh
. "$ROOT/cli/cflags.sh"
opt=(-O2); [ "$profile" = debug ] && opt=(-O0 -g)
# Compiled again only when something it is made of is newer than the program (or other
# flags are given): a second `scripts/demo.sh` with nothing changed compiles nothing.
newer=$(find "$ROOT/cli" "$ROOT/include/backend_api.h" "$LIBDIR/libbackend_api.a" -newer "$out" \
    \( -name '*.[ch]' -o -name '*.sh' -o -name '*.a' \) -print -quit 2> /dev/null || echo missing)
if [ -x "$out" ] && [ -z "$newer" ] && [ -z "${CFLAGS:-}" ] && [ ${#extra[@]} -eq 0 ]; then
    echo "$out"
    exit 0
fi
# shellcheck disable=SC2086  # CFLAGS is a list of flags
"$CC" "${CLI_CFLAGS[@]}" "${opt[@]}" ${CFLAGS:-} "${extra[@]}" -I"$ROOT/include" \
    "${CLI_SOURCES[@]/#/$ROOT/cli/}" "$LIBDIR/libbackend_api.a" "${NATIVE[@]}" -ldl -lpthread -o "$out"
echo "$out"
