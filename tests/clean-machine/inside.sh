#!/usr/bin/env bash
# Runs INSIDE the clean machine (tests/clean-machine/run.sh): a trixie chroot without Rust,
# on a throwaway overlay. Usage: inside.sh archive|deb WORK URL
#   archive: unpacks WORK/dist/backend-api-*.tar.gz into /opt/backend-api
#   deb:     installs WORK/dist/backend-api_*.deb with dpkg
# then, using only that installation, builds and runs: a C program via pkg-config (shared
# and static), the installed command-line client, a C++ program via CMake find_package, a Go
# program using the module from a module proxy (as `go get` fetches it), and a Swift package
# that depends on the repository's root by path. Each streams an answer from URL.
# Last line: "<mode>: N passed, M failed".
set -uo pipefail
mode=$1 WORK=$2 URL=$3
PASSED=0 FAILED=0
pass() { PASSED=$((PASSED + 1)); echo "  ok   $*"; }
fail() { FAILED=$((FAILED + 1)); echo "  FAIL $*"; }
check() { # description, command...
    local what=$1; shift
    if "$@" > "$LOG" 2>&1; then pass "$what"; else fail "$what"; sed 's/^/       /' "$LOG" | tail -n 30; fi
}
answers() { # binary-and-args..., prompt last: the output holds the test backend's echo of it
    local out prompt=${!#}
    out=$("$@" 2>&1) && [[ $out == *"You said: $prompt"* ]] || { echo "output: $out"; return 1; }
}
LOG=$(mktemp)
B=$(mktemp -d)   # build folder
VERSION=$(cat "$WORK/version")

echo "== $mode: $(. /etc/os-release && echo "$PRETTY_NAME"), $(ldd --version | head -n 1)"
check "no Rust here: cargo and rustc are not on PATH, no ~/.cargo or ~/.rustup" \
    bash -c '! command -v cargo && ! command -v rustc && [ ! -e ~/.cargo ] && [ ! -e ~/.rustup ]'

case $mode in
archive)
    P=/opt/backend-api
    mkdir -p "$P"
    check "unpack the archive into $P" tar -xzf "$WORK"/dist/backend-api-*.tar.gz -C "$P" --strip-components=1
    export PKG_CONFIG_PATH=$P/lib/pkgconfig CMAKE_PREFIX_PATH=$P PATH=$P/bin:$PATH
    # Programs linked by pkg-config flags find the library at run time through this (or an
    # rpath, or ldconfig); the CLI and CMake programs need nothing.
    RUNPATH=$P/lib
    ;;
deb)
    check "dpkg -i (dependencies satisfied)" dpkg -i "$WORK"/dist/backend-api_*.deb
    check "dpkg knows the package" bash -c "dpkg -s backend-api | grep -qx 'Status: install ok installed'"
    check "ldconfig knows the library (the package's trigger ran)" bash -c "ldconfig -p | grep -q 'libbackend_api.so.0'"
    RUNPATH=
    ;;
esac
run() { LD_LIBRARY_PATH=$RUNPATH "$@"; }

echo "== C via pkg-config"
check "pkg-config --modversion backend_api = $VERSION" test "$(pkg-config --modversion backend_api)" = "$VERSION"
# shellcheck disable=SC2046  # pkg-config output is meant to be split
{
    check "cc consumer.c \$(pkg-config --cflags --libs backend_api)" \
        cc -std=c99 -Wall -Wextra -Werror "$WORK/src/consumer.c" -o "$B/consumer" $(pkg-config --cflags --libs backend_api)
    check "cc consumer.c \$(pkg-config --static --cflags --libs backend_api-static)" \
        cc -std=c99 -Wall -Wextra -Werror "$WORK/src/consumer.c" -o "$B/consumer-static" \
        $(pkg-config --static --cflags --libs backend_api-static)
}
check "C program (shared) streams an answer" answers run "$B/consumer" "$URL" "clean $mode C"
check "C program (static) streams an answer" answers "$B/consumer-static" "$URL" "clean $mode C static"
check "the command-line client backend-api streams an answer" answers backend-api --url "$URL" "clean $mode client"

echo "== C++ via CMake find_package"
cp "$WORK/src/CMakeLists.txt" "$WORK/src/quickstart.cpp" "$B/"
check "cmake configure" cmake -S "$B" -B "$B/cmake" -DBACKEND_API_WANT="${VERSION%.*}" -DCMAKE_BUILD_TYPE=Release
check "cmake build" cmake --build "$B/cmake"
check "C++ program streams an answer" answers "$B/cmake/quickstart" "$URL" "clean $mode C++"

echo "== Go: the module from a module proxy"
mkdir -p "$B/go"
cp "$WORK/src/main.go" "$B/go/"
export GOPROXY=file://$WORK/goproxy GOSUMDB=off GOTOOLCHAIN=local GOFLAGS=-mod=mod CGO_ENABLED=1 \
    GOPATH=$B/gopath GOCACHE=$WORK/gocache
check "go mod init && go get $(cat "$WORK/gomodule")@v$VERSION" \
    bash -c "cd '$B/go' && go mod init example.com/chat && go get '$(cat "$WORK/gomodule")@v$VERSION'"
check "the module was unpacked outside the repository, read-only, header inside" \
    bash -c "d=\$(cd '$B/go' && go list -m -f '{{.Dir}}' '$(cat "$WORK/gomodule")') && echo \$d && case \$d in '$B'/gopath/pkg/mod/*) ;; *) exit 1;; esac && test \$(stat -c %a \$d/backend_api.h) = 444"
check "go build" bash -c "cd '$B/go' && go vet . && go build -o chat ."
check "Go program streams an answer" answers run "$B/go/chat" "$URL" "clean $mode Go"

echo "== Swift: a package depending on the repository's root by path"
mkdir -p "$B/swift"
cp -R "$WORK/src/swift/." "$B/swift/"
cat > "$B/swift/Package.swift" <<SWIFT
// swift-tools-version:6.0
import PackageDescription
let package = Package(
    name: "chat",
    dependencies: [.package(path: "$WORK/repo")],
    // A path dependency is named after its folder: "repo".
    targets: [.executableTarget(name: "chat", dependencies: [.product(name: "BackendAPI", package: "repo")])]
)
SWIFT
check "swift build" swift build --package-path "$B/swift" -c release
check "Swift program (the README's quick start) streams an answer" answers env G4F_URL="$URL" \
    LD_LIBRARY_PATH="$RUNPATH" "$B/swift/.build/release/chat" "Hello!"

rm -rf "$B" "$LOG"
echo "$mode: $PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
