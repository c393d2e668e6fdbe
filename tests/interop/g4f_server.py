#!/usr/bin/env python3
"""Run the real g4f GUI/backend server offline, with a scripted test provider.

Run with the python of a venv made by scripts/g4f-venvs.sh:

    $VENV/bin/python tests/interop/g4f_server.py --port 0

Prints exactly one line ``READY <port>`` on stdout (flushed) once the socket
listens and answers; everything else (werkzeug's request log, g4f's logs) goes
to stderr.  The process ends on SIGTERM/SIGINT (exit 0) and also as soon as its
stdin reaches EOF, so a parent that dies (or closes the pipe) never leaves an
orphan server.  Start it with stdin=PIPE; pass --no-stdin-watch to run it by
hand with stdin at /dev/null.

Works with g4f 8.x (SSE wire framing) and g4f 6.x (NDJSON framing); tested with
8.8.6 and 6.7.4.

By default it serves the GUI app alone, as ``g4f gui`` does (Flask under
werkzeug). With ``--api`` it serves what ``g4f api`` serves: g4f's FastAPI app
under uvicorn with the GUI app mounted at ``/`` (so ``/backend-api/v2/...`` and
``/v1/...`` share one port); ``--no-gui`` leaves the GUI out, as ``g4f api
--no-gui`` does; ``--g4f-api-key K`` protects every route as ``g4f api
--g4f-api-key K`` does (header ``g4f-api-key: K`` or ``Authorization: Bearer K``).
``--api`` needs g4f 8.x and the packages scripts/g4f-venvs.sh adds to its venv.

The provider ``InteropTest`` (select it with ``"provider": "InteropTest"`` in
the request body) is driven by extra body fields, which the server passes to
the provider as keyword arguments (both versions pass every extra body key):

  interop_chunks     int, default 3: number of content chunks "part{i} "
  interop_delay_ms   int, default 0: sleep before each content chunk
  interop_fail_after int: raise ValueError("interop failure") after that many
                     content chunks (the server sends an ``error`` chunk)
  interop_tool_calls bool: yield a ToolCalls object after the content
  interop_echo       bool: first yield "ECHO:" + JSON of what the provider got
  interop_agent      bool: an agent's tool round: when the last message is a tool
                     result, answer "Tool said: <its content>" (no ToolCalls);
                     otherwise yield the ToolCalls after the content

Order: Reasoning("thinking..."), [ECHO], content chunks, [ToolCalls],
TitleGeneration("Interop title"), Usage(3, N, 3+N), FinishReason("stop").

Two more providers, selected by name like InteropTest (not listed by the model
listing, which stays InteropTest's alone):

  InteropStateful    keeps a conversation as g4f's stateful providers do: it
                     first yields "RECEIVED:" + JSON of the `conversation` it got
                     (its attributes, or null), then "turn N", then a
                     JsonConversation(conversation_id="c-1", turn=N) (N counts up
                     from the turn it received). The server sends that state
                     keyed by provider: {"InteropStateful": {...}}.
  InteropImage       "generates" an image: a 1x1 PNG as a data: URI in an
                     ImageResponse (alt "a red dot"). With download_media (the
                     GUI backend's default) the server stores it and sends a
                     content chunk whose `urls` are ["/media/<file>.png"], served by
                     GET /media/<file>.png. The server writes generated media under
                     its working directory: the launcher runs in its scratch dir.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import sys
import tempfile
import threading
import shutil
import time

T0 = time.monotonic()
# Only "READY <port>" goes to stdout: g4f prints to stdout at times (`g4f api`
# with a key prints "Register authentication key: ***"), so print() goes to stderr.
READY_OUT = sys.stdout
sys.stdout = sys.stderr


def log(*args) -> None:
    print("[g4f_server]", *args, file=sys.stderr, flush=True)


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="0 = pick a free port")
    p.add_argument(
        "--all-providers",
        action="store_true",
        help="keep g4f's own provider list in /backend-api/v2/models "
        "(default: list InteropTest only; offline every other provider's "
        "get_models() fails and the listing is just noise)",
    )
    p.add_argument(
        "--no-stdin-watch",
        action="store_true",
        help="do not exit when stdin reaches EOF",
    )
    p.add_argument("--quiet", action="store_true", help="no request log")
    p.add_argument(
        "--api",
        action="store_true",
        help="serve as `g4f api` does: FastAPI under uvicorn, the GUI app mounted",
    )
    p.add_argument("--no-gui", action="store_true", help="with --api: as `g4f api --no-gui`")
    p.add_argument("--g4f-api-key", default=None, help="with --api: as `g4f api --g4f-api-key`")
    return p.parse_args()


ARGS = parse_args()

# --- scratch dirs: g4f writes usage logs, caches, keys there ----------------
_SCRATCH = None
if not os.environ.get("G4F_CONFIG_DIR") or not os.environ.get("G4F_CACHE_DIR"):
    _SCRATCH = tempfile.mkdtemp(prefix="g4f-interop-")
    os.environ.setdefault("G4F_CONFIG_DIR", os.path.join(_SCRATCH, "config"))
    os.environ.setdefault("G4F_CACHE_DIR", os.path.join(_SCRATCH, "cache"))
for _d in (os.environ["G4F_CONFIG_DIR"], os.environ["G4F_CACHE_DIR"]):
    os.makedirs(_d, exist_ok=True)


def cleanup() -> None:
    if _SCRATCH:
        shutil.rmtree(_SCRATCH, ignore_errors=True)


def die(code: int = 0) -> None:
    """Leave at once: in-flight streaming threads and asyncio loops would
    otherwise keep the interpreter alive."""
    cleanup()
    try:
        READY_OUT.flush()
        sys.stderr.flush()
    except Exception:
        pass
    os._exit(code)


# --- stdin watch: parent gone -> exit ---------------------------------------
def _watch_stdin() -> None:
    try:
        while True:
            if not sys.stdin.buffer.read1(4096):
                break
    except Exception:
        pass
    log("stdin closed, exiting")
    die(0)


if not ARGS.no_stdin_watch:
    threading.Thread(target=_watch_stdin, name="stdin-watch", daemon=True).start()

import g4f  # noqa: E402
from g4f import debug  # noqa: E402

G4F_VERSION = None
try:
    from importlib.metadata import version as _dist_version

    G4F_VERSION = _dist_version("g4f")
except Exception:
    pass
MAJOR = int((G4F_VERSION or "0").split(".")[0] or 0)

# No version check against PyPI on the first request (6.x does one).
debug.version_check = False

# 6.x has no G4F_CONFIG_DIR: its config dir is ~/.config/g4f. Everything the
# server writes goes through get_cookies_dir(), so point that at the scratch dir
# (both versions). Also avoids ./har_and_cookies in the cwd being picked up.
try:
    from g4f.cookies import set_cookies_dir

    _cookies = os.path.join(os.environ["G4F_CONFIG_DIR"], "cookies")
    os.makedirs(_cookies, exist_ok=True)
    set_cookies_dir(_cookies)
except ImportError:
    pass

# 8.x: importing g4f.gui loads the G4FSpace provider, which fetches
# https://g4f.dev/dist/js/providers.json. Pre-fill that list (6.x: no factory).
try:
    from g4f.client.factory import AbstractClientFactory

    AbstractClientFactory._live_providers = {
        "providers": {"default": {"baseUrl": "http://127.0.0.1:9/v1"}},
        "defaultModels": {},
    }
except ImportError:
    AbstractClientFactory = None

from g4f.providers.base_provider import AsyncGeneratorProvider, ProviderModelMixin  # noqa: E402

# Response classes present in both 6.7.4 and 8.8.6 with the same constructors.
from g4f.providers.response import (  # noqa: E402
    FinishReason,
    ImageResponse,
    JsonConversation,
    Reasoning,
    TitleGeneration,
    ToolCalls,
    Usage,
)

INTEROP_TOOL_CALLS = [
    {
        "id": "call_interop_1",
        "type": "function",
        "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"},
    }
]


def _as_bool(v) -> bool:
    if isinstance(v, str):
        return v.strip().lower() in ("1", "true", "yes", "on")
    return bool(v)


def _jsonable(value):
    """Round-trip through json with default=str so anything odd becomes a string."""
    try:
        return json.loads(json.dumps(value, default=str))
    except Exception:
        return repr(value)


class InteropTest(AsyncGeneratorProvider, ProviderModelMixin):
    label = "Interop Test"
    url = "http://127.0.0.1/interop"
    working = True
    needs_auth = False
    supports_stream = True
    supports_system_message = True
    supports_message_history = True
    active_by_default = True
    # Takes `tools` itself (8.x would otherwise wrap it in its prompt emulation).
    supports_native_tools = True
    default_model = "interop-model"
    default_vision_model = "interop-vision"
    models = ["interop-model", "interop-vision"]
    vision_models = ["interop-vision"]

    @classmethod
    def get_models(cls, api_key: str = None, **kwargs) -> list[str]:
        return list(cls.models)

    @classmethod
    async def create_async_generator(cls, model, messages, **kwargs):
        chunks = int(kwargs.get("interop_chunks", 3) or 0)
        delay = float(kwargs.get("interop_delay_ms", 0) or 0) / 1000.0
        fail_after = kwargs.get("interop_fail_after")
        fail_after = None if fail_after is None else int(fail_after)

        yield Reasoning(token="thinking...")
        if _as_bool(kwargs.get("interop_echo")):
            echo = {
                "model": model,
                "messages": _jsonable(messages),
                "media": _jsonable(kwargs.get("media")),
                "api_key": _jsonable(kwargs.get("api_key")),
                "extra": {
                    k: _jsonable(v)
                    for k, v in kwargs.items()
                    if k not in ("media", "api_key")
                },
            }
            yield "ECHO:" + json.dumps(echo, sort_keys=True, default=str)
        for i in range(chunks):
            if fail_after is not None and i >= fail_after:
                raise ValueError("interop failure")
            if delay:
                await asyncio.sleep(delay)
            yield f"part{i} "
        if fail_after is not None and fail_after == chunks:
            raise ValueError("interop failure")
        agent = _as_bool(kwargs.get("interop_agent"))
        last = messages[-1] if messages else {}
        if agent and last.get("role") == "tool":
            yield f"Tool said: {last.get('content')}"
        elif agent or _as_bool(kwargs.get("interop_tool_calls")):
            yield ToolCalls(INTEROP_TOOL_CALLS)
        yield TitleGeneration("Interop title")
        yield Usage(prompt_tokens=3, completion_tokens=chunks, total_tokens=3 + chunks)
        yield FinishReason("stop")


class InteropStateful(AsyncGeneratorProvider, ProviderModelMixin):
    label = "Interop Stateful"
    url = "http://127.0.0.1/interop-stateful"
    working = True
    needs_auth = False
    supports_stream = True
    supports_message_history = True
    default_model = "interop-model"
    models = ["interop-model"]

    @classmethod
    async def create_async_generator(cls, model, messages, conversation=None, **kwargs):
        received = None if conversation is None else _jsonable(conversation.get_dict())
        yield "RECEIVED:" + json.dumps(received, sort_keys=True)
        turn = int((received or {}).get("turn", 0) or 0) + 1
        yield f" turn {turn}"
        yield JsonConversation(conversation_id="c-1", turn=turn)
        yield FinishReason("stop")


# A 1x1 PNG.
RED_DOT = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
)


class InteropImage(AsyncGeneratorProvider, ProviderModelMixin):
    label = "Interop Image"
    url = "http://127.0.0.1/interop-image"
    working = True
    needs_auth = False
    supports_stream = True
    default_model = "interop-image"
    models = ["interop-image"]
    image_models = ["interop-image"]

    @classmethod
    async def create_async_generator(cls, model, messages, **kwargs):
        yield ImageResponse(["data:image/png;base64," + RED_DOT], "a red dot")
        yield FinishReason("stop")


EXTRA_PROVIDERS = {"InteropStateful": InteropStateful, "InteropImage": InteropImage}

# --- register the provider ---------------------------------------------------
import g4f.Provider as _P  # noqa: E402

_loader = getattr(_P, "ProviderLoader", None)
if _loader is not None:
    # 8.x: lookup by name goes ProviderUtils.convert (a view) -> ProviderLoader.from_name
    # -> ProviderLoader.loaded; the listing (Provider.__providers__) iterates ProviderLoader.names.
    _loader.loaded["InteropTest"] = InteropTest
    _loader.loaded["interoptest"] = InteropTest  # from_name's normalised key
    for _name, _cls in EXTRA_PROVIDERS.items():
        _loader.loaded[_name] = _cls
        _loader.loaded[_name.lower()] = _cls
    if ARGS.all_providers:
        if "InteropTest" not in _loader.names:
            _loader.names.append("InteropTest")
    else:
        _loader.names[:] = ["InteropTest"]
else:
    # 6.x: Provider.__map__ is ProviderUtils.convert (same dict); listings iterate
    # Provider.__providers__ (a list).
    _P.__map__["InteropTest"] = InteropTest
    _P.__map__.update(EXTRA_PROVIDERS)
    if ARGS.all_providers:
        _P.__providers__.append(InteropTest)
    else:
        _P.__providers__[:] = [InteropTest]
setattr(_P, "InteropTest", InteropTest)
for _name, _cls in EXTRA_PROVIDERS.items():
    setattr(_P, _name, _cls)

# g4f stores generated media under ./generated_media: keep it in the scratch dir.
os.chdir(_SCRATCH or os.environ["G4F_CACHE_DIR"])

def _on_signal(signum, frame):
    log(f"signal {signum}, exiting")
    die(0)


def serve_gui() -> int:
    """`g4f gui`: the Flask app under werkzeug; returns the port."""
    import g4f.gui
    from werkzeug.serving import make_server

    if ARGS.quiet:
        import logging

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = make_server(ARGS.host, ARGS.port, g4f.gui.get_gui_app(), threaded=True)
    threading.Thread(target=server.serve_forever, name="werkzeug", daemon=True).start()
    return server.socket.getsockname()[1]


def serve_api() -> int:
    """`g4f api`: what g4f.api.run_api starts (uvicorn with the app factory and
    its options), on a socket of ours so that --port 0 can tell its port."""
    import uvicorn
    from g4f.api import AppConfig

    # As g4f.cli.run_api_args does for `g4f api [--no-gui] [--g4f-api-key K]`.
    AppConfig.set_config(g4f_api_key=ARGS.g4f_api_key, gui=not ARGS.no_gui)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((ARGS.host, ARGS.port))
    config = uvicorn.Config(
        "g4f.api:create_app",
        factory=True,
        host=ARGS.host,
        port=sock.getsockname()[1],
        timeout_keep_alive=65,
        backlog=2048,
        timeout_graceful_shutdown=600,
        use_colors=False,
        log_level="warning" if ARGS.quiet else "info",
        access_log=not ARGS.quiet,
    )
    server = uvicorn.Server(config)
    threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="uvicorn", daemon=True
    ).start()
    for _ in range(400):  # the app is built in the server's thread
        if server.started:
            break
        time.sleep(0.025)
    return sock.getsockname()[1]


port = serve_api() if ARGS.api else serve_gui()
signal.signal(signal.SIGTERM, _on_signal)
signal.signal(signal.SIGINT, _on_signal)

# Wait until a TCP connect succeeds, then announce.
for _ in range(200):
    try:
        with socket.create_connection((ARGS.host, port), timeout=0.5):
            break
    except OSError:
        time.sleep(0.025)
kind = "api" + (" --no-gui" if ARGS.no_gui else "") + (" with a key" if ARGS.g4f_api_key else "") if ARGS.api else "gui"
log(f"g4f {G4F_VERSION} ({kind}) listening on http://{ARGS.host}:{port} "
    f"(start-up {time.monotonic() - T0:.2f} s, scratch {_SCRATCH or os.environ['G4F_CONFIG_DIR']})")
READY_OUT.write(f"READY {port}\n")
READY_OUT.flush()

try:
    while True:
        time.sleep(3600)
except KeyboardInterrupt:
    die(0)
