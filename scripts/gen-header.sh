#!/usr/bin/env bash
# Regenerates include/backend_api.h with the pinned cbindgen (a dev-dependency).
set -euo pipefail
cd "$(dirname "$0")/.."
BACKEND_API_BLESS=1 cargo test --quiet --test header header_matches_a_fresh_generation
echo "include/backend_api.h regenerated"
