#!/usr/bin/env bash
# The main job in one command: the command-line client `backend-api` over the C library.
#
#   scripts/demo.sh [backend-api options] [message...]     e.g.  scripts/demo.sh "Hello there"
#   scripts/demo.sh                                          a conversation (on a terminal)
#   scripts/demo.sh --url http://127.0.0.1:1337 --model gpt-4o-mini "Hello"
#   scripts/demo.sh --help
#
# Builds the library and the client (cli/build.sh: cargo build --release, then
# cli/backend-api.c compiled with `cc -Wall -Wextra -Werror` against the static
# library) and runs it with your arguments. Without --url (and without BACKEND_API_URL
# set) it first starts the bundled offline backend (the test_backend example, on
# 127.0.0.1 with a free port), runs the client against it and stops it afterwards.
# Needs only Rust and a C compiler. The exit status is the client's (see --help).
#
# Env: CARGO_TARGET_DIR (default ./target), CARGO (cargo), CC (cc), and the client's
#      own: BACKEND_API_URL, BACKEND_API_KEY (never printed), ... (see --help).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TARGET=$(realpath -m "${CARGO_TARGET_DIR:-$ROOT/target}")
export CARGO_TARGET_DIR=$TARGET
log() { echo "demo.sh: $*" >&2; }

# Is a server given? (--url, -u, or BACKEND_API_URL; --help/--version need none.)
need_backend=1
[ -n "${BACKEND_API_URL:-}" ] && need_backend=0
for arg in "$@"; do
    case $arg in
        --) break ;;
        --url | --url=* | -u | -u?* | -h | --help | -V | --version) need_backend=0 ;;
    esac
done

# The library and the offline backend in one cargo run, with one feature set: a second run
# with nothing changed compiles nothing (see --with-example in cli/build.sh).
CLIENT=$("$ROOT/cli/build.sh" --with-example test_backend)
if [ "$need_backend" = 0 ]; then
    exec "$CLIENT" "$@"
fi
# The bundled offline backend: prints "READY <port>", exits when its stdin closes.
# shellcheck source=scripts/backend.sh
. "$ROOT/scripts/backend.sh"
trap stop_backend EXIT
start_backend "$TARGET/release/examples/test_backend" || { log "the offline backend did not start"; exit 1; }
log "no --url given: using the bundled offline backend at $BACKEND_URL"

rc=0
"$CLIENT" --url "$BACKEND_URL" "$@" || rc=$?
exit "$rc"
