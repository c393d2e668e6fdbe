#!/usr/bin/env bash
# Create (or reuse) the two Python venvs that run the real g4f server for interop tests:
#   $CACHE/venv-g4f-8.8.6  -> SSE framing (g4f >= 6.7.5), also `g4f api` (FastAPI + uvicorn)
#   $CACHE/venv-g4f-6.7.4  -> NDJSON framing (last version before SSE)
# CACHE defaults to ${BACKEND_API_CACHE:-$HOME/.cache/backend-api} (outside the repo).
# Idempotent: a venv is reused when its marker file matches the wanted pins and
# `python -c 'import g4f, flask'` works with the right g4f version.
# Exits non-zero (with a loud message) if pip cannot install (e.g. PyPI unreachable).
# Usage: scripts/g4f-venvs.sh [8.8.6|6.7.4 ...]   (default: both)
set -euo pipefail

CACHE="${BACKEND_API_CACHE:-$HOME/.cache/backend-api}"
PYTHON="${PYTHON:-python3}"
mkdir -p "$CACHE"

# Everything pinned (the set pip resolved for `g4f==X 'flask[async]' werkzeug` on
# 2026-11-25, Python 3.11): the server imports and serves offline with exactly these.
# g4f itself needs nothing else for the GUI server; the only per-version difference
# is nest-asyncio (6.7.4) vs nest-asyncio2 (8.8.6).
COMMON_PINS="flask[async]==3.1.3 werkzeug==3.1.9 asgiref==3.13.0 blinker==1.9.0
 click==8.5.1 itsdangerous==2.2.0 jinja2==3.1.6 markupsafe==3.0.4
 aiohttp==3.14.5 aiohappyeyeballs==2.7.1 aiosignal==1.4.0 attrs==26.1.0
 frozenlist==1.8.0 multidict==7.2.1 propcache==0.5.4 yarl==1.25.1 idna==3.20
 brotli==1.2.1 pycryptodome==4.4.0 requests==2.34.2 certifi==2026.10.19.post1
 charset-normalizer==3.5.3 urllib3==2.8.0 typing-extensions==4.16.0"
pins_for() {
    case "$1" in
        8.8.6) echo "g4f==8.8.6 nest-asyncio2==1.7.4" $COMMON_PINS ;;
        6.7.4) echo "g4f==6.7.4 nest-asyncio==1.6.0" $COMMON_PINS ;;
        *) echo "unknown g4f version: $1" >&2; return 1 ;;
    esac
}

# What `g4f api` needs on top (8.8.6 only): the set pip resolved for
# `uvicorn fastapi a2wsgi python-multipart` into the 8.8.6 venv on 2026-11-27.
# Installed into the existing venv (never rebuilding it), with a marker of its own.
API_PINS="uvicorn==0.54.0 fastapi==0.165.0 a2wsgi==1.10.10 python-multipart==0.0.34
 annotated-doc==0.0.7 anyio==4.16.0 h11==0.16.0 opentelemetry-api==1.45.2 pydantic==2.14.4
 pydantic_core==2.50.5 starlette==1.10.0 typing-inspection==0.4.5 annotated-types==0.8.0"

loud() {
    {
        echo "########################################################################"
        echo "# g4f-venvs.sh: $*"
        echo "########################################################################"
    } >&2
}

ensure_venv() {
    local ver="$1" pins venv marker
    pins="$(pins_for "$ver")"
    venv="$CACHE/venv-g4f-$ver"
    marker="$venv/.backend-api-installed"
    if [[ -f "$marker" && "$(cat "$marker")" == "$pins" ]] &&
        "$venv/bin/python" -c 'import g4f, flask' >/dev/null 2>&1 &&
        [[ "$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("g4f"))' 2>/dev/null)" == "$ver" ]]; then
        echo "reusing $venv" >&2
        return 0
    fi
    echo "creating $venv ($pins)" >&2
    rm -rf "$venv"
    local t0=$SECONDS
    if ! "$PYTHON" -m venv "$venv"; then
        loud "could not create venv $venv with $PYTHON"
        return 1
    fi
    # shellcheck disable=SC2086
    if ! "$venv/bin/python" -m pip install --disable-pip-version-check -q $pins; then
        rm -rf "$venv"
        loud "pip install failed for g4f $ver (is PyPI reachable?). Interop tests cannot run."
        return 1
    fi
    if ! "$venv/bin/python" -c 'import g4f, flask' ; then
        rm -rf "$venv"
        loud "g4f $ver installed but does not import"
        return 1
    fi
    echo "$pins" >"$marker"
    echo "installed $venv in $((SECONDS - t0)) s" >&2
}

# The packages `g4f api` imports, added to the 8.8.6 venv (never rebuilding it).
ensure_api_extras() {
    local venv="$CACHE/venv-g4f-$1" marker
    marker="$venv/.backend-api-api-installed"
    if [[ -f "$marker" && "$(cat "$marker")" == "$API_PINS" ]] &&
        "$venv/bin/python" -c 'import uvicorn, fastapi, a2wsgi, multipart' >/dev/null 2>&1; then
        return 0
    fi
    echo "adding the g4f api packages to $venv" >&2
    # shellcheck disable=SC2086
    if ! "$venv/bin/python" -m pip install --disable-pip-version-check -q $API_PINS; then
        loud "pip install of the g4f api packages failed (is PyPI reachable?). The g4f api tests cannot run."
        return 1
    fi
    echo "$API_PINS" >"$marker"
}

versions=("$@")
[[ ${#versions[@]} -eq 0 ]] && versions=(8.8.6 6.7.4)
for v in "${versions[@]}"; do
    ensure_venv "$v" || exit 1
    if [[ $v == 8.8.6 ]]; then ensure_api_extras "$v" || exit 1; fi
done
for v in "${versions[@]}"; do
    echo "$CACHE/venv-g4f-$v"
done
