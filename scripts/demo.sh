#!/usr/bin/env bash
# The main job in one command: a command-line chat client over the C library.
#
#   scripts/demo.sh [demo options] [message...]        e.g.  scripts/demo.sh "Hello there"
#   scripts/demo.sh --url http://127.0.0.1:8080 --model gpt-4o-mini "Hello"
#   scripts/demo.sh --help
#
# Builds the library (cargo build --release), compiles examples/demo.c with
# `cc -Wall -Wextra -Werror` against it (statically, so the program stands alone),
# and runs it with your arguments. Without --url (and without BACKEND_API_URL set)
# it first starts the bundled offline backend (the test_backend example, on
# 127.0.0.1 with a free port), runs the demo against it and stops it afterwards.
# Needs only Rust and a C compiler. The exit status is the demo's (see --help).
#
# Env: CARGO_TARGET_DIR (default ./target), CARGO (cargo), CC (cc),
#      BACKEND_API_KEY (the api key; never printed), BACKEND_API_URL.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TARGET=$(realpath -m "${CARGO_TARGET_DIR:-$ROOT/target}")
export CARGO_TARGET_DIR=$TARGET
RELEASE=$TARGET/release
CARGO=${CARGO:-cargo}
CC=${CC:-cc}
log() { echo "demo.sh: $*" >&2; }

command -v "$CARGO" > /dev/null || { log "cargo not found: install Rust (https://rustup.rs)"; exit 2; }
command -v "$CC" > /dev/null || { log "no C compiler ($CC) found: install gcc or set CC"; exit 2; }

# Is a server given? (--url, or BACKEND_API_URL; --help/--version need none.)
need_backend=1
[ -n "${BACKEND_API_URL:-}" ] && need_backend=0
for arg in "$@"; do
    case $arg in
        --) break ;;
        --url | --url=* | -h | --help | --version) need_backend=0 ;;
    esac
done

targets=(--lib)
[ "$need_backend" = 1 ] && targets+=(--example test_backend)
[ -f "$RELEASE/libbackend_api.a" ] || log "building the library (the first build takes a few minutes)"
"$CARGO" build --release --quiet --manifest-path "$ROOT/Cargo.toml" "${targets[@]}"

# The system libraries the static library needs, as rustc says (asked once, then cached;
# `make` refreshes the same file).
NATIVE_FILE=$RELEASE/backend_api.native-static-libs
if [ ! -s "$NATIVE_FILE" ]; then
    "$CARGO" rustc --release --lib --quiet --manifest-path "$ROOT/Cargo.toml" -- --print native-static-libs \
        2>&1 | sed -n 's/^note: native-static-libs: //p' | tail -n 1 > "$NATIVE_FILE.tmp"
    if [ ! -s "$NATIVE_FILE.tmp" ]; then
        log "rustc did not print native-static-libs"
        exit 1
    fi
    mv "$NATIVE_FILE.tmp" "$NATIVE_FILE"
fi
read -r -a NATIVE < "$NATIVE_FILE"

DEMO=$RELEASE/demo
"$CC" -std=c11 -O2 -Wall -Wextra -Werror -I"$ROOT/include" "$ROOT/examples/demo.c" \
    "$RELEASE/libbackend_api.a" "${NATIVE[@]}" -o "$DEMO"

if [ "$need_backend" = 0 ]; then
    exec "$DEMO" "$@"
fi

# The bundled offline backend: prints "READY <port>", exits when its stdin closes.
# shellcheck source=scripts/backend.sh
. "$ROOT/scripts/backend.sh"
trap stop_backend EXIT
start_backend "$RELEASE/examples/test_backend" || { log "the offline backend did not start"; exit 1; }
log "no --url given: using the bundled offline backend at $BACKEND_URL"

rc=0
"$DEMO" --url "$BACKEND_URL" "$@" || rc=$?
exit "$rc"
