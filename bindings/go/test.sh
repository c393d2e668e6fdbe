#!/usr/bin/env bash
# Checks the Go binding (the module in backendapi/): its header copy equals
# include/backend_api.h, every C function reaches the three bindings (bindings/c-api-coverage.sh), gofmt, go vet, go test -race, GOGC=1 go test (default route:
# static, through pkg-config), the other link routes (-tags backend_api_shared,
# backend_api_nopkgconfig), both routes from the installed tree (target/stage, what the
# release archive holds) copied to an unusual prefix, without LD_LIBRARY_PATH,
# the README's programs (the quick start and chat, built as a user's module and run
# against the test backend), the Go programs of the repository's README.md and docs/
# (the same way), and the bench program (a short run). Exits non-zero on any failure.
#
# Environment:
#   BACKEND_API_LIB_DIR       folder holding libbackend_api.so and .a (default: <repo>/target/debug)
#   BACKEND_API_TEST_BACKEND  the test_backend binary (default: $BACKEND_API_LIB_DIR/examples/test_backend)
#   GO                        the go binary (default: go on PATH)
#   BACKEND_API_STAGE         the installed tree of `make` (default: <repo>/target/stage);
#                             without it the unusual-prefix check is skipped, loudly
# Go never touches the network here: GOPROXY=off GOTOOLCHAIN=local (the module has
# no dependencies).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
mod=$here/backendapi
root=$(cd "$here/../.." && pwd)
lib=$(cd "${BACKEND_API_LIB_DIR:-$root/target/debug}" && pwd)
GO=${GO:-go}
backend=${BACKEND_API_TEST_BACKEND:-$lib/examples/test_backend}

echo "== the module's header is include/backend_api.h"
cmp "$mod/backend_api.h" "$root/include/backend_api.h" || {
	echo "bindings/go/backendapi/backend_api.h differs from include/backend_api.h: run scripts/gen-header.sh" >&2
	exit 1
}

echo "== every function of the C API reaches the bindings (or is allowlisted with its reason)"
"$root/bindings/c-api-coverage.sh"

