#!/usr/bin/env bash
# Regenerates include/backend_api.h with the pinned cbindgen (a dev-dependency), and the
# Go module's copy of it (bindings/go/backendapi/backend_api.h; bindings/go/test.sh
# checks that the two are identical).
set -euo pipefail
cd "$(dirname "$0")/.."
BACKEND_API_BLESS=1 cargo test --quiet --test suite header::header_matches_a_fresh_generation
cp include/backend_api.h bindings/go/backendapi/backend_api.h
echo "include/backend_api.h regenerated (and copied into bindings/go/backendapi)"
