# shellcheck shell=bash
# shellcheck disable=SC2034  # BACKEND_URL is read by the scripts that source this
# Sourced, not run: starts and stops the bundled offline backend (the test_backend
# example) for the demo and the shell tests.
#   start_backend BINARY  starts it with a pipe on its stdin, waits up to 60 s for
#                         "READY <port>" and sets BACKEND_URL; returns 1 otherwise.
#                         It ignores SIGINT: Ctrl-C in the terminal is for the client
#                         (which cancels its answer), not for the backend beside it.
#   stop_backend          closes its stdin (which ends it) and reaps it; repeatable.
BACKEND_PID=
BACKEND_IN=
BACKEND_URL=

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
