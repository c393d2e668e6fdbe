# shellcheck shell=bash
# shellcheck disable=SC2034  # BACKEND_URL is read by the scripts that source this
# Sourced, not run: starts and stops the bundled offline backend (the test_backend
# example) for the demo and the shell tests.
#   start_backend BINARY  starts it with a pipe on its stdin, waits up to 60 s for
#                         "READY <port>" and sets BACKEND_URL; returns 1 otherwise.
#                         It ignores SIGINT: Ctrl-C in the terminal is for the client
#                         (which cancels its answer), not for the backend beside it.
#   stop_backend          closes its stdin (which ends it) and reaps it; repeatable.
#   test_backend          prints the test backend's path: $BACKEND_API_TEST_BACKEND when set
#                         (scripts/test.sh exports the one `cargo test` built), else it
#                         builds it in the dev profile, the build `cargo test` shares.
BACKEND_PID=
BACKEND_IN=
BACKEND_URL=
BACKEND_SH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

test_backend() {
    if [ -n "${BACKEND_API_TEST_BACKEND:-}" ]; then echo "$BACKEND_API_TEST_BACKEND"; return; fi
    cargo build --quiet --manifest-path "$BACKEND_SH_ROOT/Cargo.toml" --example test_backend >&2
    echo "$(realpath -m "${CARGO_TARGET_DIR:-$BACKEND_SH_ROOT/target}")/debug/examples/test_backend"
}

start_backend() {
    coproc BACKEND_PROC { trap '' INT; exec "$1"; }
    BACKEND_PID=$BACKEND_PROC_PID
    BACKEND_IN=${BACKEND_PROC[1]}
    local ready='' port=''
    read -r -t 60 ready port <&"${BACKEND_PROC[0]}" || true
    [ "$ready" = READY ] && [ -n "$port" ] || return 1
    BACKEND_URL=http://127.0.0.1:$port
}

# shellcheck disable=SC2317  # called from EXIT traps
stop_backend() {
    [ -n "$BACKEND_PID" ] || return 0
    exec {BACKEND_IN}>&- 2>/dev/null || true
    kill "$BACKEND_PID" 2>/dev/null || true
    wait "$BACKEND_PID" 2>/dev/null || true
    BACKEND_PID=
}
