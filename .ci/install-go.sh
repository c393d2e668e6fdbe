#!/usr/bin/env bash
# Make a Go toolchain available; print the path of its `go` binary as the LAST stdout line.
#
# Which Go: the newest one that installs from Debian sources on bookworm.
#   * bookworm itself only has Go 1.19 (golang-go / golang-1.19-go).
#   * bookworm-backports has versioned packages golang-1.21-go, -1.22-go and -1.23-go
#     (1.23.5-1~bpo12+1 when this was written; no golang-1.24-go there). We take the
#     newest golang-1.N-go with N >= 23 because the Go binding may use range-over-func
#     iterators (iter.Seq2, Go 1.23). Binary: /usr/lib/go-1.N/bin/go (/usr/bin/go untouched).
#     The bookworm-backports source is added (the machine's own mirror, .ci/debian-mirror.sh)
#     if missing.
#   * Only if no such package exists do we fall back to bookworm's golang-go (Go 1.19).
# Apt is skipped entirely when a Go >= 1.23 already exists (/usr/lib/go-1.N/bin/go or
# `go` on PATH). Set GO_MIN_MINOR to change the preferred minimum (default 23).
#
# Network: only the Debian/PyPI/crates/npm registries are reachable, no Go module proxy.
# Our Go module has NO external dependencies, so run go with
#     GOPROXY=off GOTOOLCHAIN=local
# so that it never tries the network (GOTOOLCHAIN=local stops it from downloading a newer
# toolchain named in go.mod; GOPROXY=off makes any module lookup fail fast instead of
# hanging). Do not set GOFLAGS=-mod=mod (nothing to fetch). GOPATH/GOCACHE keep their
# defaults ($HOME/go, $HOME/.cache/go-build), both outside the repository.
#
# Also checks that cgo works by building and running a tiny cgo program in a temp dir.
# Needs root when it has to install (it is run by .ci/run as root, CI=true, no stdin).
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive
# HOME may be unset in minimal CI environments.
: "${HOME:=$(getent passwd "$(id -u)" | cut -d: -f6)}"; export HOME
MIN_MINOR=${GO_MIN_MINOR:-23}
log() { echo "install-go: $*" >&2; }

go_minor() { # prints N for a go binary reporting "go1.N[.x]", or fails
    local v
    v=$("$1" env GOVERSION 2>/dev/null) || return 1
    v=${v#go1.}; v=${v%%[!0-9]*}
    [ -n "$v" ] && echo "$v"
}

# Newest existing go with minor >= MIN_MINOR (versioned Debian dirs first, then PATH).
find_existing_go() {
    local cand best="" best_minor=-1 m
    for cand in /usr/lib/go-1.*/bin/go "$(command -v go || true)"; do
        if [ -z "$cand" ] || [ ! -x "$cand" ]; then continue; fi
        m=$(go_minor "$cand") || continue
        if [ "$m" -ge "$MIN_MINOR" ] && [ "$m" -gt "$best_minor" ]; then
            best=$cand; best_minor=$m
        fi
    done
    [ -n "$best" ] && echo "$best"
}

has_candidate() { # apt has an installable version of package $1
    apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ {ok = ($2 != "(none)")} END {exit !ok}'
}

GO=$(find_existing_go || true)
if [ -n "$GO" ]; then
    log "using existing $GO (no apt)"
else
    [ "$(id -u)" = 0 ] || { log "no Go >= 1.$MIN_MINOR found and not root; cannot install"; exit 1; }
    if ! grep -rqs --include='*.list' --include='*.sources' bookworm-backports \
            /etc/apt/sources.list /etc/apt/sources.list.d/; then
        MIRROR=$("$(dirname "$0")/debian-mirror.sh")   # the machine's own; fails clearly without one
        log "adding bookworm-backports ($MIRROR) to /etc/apt/sources.list.d/bookworm-backports.sources"
        cat > /etc/apt/sources.list.d/bookworm-backports.sources <<SRC
Types: deb
URIs: $MIRROR
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
    fi
    apt-get update -qq >&2
    PKG=""
    for minor in $(seq 40 -1 "$MIN_MINOR"); do
        if has_candidate "golang-1.$minor-go"; then PKG=golang-1.$minor-go; break; fi
    done
    if [ -n "$PKG" ]; then
        log "installing $PKG ($(apt-cache policy "$PKG" | awk '/Candidate:/ {print $2}'))"
        apt-get install -y -qq --no-install-recommends "$PKG" >&2
        GO=/usr/lib/go-${PKG#golang-}; GO=${GO%-go}/bin/go
    else
        log "no golang-1.N-go with N >= $MIN_MINOR available; falling back to bookworm golang-go (Go 1.19)"
        if ! command -v go >/dev/null; then
            apt-get install -y -qq --no-install-recommends golang-go >&2
        fi
        GO=$(command -v go) || { log "golang-go installed but no go on PATH"; exit 1; }
    fi
fi
[ -x "$GO" ] || { log "$GO is not executable"; exit 1; }

# cgo smoke test (needs gcc). GOPROXY=off GOTOOLCHAIN=local: never touch the network.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/go.mod" <<'SRC'
module cgocheck

go 1.19
SRC
cat > "$tmp/main.go" <<'SRC'
package main

// static int add(int a, int b) { return a + b; }
import "C"

import "fmt"

func main() { fmt.Println("cgo ok:", C.add(40, 2)) }
SRC
out=$(cd "$tmp" && GOPROXY=off GOTOOLCHAIN=local GOFLAGS='' CGO_ENABLED=1 \
      "$GO" build -o "$tmp/cgocheck" . >&2 && "$tmp/cgocheck")
[ "$out" = "cgo ok: 42" ] || { log "cgo check failed: '$out'"; exit 1; }
log "$("$GO" version); $out"
echo "$GO"
