#!/usr/bin/env bash
# The benchmark suite: builds in release mode, starts its own canned servers on
# loopback, runs every measure, prints the table (figures, ratios, targets) and
# writes benchmark-results/results.json and benchmark-results/results.svg. Reports; asserts nothing.
# BENCH_QUICK=1 runs a smaller version (for a smoke check); BENCH_ONLY=throughput,
# whole, trust, relay or bindings runs one part (printed, not written).
#
# The binding rows: the drain program of each binding (C, C++, Go, Swift) is built
# here against the release library and run by the benchmark against the release
# test backend; a binding whose toolchain is missing is left out, loudly.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
scripts/g4f-venvs.sh >/dev/null || echo "!!!! no g4f venvs: the Python comparison will be missing" >&2
cargo build --release --lib --examples --quiet
lib=$root/target/release
out=$lib/bench-drains
mkdir -p "$out"
soname=$(readelf -d "$lib/libbackend_api.so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
ln -sf libbackend_api.so "$lib/$soname"
link=(-I"$root/include" -L"$lib" -Wl,-rpath,"$lib" -lbackend_api)
export BENCH_TEST_BACKEND=$lib/examples/test_backend

cc -O2 bindings/cpp/bench/drain.c "${link[@]}" -o "$out/drain_c"
export BENCH_DRAIN_C=$out/drain_c
c++ -std=c++17 -O2 -Ibindings/cpp/include bindings/cpp/bench/drain.cpp "${link[@]}" -o "$out/drain_cpp"
export BENCH_DRAIN_CPP=$out/drain_cpp

go_bin=${GO:-$(command -v go || ls -d /usr/lib/go-1.2[3-9]/bin/go 2>/dev/null | tail -n 1)}
if [ -n "$go_bin" ] && (cd bindings/go/backendapi && GOPROXY=off GOTOOLCHAIN=local GOFLAGS=-mod=mod \
    CGO_LDFLAGS="-L$lib -Wl,-rpath,$lib" "$go_bin" build -tags backend_api_nopkgconfig -o "$out/drain_go" ./bench); then
    export BENCH_DRAIN_GO=$out/drain_go
else
    echo "!!!! no Go drain program (Go missing or its build failed): no Go row" >&2
fi
# The Go client of the sequential-requests row (net/http keeps connections).
if [ -n "$go_bin" ] && (cd benches/sequential && GOPROXY=off GOTOOLCHAIN=local GOFLAGS=-mod=mod \
    "$go_bin" build -o "$out/sequential_go" main.go); then
    export BENCH_SEQUENTIAL_GO=$out/sequential_go
else
    echo "!!!! no Go sequential client (Go missing or its build failed): no Go row for sequential requests" >&2
fi
if BACKEND_API_LIB_DIR=$lib bindings/swift/bench/drain.sh build >/dev/null; then
    export BENCH_DRAIN_SWIFT="$root/bindings/swift/bench/drain.sh run"
else
    echo "!!!! no Swift drain program (no Swift toolchain or chroot): no Swift row" >&2
fi
cargo bench --bench bench --quiet