[ -e "$lib/libbackend_api.so" ] || { echo "test.sh: no libbackend_api.so in $lib (cargo build first)" >&2; exit 1; }
[ -x "$backend" ] || { echo "test.sh: no test backend at $backend (cargo build --example test_backend)" >&2; exit 1; }
command -v pkg-config >/dev/null || { echo "test.sh: pkg-config is needed (the module links through it)" >&2; exit 1; }
export BACKEND_API_TEST_BACKEND=$backend

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# A program linked with -lbackend_api asks the loader for the library's soname
# (libbackend_api.so.0.MINOR); cargo writes only libbackend_api.so, so give the
# loader a link of that name in a folder of our own.
soname=$(readelf -d "$lib/libbackend_api.so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
mkdir "$tmp/lib"
ln -s "$lib/libbackend_api.so" "$tmp/lib/$soname"

# pkg-config files shaped like the installed ones (scripts/stage.sh), pointing into the build
# folder; no -I: the module finds its own header.
version=$(sed -n 's/^version *= *"\(.*\)".*/\1/p' "$root/Cargo.toml" | head -n 1)
cat >"$tmp/backend_api.pc" <<PC
Name: backend_api
Description: backend-api (test)
Version: $version
Cflags:
Libs: -L$lib -lbackend_api
PC
cat >"$tmp/backend_api-static.pc" <<PC
Name: backend_api-static
Description: backend-api, static archive (test)
Version: $version
Cflags:
Libs: $lib/libbackend_api.a -lm -lrt -lpthread -lgcc_s -lutil -ldl -lc
PC

export GOPROXY=off GOTOOLCHAIN=local GOFLAGS=-mod=mod CGO_ENABLED=1 PKG_CONFIG_PATH=$tmp
export LD_LIBRARY_PATH="$tmp/lib:$lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

cd "$mod"
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

echo "== the module's own header wins over an installed one"
# A backend_api.pc whose Cflags point at another backend_api.h (an older install, say):
# the build must not see it.
mkdir "$tmp/shadow" "$tmp/shadow/include"
echo '#error "an installed backend_api.h was used instead of the module'"'"'s own"' >"$tmp/shadow/include/backend_api.h"
for pc in backend_api backend_api-static; do
	sed "s|^Cflags:.*|Cflags: -I$tmp/shadow/include|" "$tmp/$pc.pc" >"$tmp/shadow/$pc.pc"
done
PKG_CONFIG_PATH=$tmp/shadow "$GO" build ./...
PKG_CONFIG_PATH=$tmp/shadow "$GO" build -tags backend_api_shared ./...
echo "ok: built (static and shared) with .pc files whose Cflags point at another backend_api.h"

echo "== README programs and the bench program, against the test backend"
# shellcheck source=../../scripts/backend.sh
. "$root/scripts/backend.sh"
trap 'stop_backend; rm -rf "$tmp"' EXIT
start_backend "$backend" || { echo "the test backend did not start" >&2; exit 1; }
# A module of its own per program, as a user would have: the README's blocks
# that start with "// NAME: " (quickstart, chat), and bench/.
# A program that asks g4f api's address (http://127.0.0.1:1337) asks the test backend here.
program() { # name [markdown file, default README.md]: builds $tmp/name/name from its block "// name: ..."
	local doc=${2:-README.md}
	mkdir "$tmp/$1"
	sed -n "/^\/\/ $1: /,/^\`\`\`\$/p" "$doc" | sed '$d' | sed "s|http://127.0.0.1:1337|$BACKEND_URL|g" >"$tmp/$1/main.go"
	grep -q '^func main' "$tmp/$1/main.go" || { echo "no complete $1 program in $doc" >&2; exit 1; }
	cat >"$tmp/$1/go.mod" <<MOD
module example.com/$1

go 1.23

require github.com/backend-api/backend-api/bindings/go/backendapi v0.0.0

replace github.com/backend-api/backend-api/bindings/go/backendapi => $mod
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
# The repository's README and docs: each ```go block starting "// NAME: " is a program that
# streams the answer to "Hello" (scripts/docs.py checks that every Go block starts so).
for doc in "$root/README.md" "$root"/docs/*.md; do
	for name in $(awk '/^```go$/ { getline; if (match($0, /^\/\/ [A-Za-z0-9_]+: /)) print substr($0, 4, RLENGTH - 5) }' "$doc"); do
		program "$name" "$doc"
		expect "You said: Hello" "$tmp/$name/$name"
	done
done
rc=0; "$tmp/chat/chat" 2>/dev/null || rc=$? # no arguments: prints its usage, exits 2
[ "$rc" -eq 2 ] || { echo "chat without arguments exited $rc, not 2" >&2; exit 1; }
"$GO" build -o "$tmp/drain" ./bench
for drain in "$tmp/drain" "$tmp/drain -complete"; do
	$drain "$BACKEND_URL" 5000 || { echo "$drain did not receive 5000 chunks" >&2; exit 1; }
	echo "ok: $drain received 5000 chunks"
done
stop_backend


echo "== other link routes (-tags backend_api_shared, -tags backend_api_nopkgconfig)"
"$GO" test -tags backend_api_shared -count=1 -run 'TestVersionAndStatusNames|TestCannedAnswer' ./...
PKG_CONFIG_PATH=/nonexistent CGO_LDFLAGS="-L$lib" \
	"$GO" test -tags backend_api_nopkgconfig -count=1 -run 'TestVersionAndStatusNames|TestCannedAnswer' ./...

echo "== both routes from the installed tree in an unusual prefix, no LD_LIBRARY_PATH"
stage=${BACKEND_API_STAGE:-$root/target/stage}
if [ -f "$stage/lib/pkgconfig/backend_api-static.pc" ]; then
	# What the release archive unpacks: lib/ (with pkgconfig/, relocatable through
	# ${pcfiledir}) and include/, here in a folder no loader or pkg-config looks in.
	prefix="$tmp/opt/odd-place/backend-api-$version"
	mkdir -p "$prefix"
	cp -R "$stage/." "$prefix/"
	start_backend "$backend" || { echo "the test backend did not start" >&2; exit 1; }
	for route in default shared; do
		tags=() ldflags=""
		[ "$route" = shared ] && tags=(-tags backend_api_shared) ldflags="-Wl,-rpath,$prefix/lib"
		(cd "$tmp/quickstart" && env -u LD_LIBRARY_PATH PKG_CONFIG_PATH="$prefix/lib/pkgconfig" \
			CGO_LDFLAGS="$ldflags" "$GO" build "${tags[@]}" -o "quickstart-$route" .)
		expect "You said: from $route" env -u LD_LIBRARY_PATH "$tmp/quickstart/quickstart-$route" "$BACKEND_URL" "from $route"
	done
	# The shared route without its run path does not start there: what the default avoids.
	(cd "$tmp/quickstart" && env -u LD_LIBRARY_PATH PKG_CONFIG_PATH="$prefix/lib/pkgconfig" \
		"$GO" build -tags backend_api_shared -o quickstart-norpath .)
	if env -u LD_LIBRARY_PATH "$tmp/quickstart/quickstart-norpath" "$BACKEND_URL" x >/dev/null 2>&1; then
		echo "the shared route started without a run path: the check proves nothing" >&2
		exit 1
	fi
	echo "ok: the shared route without a run path does not start (the loader cannot find the library)"
	stop_backend
else
	echo "!!! SKIPPED: no installed tree at $stage (run make, or set BACKEND_API_STAGE)" >&2
	[ "${CI:-}" != true ] || exit 1
fi

echo "== Go binding: all checks passed in $((SECONDS - start)) s"
