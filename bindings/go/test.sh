#!/usr/bin/env bash
# Checks the Go binding: gofmt, go vet, go test -race, GOGC=1 go test, the
# README's programs (the quick start and chat, built as a user's module and run
# against the test backend), the bench program and its C twin (a short run), and
# the pkg-config routes (shared and static). Exits non-zero on any failure.
#
# Environment:
#   BACKEND_API_LIB_DIR       folder holding libbackend_api.so (default: <repo>/target/debug)
#   BACKEND_API_TEST_BACKEND  the test_backend binary (default: $BACKEND_API_LIB_DIR/examples/test_backend)
#   GO                        the go binary (default: go on PATH)
# Go never touches the network here: GOPROXY=off GOTOOLCHAIN=local (the module has
# no dependencies).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
lib=$(cd "${BACKEND_API_LIB_DIR:-$root/target/debug}" && pwd)
GO=${GO:-go}
backend=${BACKEND_API_TEST_BACKEND:-$lib/examples/test_backend}

[ -e "$lib/libbackend_api.so" ] || { echo "test.sh: no libbackend_api.so in $lib (cargo build first)" >&2; exit 1; }
[ -x "$backend" ] || { echo "test.sh: no test backend at $backend (cargo build --example test_backend)" >&2; exit 1; }
export BACKEND_API_TEST_BACKEND=$backend

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# A program linked with -lbackend_api asks the loader for the library's soname
# (libbackend_api.so.0.MINOR); cargo writes only libbackend_api.so, so give the
# loader a link of that name in a folder of our own.
soname=$(readelf -d "$lib/libbackend_api.so" 2>/dev/null | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p' || true)
if [ -z "$soname" ]; then
	minor=$(sed -n 's/^#define BACKEND_API_VERSION_MINOR \([0-9]*\)/\1/p' "$root/include/backend_api.h")
	soname=libbackend_api.so.0.$minor
fi
mkdir "$tmp/lib"
ln -s "$lib/libbackend_api.so" "$tmp/lib/$soname"

export GOPROXY=off GOTOOLCHAIN=local GOFLAGS=-mod=mod CGO_ENABLED=1
# Go's build cache does not notice a changed C header outside the package; the
# header's hash in the flags (which are part of the cache key) makes it notice.
header_sum="-DBACKEND_API_HEADER_SHA256=$(sha256sum "$root/include/backend_api.h" | cut -c1-16)"
export CGO_CFLAGS="-I$root/include $header_sum ${CGO_CFLAGS:-}"
export LD_LIBRARY_PATH="$tmp/lib:$lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
plain_ldflags=${CGO_LDFLAGS:-}
export CGO_LDFLAGS="-L$lib $plain_ldflags"

cd "$here"
start=$SECONDS
echo "== $("$GO" version); library $lib ($soname); backend $backend"

echo "== gofmt"
unformatted=$("$("$GO" env GOROOT)/bin/gofmt" -l .)
[ -z "$unformatted" ] || { echo "not gofmt-ed: $unformatted" >&2; exit 1; }

echo "== go vet"
"$GO" vet ./...

echo "== go test -race"
"$GO" test -race -count=1 ./...

echo "== GOGC=1 go test"
GOGC=1 "$GO" test -count=1 ./...

echo "== README programs and the bench program, against the test backend"
# shellcheck source=../../scripts/backend.sh
. "$root/scripts/backend.sh"
trap 'stop_backend; rm -rf "$tmp"' EXIT
start_backend "$backend" || { echo "the test backend did not start" >&2; exit 1; }
# A module of its own per program, as a user would have: the README's blocks
# that start with "// NAME: " (quickstart, chat), and bench/.
program() { # name: builds $tmp/name/name from the README block "// name: ..."
	mkdir "$tmp/$1"
	sed -n "/^\/\/ $1: /,/^\`\`\`\$/p" README.md | sed '$d' >"$tmp/$1/main.go"
	grep -q '^func main' "$tmp/$1/main.go" || { echo "no complete $1 program in README.md" >&2; exit 1; }
	cat >"$tmp/$1/go.mod" <<MOD
module example.com/$1

go 1.23

require github.com/backend-api/backend-api/bindings/go v0.0.0

replace github.com/backend-api/backend-api/bindings/go => $here
MOD
	(cd "$tmp/$1" && "$GO" vet . && "$GO" build -o "$1" .)
}
expect() { # what output command...: the command exits 0 and its output holds what
	local what=$1 out; shift
	out=$("$@" 2>&1) || { echo "$* failed: $out" >&2; exit 1; }
	grep -qF -- "$what" <<<"$out" || { echo "$* printed: $out (no \"$what\")" >&2; exit 1; }
	echo "ok: $1 printed \"$what\""
}
program quickstart
expect "You said: hello from Go" "$tmp/quickstart/quickstart" "$BACKEND_URL" "hello from Go"
program chat
expect "You said: hello from chat" "$tmp/chat/chat" "$BACKEND_URL" "hello from chat"
rc=0; "$tmp/chat/chat" 2>/dev/null || rc=$? # no arguments: prints its usage, exits 2
[ "$rc" -eq 2 ] || { echo "chat without arguments exited $rc, not 2" >&2; exit 1; }
"$GO" build -o "$tmp/drain" ./bench
cc -O2 -Wall -Wextra -Werror "$here/bench/c/drain.c" -I"$root/include" -L"$lib" -lbackend_api -o "$tmp/drain_c"
for drain in "$tmp/drain" "$tmp/drain -complete" "$tmp/drain_c" "$tmp/drain_c -text"; do
	$drain "$BACKEND_URL" 5000 || { echo "$drain did not receive 5000 chunks" >&2; exit 1; }
	echo "ok: $drain received 5000 chunks"
done
stop_backend

echo "== pkg-config routes (-tags backend_api_pkgconfig, -tags backend_api_static)"
# Shaped like the files `make install` writes (pkg/*.pc.in), pointing into the build folder.
version=$(sed -n 's/^version *= *"\(.*\)".*/\1/p' "$root/Cargo.toml" | head -n 1)
cat >"$tmp/backend_api.pc" <<PC
Name: backend_api
Description: backend-api (test)
Version: $version
Cflags: -I$root/include
Libs: -L$lib -lbackend_api
PC
cat >"$tmp/backend_api-static.pc" <<PC
Name: backend_api-static
Description: backend-api, static archive (test)
Version: $version
Cflags: -I$root/include
Libs: $lib/libbackend_api.a -lm -lrt -lpthread -lgcc_s -lutil -ldl -lc
PC
if command -v pkg-config >/dev/null; then
	for tag in backend_api_pkgconfig backend_api_static; do
		PKG_CONFIG_PATH="$tmp" CGO_CFLAGS="$header_sum" CGO_LDFLAGS="$plain_ldflags" \
			"$GO" test -tags "$tag" -count=1 -run 'TestVersionAndStatusNames|TestCannedAnswer' ./...
	done
else
	echo "pkg-config is not installed: these routes are not checked"
fi

echo "== Go binding: all checks passed in $((SECONDS - start)) s"
