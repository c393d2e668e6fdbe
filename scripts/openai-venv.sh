#!/usr/bin/env bash
# Create (or reuse) the Python venv holding the official `openai` package, the peer
# of the OpenAI-compatible differential test (tests/suite/openai_interop.rs):
#   $CACHE/venv-openai, CACHE = ${BACKEND_API_CACHE:-$HOME/.cache/backend-api} (outside the repo).
# Idempotent: reused when its marker matches the pins and `import openai` works.
# Exits non-zero (loudly) if pip cannot install. Prints the venv's path.
set -euo pipefail

CACHE="${BACKEND_API_CACHE:-$HOME/.cache/backend-api}"
PYTHON="${PYTHON:-python3}"
VENV="$CACHE/venv-openai"
MARKER="$VENV/.backend-api-installed"
# What pip resolved for `openai` on Python 3.11 when the test was written.
PINS="openai==3.57.0 annotated-types==0.8.0 anyio==4.16.0 h11==0.16.0 httpcore2==2.16.2
 httpx2==2.16.2 idna==3.20 jiter==0.19.0 pydantic==2.14.4 pydantic_core==2.50.5
 sniffio==1.3.1 truststore==0.10.5 typing-inspection==0.4.5 typing_extensions==4.16.0"

mkdir -p "$CACHE"
if [[ -f "$MARKER" && "$(cat "$MARKER")" == "$PINS" ]] && "$VENV/bin/python" -c 'import openai' 2>/dev/null; then
    echo "reusing $VENV" >&2
else
    echo "creating $VENV" >&2
    rm -rf "$VENV"
    "$PYTHON" -m venv "$VENV"
    # shellcheck disable=SC2086
    if ! "$VENV/bin/python" -m pip install --disable-pip-version-check -q $PINS; then
        rm -rf "$VENV"
        echo "######## openai-venv.sh: pip install failed (is PyPI reachable?) ########" >&2
        exit 1
    fi
    echo "$PINS" >"$MARKER"
fi
echo "$VENV"
