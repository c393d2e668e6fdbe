#!/usr/bin/env bash
# Every function of the C API reaches every binding: lists the functions that
# include/backend_api.h declares and requires each to be called by the C++ wrapper
# (bindings/cpp/include), the Go package (bindings/go/backendapi, tests left out)
# and the Swift package (bindings/swift/Sources), or to be named for that binding in
# bindings/c-api-allowlist.txt with the reason. A new C function that no binding
# wraps, or a wrapper removed, fails here; so does an allowlist entry that is stale
# (the binding calls the function after all, or the header no longer has it).
# Run by each binding's suite (bindings/cpp/tests/run.sh, bindings/go/test.sh,
# bindings/swift/test.sh); needs only bash, grep and sed. Last line: "c-api-coverage: ok"
# or the list of what is missing.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HEADER=$ROOT/include/backend_api.h
ALLOW=$ROOT/bindings/c-api-allowlist.txt

# The declared functions: `name(` at the start of a declaration line of the header.
mapfile -t functions < <(sed -n 's/^[a-z_][a-z_0-9 *]*[ *]\(backend_api_[a-z_0-9]*\)(.*/\1/p' "$HEADER" | sort -u)
declare -A declared
for f in "${functions[@]}"; do declared[$f]=1; done
[ "${#functions[@]}" -gt 50 ] || { echo "c-api-coverage: read only ${#functions[@]} functions from $HEADER" >&2; exit 1; }

sources() { # binding: the files whose calls count
    case $1 in
        cpp) echo "$ROOT/bindings/cpp/include/backend_api.hpp" ;;
        go) find "$ROOT/bindings/go/backendapi" -maxdepth 1 -name '*.go' ! -name '*_test.go' ;;
        swift) find "$ROOT/bindings/swift/Sources" -name '*.swift' ;;
    esac
}

allowed() { # binding function: the allowlist names it (with a reason)
    grep -Eq "^$1 +$2 +[^ ]" "$ALLOW"
}

problems=0
for binding in cpp go swift; do
    mapfile -t files < <(sources "$binding")
    code=$(grep -hv '^[[:space:]]*//' "${files[@]}")  # comment lines do not count
    for f in "${functions[@]}"; do
        if grep -qw -- "$f" <<<"$code"; then
            if allowed "$binding" "$f"; then
                echo "  stale allowlist entry: $binding $f (the binding calls it)"; problems=$((problems + 1))
            fi
        elif ! allowed "$binding" "$f"; then
            echo "  $binding does not use $f (wrap it, or name it in bindings/c-api-allowlist.txt with the reason)"
            problems=$((problems + 1))
        fi
    done
done
while read -r binding f _; do
    case $binding in ''|'#'*) continue ;; esac
    [ -n "${declared[$f]:-}" ] ||
        { echo "  allowlist names $f, which the header does not declare"; problems=$((problems + 1)); }
    case $binding in cpp|go|swift) ;; *) echo "  allowlist: unknown binding $binding"; problems=$((problems + 1)) ;; esac
done < "$ALLOW"

if [ "$problems" -gt 0 ]; then
    echo "c-api-coverage: $problems problems (${#functions[@]} functions in the header)"
    exit 1
fi
echo "c-api-coverage: ok (${#functions[@]} functions, each used by C++, Go and Swift or allowlisted with its reason)"
