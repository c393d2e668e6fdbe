#!/usr/bin/env python3
"""Re-record tests/interop/fixtures/ from the real g4f servers (stdlib + curl only).

    scripts/g4f-venvs.sh            # once
    python3 tests/interop/record_fixtures.py

For each venv (8.8.6 -> prefix "sse-8.8.6", 6.7.4 -> prefix "ndjson-6.7.4") it starts
tests/interop/g4f_server.py, sends the requests below with curl, and writes each response
body byte-for-byte to fixtures/<prefix>-<case>.txt. Status lines and headers (Date and
port normalised) go to fixtures/<prefix>-headers.txt. Then it runs reference_client.py
(with the 6.7.4 venv's python) against both servers and writes
fixtures/reference-client-vs-<prefix>.txt (stdout, then stderr).
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
FIX = HERE / "fixtures"
CACHE = Path(os.environ.get("BACKEND_API_CACHE", Path.home() / ".cache" / "backend-api"))
VERSIONS = {"8.8.6": "sse-8.8.6", "6.7.4": "ndjson-6.7.4"}

# 1x1 transparent PNG
PNG_URI = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"
    "YPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
USER = [{"role": "user", "content": "hi"}]
BASE = {"model": "interop-model", "provider": "InteropTest", "messages": USER}

# case -> (method, path, body bytes or None, extra headers)
CASES = {
    "normal": ("POST", "/backend-api/v2/conversation", {**BASE}, []),
    "fail-after": ("POST", "/backend-api/v2/conversation", {**BASE, "interop_fail_after": 1}, []),
    "echo": (
        "POST",
        "/backend-api/v2/conversation",
        {
            **BASE,
            "messages": [
                {"role": "system", "content": "be brief"},
                {"role": "user", "content": [{"type": "text", "text": "what is this?"}]},
            ],
            "media": [[PNG_URI, "pixel.png"]],
            "api_key": "sk-interop-test",
            "interop_echo": True,
            "interop_chunks": 1,
            "conversation_id": "conv-123",
            "web_search": False,
        },
        [],
    ),
    "echo-bearer": (
        "POST",
        "/backend-api/v2/conversation",
        {**BASE, "interop_echo": True, "interop_chunks": 0},
        ["Authorization: Bearer sk-from-header"],
    ),
    "tool-calls": (
        "POST",
        "/backend-api/v2/conversation",
        {**BASE, "interop_tool_calls": True, "interop_chunks": 2},
        [],
    ),
    "unicode": (
        "POST",
        "/backend-api/v2/conversation",
        {**BASE, "messages": [{"role": "user", "content": "h\u00e9llo \u2603 \U0001f600"}],
         "interop_echo": True, "interop_chunks": 1},
        [],
    ),
    "invalid-json": ("POST", "/backend-api/v2/conversation", b"{not json", []),
    "no-such-provider": (
        "POST",
        "/backend-api/v2/conversation",
        {**BASE, "provider": "NoSuchProvider"},
        [],
    ),
    "get-conversation": ("GET", "/backend-api/v2/conversation", None, []),
    "models": ("GET", "/backend-api/v2/models", None, []),
    "models-InteropTest": ("GET", "/backend-api/v2/models/InteropTest", None, []),
    "models-NoSuchProvider": ("GET", "/backend-api/v2/models/NoSuchProvider", None, []),
}


def venv_python(ver: str) -> Path:
    return CACHE / f"venv-g4f-{ver}" / "bin" / "python"


def start_server(ver: str):
    t0 = time.monotonic()
    proc = subprocess.Popen(
        [str(venv_python(ver)), str(HERE / "g4f_server.py"), "--port", "0"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=open(Path(tempfile.gettempdir()) / f"g4f-server-{ver}.log", "w"),
        text=True,
    )
    line = proc.stdout.readline()
    m = re.fullmatch(r"READY (\d+)\n", line)
    if not m:
        proc.kill()
        raise SystemExit(f"server {ver} did not start: {line!r}")
    return proc, int(m.group(1)), time.monotonic() - t0


def curl(port: int, method: str, path: str, body, headers, body_file: Path, hdr_file: Path):
    cmd = ["curl", "-sN", "-X", method, "-D", str(hdr_file), "-o", str(body_file),
           "-H", "Accept: text/event-stream"]
    for h in headers:
        cmd += ["-H", h]
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        cmd += ["-H", "Content-Type: application/json", "--data-binary", "@-"]
    else:
        data = None
    cmd.append(f"http://127.0.0.1:{port}{path}")
    subprocess.run(cmd, input=data, check=True, timeout=120)


def normalise_headers(text: str, port: int) -> str:
    text = re.sub(r"(?im)^date: .*\r?\n", "Date: <normalised>\r\n", text)
    return text.replace(str(port), "<port>")


def main() -> int:
    FIX.mkdir(parents=True, exist_ok=True)
    servers = {}
    try:
        for ver, prefix in VERSIONS.items():
            proc, port, startup = start_server(ver)
            servers[ver] = (proc, port)
            print(f"{ver}: READY {port} after {startup:.2f} s", file=sys.stderr)
            hdr_all = []
            with tempfile.TemporaryDirectory() as tmp:
                for case, (method, path, body, headers) in CASES.items():
                    out = FIX / f"{prefix}-{case}.txt"
                    hdr = Path(tmp) / "h"
                    curl(port, method, path, body, headers, out, hdr)
                    hdr_all.append(f"### {case}: {method} {path}\n"
                                   + normalise_headers(hdr.read_text(), port))
            (FIX / f"{prefix}-headers.txt").write_text("".join(hdr_all))
        # The reference client (6.7.4 python) against both servers.
        req = {**BASE, "interop_tool_calls": True}
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump(req, f)
            req_file = f.name
        for ver, prefix in VERSIONS.items():
            port = servers[ver][1]
            r = subprocess.run(
                [str(venv_python("6.7.4")), str(HERE / "reference_client.py"),
                 f"http://127.0.0.1:{port}", req_file],
                capture_output=True, text=True, timeout=120,
            )
            (FIX / f"reference-client-vs-{prefix}.txt").write_text(
                f"# exit code {r.returncode}\n# --- stdout\n{r.stdout}# --- stderr\n"
                + r.stderr.replace(str(port), "<port>").replace(str(CACHE), "$BACKEND_API_CACHE")
            )
        os.unlink(req_file)
    finally:
        for proc, _ in servers.values():
            proc.stdin.close()  # the server exits on stdin EOF
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
    print(f"fixtures written to {FIX}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
