#!/usr/bin/env python3
"""Tests of the command-line client `backend-api` (cli/), through its real parts.

Builds the client twice with cli/build.sh (debug library): as is, and with
AddressSanitizer + UBSan (leak detection on). Starts the bundled offline backend
(the test_backend example), a TLS server with the test certificate of tests/tls,
and, when the g4f venv exists, the real `g4f api` server (tests/interop/g4f_server.py
--api) with and without an API key and with --no-gui. Then checks:

- every flag and its environment variable, standard input, the exit statuses, the
  hints (refused connection, 404 on the conversation path, 401), --raw and --json,
  and that keys and secret header values never reach standard output or error,
  also with the library's trace log on (all with the sanitizer build);
- through a real pseudo-terminal: the spinner, Ctrl-C cancelling a one-shot answer,
  and the conversation (follow-up requests, line editing with libedit and with the
  terminal's own line mode, history, Ctrl-C clearing a line and cancelling an
  answer, /reset, /help, Ctrl-D, SIGTERM);
- a few runs under Valgrind memcheck;
- that --help and the man page name the same options, variables, defaults and exit
  statuses, and the bash and zsh completions the same options (zsh through a pty).

Run: tests/cli/run.py [-k SUBSTRING]   (scripts/test.sh runs it)
Needs: cargo, cc, python3 (stdlib only). Valgrind, zsh and the g4f venv
(scripts/g4f-venvs.sh) are used when present; without them those checks are skipped
loudly, and under CI=true a skip is a failure. No check depends on timing: waits
have generous limits that only a hang reaches.
Env: BACKEND_API_CLI (a client already built, used for every run instead of
building one: to run the checks against another commit's client),
CARGO_TARGET_DIR (./target), BACKEND_API_TEST_BACKEND (the test_backend
binary; built when unset), BACKEND_API_CACHE (~/.cache/backend-api), CI.
Last line: "cli: N passed, M failed".
"""
from __future__ import annotations

import calendar
import fcntl
import http.server
import json
import os
import pty
import re
import select
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TARGET = Path(os.environ.get("CARGO_TARGET_DIR") or ROOT / "target").resolve()
CACHE = Path(os.environ.get("BACKEND_API_CACHE") or Path.home() / ".cache/backend-api")
CI = os.environ.get("CI") == "true"
ONLY = sys.argv[sys.argv.index("-k") + 1] if "-k" in sys.argv else ""
WORK = Path(tempfile.mkdtemp(prefix="backend-api-cli-"))
HANG = 30  # seconds: only a hang reaches this

# ---------------------------------------------------------------- results

passed = failed = 0


def check(name: str, ok: bool, detail: str = "") -> bool:
    global passed, failed
    if ok:
        passed += 1
        print(f"  ok   {name}")
    else:
        failed += 1
        print(f"  FAIL {name}")
        if detail:
            print("       " + detail.replace("\n", "\n       "))
    return ok


def skip(name: str, reason: str) -> None:
    global failed
    print(f"  #### SKIPPED {name}: {reason}" + (" (a failure under CI=true)" if CI else ""))
    if CI:
        failed += 1


def section(name: str) -> bool:
    if ONLY and ONLY not in name:
        return False
    print(f"== {name}")
    return True


# ---------------------------------------------------------------- building and servers


def build(out: Path, *cflags: str) -> Path:
    cmd = [str(ROOT / "cli/build.sh"), "--debug", "-o", str(out)]
    if cflags:
        cmd += ["--", *cflags]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return out


def read_ready(proc: subprocess.Popen, what: str) -> int:
    line = proc.stdout.readline().decode()
    if not line.startswith("READY "):
        raise SystemExit(f"{what} did not start: {line!r}")
    return int(line.split()[1])


def start_backend() -> tuple[subprocess.Popen, str]:
    binary = os.environ.get("BACKEND_API_TEST_BACKEND")
    if not binary:
        subprocess.run(["cargo", "build", "--quiet", "--example", "test_backend"], cwd=ROOT, check=True)
        binary = str(TARGET / "debug/examples/test_backend")
    proc = subprocess.Popen([binary], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    return proc, f"http://127.0.0.1:{read_ready(proc, 'the test backend')}"


def start_g4f(*args: str) -> tuple[subprocess.Popen, str] | None:
    """The real g4f server (8.8.6) as `g4f api` runs it, with the InteropTest provider."""
    py = CACHE / "venv-g4f-8.8.6/bin/python"
    if not py.exists():
        return None
    proc = subprocess.Popen(
        [str(py), str(ROOT / "tests/interop/g4f_server.py"), "--port", "0", "--quiet", "--api", *args],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    return proc, f"http://127.0.0.1:{read_ready(proc, 'g4f api ' + ' '.join(args))}"


SSE = (b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n"
       b'event: content\ndata: {"type": "content", "content": "secure hello"}\n\n')


def start_tls_server() -> str:
    """HTTPS on 127.0.0.1 with the test certificate of tests/tls: one short answer per connection."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(ROOT / "tests/tls/server.pem", ROOT / "tests/tls/server.key")
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        while True:
            conn, _ = listener.accept()
            try:
                with ctx.wrap_socket(conn, server_side=True) as tls:
                    data = b""
                    while b"\r\n\r\n" not in data:
                        data += tls.recv(4096)
                    head, _, body = data.partition(b"\r\n\r\n")
                    size = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))
                    while len(body) < size:
                        body += tls.recv(4096)
                    tls.sendall(SSE)
            except (OSError, ssl.SSLError, AttributeError):
                pass  # a client that refused our certificate

    threading.Thread(target=serve, daemon=True).start()
    return f"https://127.0.0.1:{listener.getsockname()[1]}"


# ---------------------------------------------------------------- running the client

# Hermetic: no variable of ours or proxy from the caller's environment.
BASE_ENV = {k: v for k, v in os.environ.items()
            if not k.startswith("BACKEND_API_") and k.lower() not in
            ("all_proxy", "https_proxy", "http_proxy", "no_proxy")}
# Nothing read from or saved into the caller's configuration and state.
BASE_ENV["XDG_CONFIG_HOME"] = str(WORK / "config")
BASE_ENV["XDG_STATE_HOME"] = str(WORK / "state")
BASE_ENV["ASAN_OPTIONS"] = "detect_leaks=1:abort_on_error=0:exitcode=86"
BASE_ENV["UBSAN_OPTIONS"] = "halt_on_error=1:print_stacktrace=1:exitcode=86"


class Out:
    def __init__(self, rc: int, out: bytes, err: bytes):
        self.rc, self.out, self.err = rc, out.decode(errors="replace"), err.decode(errors="replace")

    def __str__(self) -> str:
        return f"exit {self.rc}\n--- stdout\n{self.out[-3000:]}\n--- stderr\n{self.err[-3000:]}"


URL: str  # the test backend's
CLIENT: Path  # the sanitizer build, for every non-terminal run
PLAIN: Path  # the build as shipped


def run(*args: str, env: dict | None = None, stdin: bytes = b"", binary: Path | None = None,
        prefix: list[str] | None = None) -> Out:
    e = dict(BASE_ENV)
    for k, v in (env or {}).items():
        if v is None:
            e.pop(k, None)
        else:
            e[k] = v
    cmd = (prefix or []) + [str(binary or CLIENT), *args]
    p = subprocess.run(cmd, input=stdin, capture_output=True, env=e, timeout=HANG)
    return Out(p.returncode, p.stdout, p.stderr)


def expect(name: str, o: Out, rc: int, *, out: list[str] = (), err: list[str] = (),
           not_err: list[str] = (), not_out: list[str] = ()) -> bool:
    problems = [f"exit {o.rc}, expected {rc}"] if o.rc != rc else []
    problems += [f"stdout lacks {s!r}" for s in out if s not in o.out]
    problems += [f"stderr lacks {s!r}" for s in err if s not in o.err]
    problems += [f"stderr has {s!r}" for s in not_err if s in o.err]
    problems += [f"stdout has {s!r}" for s in not_out if s in o.out]
    problems += ["sanitizer report"] if "Sanitizer" in o.err or "runtime error:" in o.err else []
    return check(name, not problems, "; ".join(problems) + "\n" + str(o))


def echo_of(text: str) -> dict:
    """The test backend's echo content: {"body": ..., "headers": ...}."""
    at = text.index("ECHO:") + 5
    return json.JSONDecoder().raw_decode(text[at:])[0]


def echoes_in(text: str) -> list[dict]:
    """Every echo in a conversation's output (not those quoted inside later echoes)."""
    found, at = [], text.find("ECHO:")
    while at >= 0:
        value, end = json.JSONDecoder().raw_decode(text, at + 5)
        found.append(value)
        at = text.find("ECHO:", end)
    return found


def users_said(echo: dict) -> list[str]:
    return [m["content"] for m in echo["body"]["messages"] if m["role"] == "user"]


# ---------------------------------------------------------------- a pseudo-terminal


class Terminal:
    """The client on a real pseudo-terminal (stdin, stdout and stderr)."""

    def __init__(self, args: list[str], env: dict | None = None, binary: Path | None = None):
        e = dict(BASE_ENV, TERM="xterm")
        e.update(env or {})
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            try:
                os.execve(str(binary or PLAIN), [str(binary or PLAIN), *args], e)
            finally:
                os._exit(127)
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 200, 0, 0))
        self.out = b""
        self.mark = 0
        self.rc: int | None = None

    def _read(self, timeout: float) -> bool:
        r, _, _ = select.select([self.fd], [], [], timeout)
        if not r:
            return True
        try:
            data = os.read(self.fd, 65536)
        except OSError:
            return False
        self.out += data
        return bool(data)

    def expect(self, pattern: str | bytes) -> bool:
        """Waits for pattern after what earlier expects consumed."""
        pat = pattern.encode() if isinstance(pattern, str) else pattern
        end = time.monotonic() + HANG
        while True:
            at = self.out.find(pat, self.mark)
            if at >= 0:
                self.mark = at + len(pat)
                return True
            if time.monotonic() > end or not self._read(0.2):
                return False

    def send(self, data: str | bytes) -> None:
        os.write(self.fd, data.encode() if isinstance(data, str) else data)

    def wait(self) -> int:
        end = time.monotonic() + HANG
        while self.rc is None and time.monotonic() < end:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.rc = os.waitstatus_to_exitcode(status)
            else:
                self._read(0.1)
        while self._read(0):  # what is left
            if not select.select([self.fd], [], [], 0)[0]:
                break
        return self.rc if self.rc is not None else -999

    def text(self) -> str:
        return self.out.decode(errors="replace")

    def close(self) -> None:
        if self.rc is None:
            os.kill(self.pid, signal.SIGKILL)
            self.wait()
        os.close(self.fd)


def session(name: str, t: Terminal, steps: list[tuple[str, str | bytes]], rc: int) -> bool:
    """Steps: ("send", data) or ("expect", text). Then the exit status."""
    for kind, arg in steps:
        if kind == "send":
            t.send(arg)
        elif not t.expect(arg):
            t.close()
            return check(name, False, f"no {arg!r} after {t.text()[t.mark - 200:t.mark]!r}\n"
                                      f"whole output: {t.text()[-4000:]!r}")
    got = t.wait()
    t.close()
    return check(name, got == rc and "Sanitizer" not in t.text(), f"exit {got}, expected {rc}: {t.text()[-3000:]!r}")


# ---------------------------------------------------------------- the checks

PIXEL = WORK / "pixel.gif"
PIXEL.write_bytes(b"GIF89a\x01\x00\x01\x00\x00\x00\x00;")


def test_basics(url: str) -> None:
    o = run("--help")
    expect("--help", o, 0, out=["usage: backend-api [options] [message...]", "exit status:"])
    version = re.search(r'^version = "(.+)"', (ROOT / "Cargo.toml").read_text(), re.M).group(1)
    expect("--version names the library's version and the line editing", run("--version"), 0,
           out=[f"backend-api {version} (line editing: "])
    o = run("-u", url, "hello", "there")
    expect("an answer: text on stdout, notes on stderr", o, 0,
           out=["Hello from the bundled offline backend! You said: hello there\n"],
           err=["[provider: Test Backend", "[finish: stop]", "[usage: 3 prompt + 10 completion = 13 tokens]"],
           not_err=["waiting for the answer", "\033["])
    expect("--url=URL", run(f"--url={url}", "x"), 0, out=["You said: x"])
    expect("-uURL", run(f"-u{url}", "x"), 0, out=["You said: x"])
    expect("BACKEND_API_URL", run("y", env={"BACKEND_API_URL": url}), 0, out=["You said: y"])
    expect("--url wins over BACKEND_API_URL", run("-u", url, "z", env={"BACKEND_API_URL": "http://127.0.0.1:1"}),
           0, out=["You said: z"])
    expect("-- ends the options", run("-u", url, "--", "-x", "--raw"), 0, out=["You said: -x --raw"])
    expect("-q: no notes", run("-u", url, "-q", "x"), 0, out=["You said: x"], not_err=["[provider", "[usage"])
    o = run("-u", url, stdin=b"from a pipe\n\n")
    expect("standard input is the message when it is not a terminal", o, 0, out=["You said: from a pipe\n"])
    o = run("-u", url, "Summarise:", "-", stdin=b"piped text\n")
    expect('"-" among the words stands for standard input', o, 0, out=["You said: Summarise: piped text\n"])
    expect("empty standard input is a usage error", run("-u", url, stdin=b"\n"), 2,
           err=["the message is empty (nothing came on standard input)"])
    expect('"-" twice is a usage error', run("-u", url, "-", "-", stdin=b"x"), 2, err=['may stand only once'])


def test_request(url: str) -> None:
    secret, g4f_secret, header_secret = "sk-body-marker", "g4f-key-marker", "hdr-token-marker"
    o = run("-u", url, "-m", "m1", "-p", "TestBackend", "-s", "be brief", "--media", str(PIXEL),
            "--field", "test_echo=true", "--field", 'conversation_id="c1"', "-H", "X-Trace: t-1",
            "-H", f"Authorization: Bearer {header_secret}", "hi",
            env={"BACKEND_API_KEY": secret, "BACKEND_API_G4F_KEY": g4f_secret})
    if not expect("a request with every part", o, 0, out=["ECHO:"]):
        return
    e = echo_of(o.out)
    body, headers = e["body"], e["headers"]
    check("model, provider, system and user messages, field, media", body["model"] == "m1"
          and body["provider"] == "TestBackend" and body["conversation_id"] == "c1"
          and body["messages"] == [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}]
          and body["media"][0][1] == "pixel.gif" and body["media"][0][0].startswith("data:image/gif;base64,"),
          json.dumps(body)[:2000])
    check("headers: -H, the g4f-api-key from BACKEND_API_G4F_KEY, the api key in the body by default",
          headers.get("x-trace") == "t-1" and headers.get("g4f-api-key") == g4f_secret
          and headers.get("authorization") == f"Bearer {header_secret}" and body.get("api_key") == secret,
          json.dumps(e)[:2000])
    check("no secret on stderr", not any(s in o.err for s in (secret, g4f_secret, header_secret)), o.err)
    for where, in_body, bearer in (("bearer", False, True), ("both", True, True), ("body", True, False)):
        o = run("-u", url, "--key-in", where, "--field", "test_echo=true", "x", env={"BACKEND_API_KEY": secret})
        e = echo_of(o.out) if o.rc == 0 else {"body": {}, "headers": {}}
        check(f"--key-in {where}", o.rc == 0 and ("api_key" in e["body"]) == in_body
              and (e["headers"].get("authorization") == f"Bearer {secret}") == bearer, str(o))
    o = run("-u", url, "--field", "test_echo=true", "x", env={"BACKEND_API_KEY": secret, "BACKEND_API_KEY_IN": "bearer"})
    check("BACKEND_API_KEY_IN", o.rc == 0 and "api_key" not in echo_of(o.out)["body"], str(o))
    env = {"BACKEND_API_KEY": secret, "BACKEND_API_G4F_KEY": g4f_secret, "BACKEND_API_LOG": "trace"}
    for args, logs in ((["x"], ["[debug]", "[trace]"]), (["--field", "test_status=401", "x"], ["[debug]"]),
                       (["--list-models"], [])):
        o = run("-u", url, "-H", f"X-Custom-Token: {header_secret}", "-H", f"Cookie: c={header_secret}2", *args, env=env)
        check(f"BACKEND_API_LOG=trace logs, never a key or secret header value ({' '.join(args)})",
              all(s in o.err for s in logs) and not any(s in o.err for s in (secret, g4f_secret, header_secret)),
              o.err[-3000:])
    o = run("-u", url, "-H", f"Authorization Bearer {header_secret}", "x")
    expect("a --header without a colon: a usage error that does not show the value", o, 2,
           err=["--header takes 'NAME: VALUE'"], not_err=[header_secret])


def test_output(url: str) -> None:
    o = run("-u", url, "--raw", "--field", "test_chunks=2", "--field", 'test_framing="ndjson"', "x")
    lines = o.out.splitlines()
    check("--raw: one JSON chunk a line", o.rc == 0 and [json.loads(line)["type"] for line in lines]
          == ["provider", "content", "content", "usage", "finish"], str(o))
    o = run("-u", url, "--json", "x")
    try:
        a = json.loads(o.out)
    except ValueError:
        a = {}
    check("--json: the assembled answer, status END", o.rc == 0 and a.get("type") == "answer"
          and a.get("content") == "Hello from the bundled offline backend! You said: x"
          and a.get("finish_reason") == "stop" and a.get("usage", {}).get("total_tokens") == 12
          and a.get("provider") == "TestBackend" and a.get("status") == "END" and a.get("failure") is None
          and a.get("http_status") is None and a.get("error") is None, str(o))
    o = run("-u", url, "--json", "--field", "test_status=500", "x")
    a = json.loads(o.out or "{}")
    check("--json after an HTTP error: status HTTP, http_status, failure", o.rc == 1 and a.get("status") == "HTTP"
          and a.get("http_status") == 500 and "test status 500" in (a.get("failure") or ""), str(o))
    o = run("-u", url, "--json", "--field", 'test_fault="error_chunk"', "x")
    a = json.loads(o.out or "{}")
    check("--json after an in-stream error: error, exit 3", o.rc == 3 and a.get("error") == "ValueError: test failure"
          and a.get("status") == "END", str(o))
    expect("--raw with --json: a usage error", run("-u", url, "--raw", "--json", "x"), 2, err=["do not go together"])


def test_failures(url: str, tls_url: str) -> None:
    expect("a refused connection names the address", run("-u", "http://127.0.0.1:1", "x"), 1,
           err=["the request failed: cannot connect to 127.0.0.1:1: ", "g4f api` listens on port 1337"])
    o = run("-u", "http://127.0.0.1:1", "x")
    first = o.err.splitlines()[0] if o.err else ""
    check("... in one line, the cause once, no status tag", o.rc == 1 and first.count("connect") == 1
          and "(CONNECT)" not in o.err, str(o))
    expect("... the status tag with -v", run("-v", "-u", "http://127.0.0.1:1", "x"), 1, err=["(CONNECT)"])
    expect("... and never shows a password in the URL", run("-u", "http://user:pw-marker@127.0.0.1:1", "x"), 1,
           err=["cannot connect to 127.0.0.1:1"], not_err=["pw-marker"])
    expect("... through a proxy", run("-u", url, "--proxy", "http://127.0.0.1:1", "x"), 1,
           err=["through the proxy", "--proxy none goes direct"])
    expect("... with a proxy from the environment", run("-u", "http://127.0.0.1:1", "x",
                                                        env={"HTTP_PROXY": "http://127.0.0.1:1"}), 1,
           err=["HTTP_PROXY is set", "--proxy none"])
    expect("--proxy none goes direct", run("-u", url, "--proxy", "none", "x", env={"HTTP_PROXY": "http://127.0.0.1:1"}),
           0, out=["You said: x"])
    expect("a bad --proxy", run("-u", url, "--proxy", "ftp://x", "x"), 2, err=["--proxy: "])
    expect("a bad BACKEND_API_PROXY names the variable", run("-u", url, "x", env={"BACKEND_API_PROXY": "ftp://x"}), 2,
           err=["$BACKEND_API_PROXY: "])
    o = run("-u", url + "/v1", "x")
    expect("HTTP 404 on the conversation path: the hint", o, 1,
           err=["HTTP 404", "nothing answers " + url + "/v1/backend-api/v2/conversation", "without /v1",
                "--no-gui"])
    expect("HTTP 404 for an unknown provider: a different hint", run("-u", url, "-p", "Nope", "x"), 1,
           err=["Provider not found", 'no provider "Nope"', "--list-models"], not_err=["--no-gui"])
    expect("HTTP 401: the g4f-api-key hint", run("-u", url, "--field", "test_status=401", "x"), 1,
           err=["HTTP 401", "BACKEND_API_G4F_KEY"])
    expect("HTTP 500", run("-u", url, "--field", "test_status=500", "x"), 1, err=["test status 500"],
           not_err=["(HTTP)"])
    expect("HTTP 500 with -v: the status tag", run("-v", "-u", url, "--field", "test_status=500", "x"), 1,
           err=["(HTTP)"])
    o = run("-u", url, "--retries", "2", "--field", "test_fail_times=1", "--field", 'test_fail_key="cli-retry-noted"', "x")
    expect("a retry is noted", o, 0, out=["You said: x"], err=["[retries: 1"])
    expect("a redirect is not followed", run("-u", url, "--field", "test_status=307", "--field",
                                             'test_location="http://elsewhere.invalid/"', "x"), 1,
           err=["redirects are not followed"])
    expect("an in-stream error chunk: exit 3", run("-u", url, "--field", 'test_fault="error_chunk"', "x"), 3,
           err=["the server sent an error: ValueError: test failure"])
    expect("--idle-timeout", run("-v", "-u", url, "--idle-timeout", "300ms", "--field", 'test_fault="stall"', "x"), 1,
           err=["the answer broke off", "(TIMED_OUT)"])
    expect("--headers-timeout", run("-v", "-u", url, "--headers-timeout", "0.3", "--field", 'test_fault="no_answer"', "x"),
           1, err=["(TIMED_OUT)"])
    expect("--total-timeout", run("-v", "-u", url, "--total-timeout", "0.5s", "--field", 'test_fault="endless"', "-q", "x"),
           1, err=["(TIMED_OUT)"])
    expect("--connect-timeout is taken", run("-u", url, "--connect-timeout", "5s", "x"), 0, out=["You said: x"])
    expect("--max-line", run("-v", "-u", url, "--max-line", "1k", "--field", 'test_fault="oversized"', "-q", "x"), 1,
           err=["(LIMIT)"])
    fail_once = ["--field", 'test_fail_key="cli-retry"', "--field", "test_fail_times=1", "x"]
    expect("--retries: a 503 then the answer", run("-u", url, "--retries", "2", *fail_once), 0, out=["You said: x"])
    fail_once[1] = 'test_fail_key="cli-retry-env"'
    expect("BACKEND_API_RETRIES", run("-u", url, *fail_once, env={"BACKEND_API_RETRIES": "1"}), 0,
           out=["You said: x"])
    fail_once[1] = 'test_fail_key="cli-no-retry"'
    expect("without --retries the 503 fails", run("-u", url, *fail_once), 1, err=["HTTP 503"])
    expect("TLS: an unknown CA is refused, with the hint", run("-u", tls_url, "x"), 1, err=["certificate", "--cacert"])
    expect("TLS: --cacert", run("-u", tls_url, "--cacert", str(ROOT / "tests/tls/ca.pem"), "x"), 0,
           out=["secure hello"])
    expect("TLS: BACKEND_API_CACERT", run("-u", tls_url, "x", env={"BACKEND_API_CACERT": str(ROOT / "tests/tls/ca.pem")}),
           0, out=["secure hello"])
    expect("TLS: --insecure", run("-u", tls_url, "-k", "x"), 0, out=["secure hello"])


def test_usage_errors(url: str) -> None:
    cases = [
        (["--nope"], "unknown option --nope"),
        (["--model"], "--model needs a value"),
        (["--idle-timeout", "soon", "x"], "--idle-timeout takes seconds"),
        (["--total-timeout", "-1", "x"], "--total-timeout takes seconds"),
        (["--max-line", "0", "x"], "--max-line takes a size"),
        (["--retries", "1.5", "x"], "--retries takes a whole number"),
        (["--key-in", "header", "x"], "--key-in takes body, bearer or both"),
        (["--field", "x={", "y"], "--field x: "),
        (["--field", "novalue", "y"], "--field takes KEY=JSON"),
        (["--media", "/no/such/file.png", "y"], "attachment /no/such/file.png: "),
        (["--cacert", "/no/such.pem", "y"], "--cacert: "),
        (["-H", "Bad Name: v", "y"], "--header Bad Name: "),
    ]
    for args, message in cases:
        expect(f"usage error: {' '.join(args)}", run("-u", url, *args), 2, err=[message])
    expect("a bad URL", run("-u", "ftp://x", "y"), 2, err=["--url: "])
    expect("a bad BACKEND_API_RETRIES names the variable", run("-u", url, "y", env={"BACKEND_API_RETRIES": "many"}),
           2, err=["$BACKEND_API_RETRIES takes"])
    expect("a bad BACKEND_API_LOG", run("-u", url, "y", env={"BACKEND_API_LOG": "loud"}), 2,
           err=["BACKEND_API_LOG takes error, warn, info, debug or trace"])


def test_models(url: str) -> None:
    o = run("-u", url, "--list-models", "--json")
    check("--list-models --json", o.rc == 0 and json.loads(o.out) == {"TestBackend": ["test-model", "test-vision"]},
          str(o))
    o = run("-u", url, "--list-models", "-p", "TestBackend", "--json")
    check("--list-models -p --json", o.rc == 0 and json.loads(o.out)[0]["model"] == "test-model", str(o))
    o = run("-u", url, "--list-models")
    check("--list-models in a pipe: provider<TAB>model, one a line",
          o.rc == 0 and o.out == "TestBackend\ttest-model\nTestBackend\ttest-vision\n", str(o))
    o = run("-u", url, "--list-models", "-p", "TestBackend")
    check("--list-models -p in a pipe: the same lines", o.rc == 0 and o.out == "TestBackend\ttest-model\n", str(o))
    canned, curl = start_canned()
    expect("--list-models -p Nope, listed empty (as g4f does): an error naming it, exit 1",
           run("-u", curl, "--list-models", "-p", "Nope"), 1, err=['no model of the provider "Nope"'])
    canned.shutdown()
    canned.server_close()
    expect("--list-models at a wrong path: the hint", run("-u", url + "/v1", "--list-models"), 1,
           err=["listing the models: HTTP 404", "/v1/backend-api/v2/models:"])


def test_protocol(url: str) -> None:
    v1 = url + "/v1"
    o = run("--protocol", "openai", "-u", v1, "hello", "there")
    expect("--protocol openai: the answer from /v1/chat/completions", o, 0,
           out=["Hello from the bundled offline backend! You said: hello there\n"],
           err=["[provider: TestBackend, model test-model]", "[finish: stop]"])
    o = run("--protocol=openai", "-u", v1, "--raw", "x")
    events = [json.loads(line).get("event", {}).get("object") for line in o.out.splitlines()]
    check("--protocol openai --raw: every chunk keeps its chat.completion.chunk event",
          o.rc == 0 and events and set(events) == {"chat.completion.chunk"}, str(o))
    expect("BACKEND_API_PROTOCOL", run("-u", v1, "y", env={"BACKEND_API_PROTOCOL": "openai"}), 0, out=["You said: y"])
    expect("--protocol backend wins over BACKEND_API_PROTOCOL",
           run("--protocol", "backend", "-u", url, "z", env={"BACKEND_API_PROTOCOL": "openai"}), 0, out=["You said: z"])
    expect("--protocol openai without /v1: the OpenAI hint", run("--protocol", "openai", "-u", url, "x"), 1,
           err=["HTTP 404", "nothing answers " + url + "/chat/completions", "with its /v1"], not_err=["--no-gui"])
    o = run("--protocol", "openai", "-u", v1, "--list-models", "--json")
    check("--protocol openai --list-models: /v1/models", o.rc == 0 and json.loads(o.out or "{}").get("data", [{}])[0]
          .get("id") == "test-model", str(o))
    o = run("--protocol", "openai", "-u", v1, "--list-models")
    check("... in a pipe: one model a line", o.rc == 0 and o.out == "test-model\n", str(o))
    expect("--protocol openai --list-models -p: a usage error", run("--protocol", "openai", "-u", v1, "--list-models",
                                                                    "-p", "TestBackend"), 2,
           err=["--list-models of one provider (--provider) needs --protocol backend"])
    expect("a bad --protocol", run("--protocol", "grpc", "-u", url, "x"), 2,
           err=["--protocol takes backend or openai, not \"grpc\""])
    expect("a bad BACKEND_API_PROTOCOL names the variable", run("-u", url, "x", env={"BACKEND_API_PROTOCOL": "v1"}), 2,
           err=["$BACKEND_API_PROTOCOL takes backend or openai"])


def test_signals(url: str) -> None:
    for sig, rc, word in ((signal.SIGINT, 130, "cancelled"), (signal.SIGTERM, 143, "terminated"),
                          (signal.SIGHUP, 143, "terminated")):
        p = subprocess.Popen([str(CLIENT), "-u", url, "--field", 'test_fault="stall"', "x"], env=BASE_ENV,
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        first = p.stdout.read(5)  # the answer has begun
        p.send_signal(sig)
        out, err = p.communicate(timeout=HANG)
        expect(f"{sig.name} cancels the answer in flight: exit {rc}", Out(p.returncode, first + out, err), rc,
               out=["Hello"], err=[word])


def signals_caught(pid: int, sig: int) -> bool:
    """Waits until the process catches sig (its handler is installed), per /proc."""
    end = time.monotonic() + HANG
    while time.monotonic() < end:
        status = Path(f"/proc/{pid}/status").read_text()
        if int(re.search(r"^SigCgt:\s*([0-9a-f]+)", status, re.M).group(1), 16) >> (sig - 1) & 1:
            return True
        time.sleep(0.01)
    return False


def test_listing_cancelled(url: str) -> None:
    for sig, rc, word in ((signal.SIGINT, 130, "cancelled"), (signal.SIGTERM, 143, "terminated")):
        p = subprocess.Popen([str(CLIENT), "-u", url, "--list-models", "-p", "Stalling"], env=BASE_ENV,
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        caught = signals_caught(p.pid, sig)
        p.send_signal(sig)
        out, err = p.communicate(timeout=HANG)
        expect(f"{sig.name} during a stalled model listing: exit {rc}", Out(p.returncode, out, err), rc,
               err=[word]) and check("... after the handler was installed", caught)


def test_terminal(url: str) -> None:
    t = Terminal(["-u", url, "hello"])
    ok = session("on a terminal: the answer", t, [("expect", "You said: hello")], 0)
    text = t.text()
    spin, erase, answer = text.find("waiting for the answer"), text.find("\r\033[K"), text.find("Hello from")
    check("the spinner turns on stderr, and goes before the text starts", ok and 0 <= spin < erase < answer,
          repr(text[:600]))
    t = Terminal(["-u", url, "--field", 'test_fault="no_answer"', "x"])
    session("Ctrl-C while the spinner turns: cancelled, exit 130", t, [
        ("expect", "waiting for the answer"), ("send", "\x03"), ("expect", "\r\033[K"), ("expect", "cancelled")], 130)
    t = Terminal(["-u", url, "-q", "--field", 'test_fault="stall"', "x"])
    session("-q: no spinner", t, [("expect", "Hello"), ("send", "\x03"), ("expect", "cancelled")], 130)
    check("... none drawn", "waiting" not in t.text(), repr(t.text()))


def conversation_steps(editing: bool) -> list:
    typed = [("send", "helo"), ("send", "\x1b[D"), ("send", "l")] if editing else [("send", "helo\x7flo")]
    return [
        ("expect", "a conversation with"), ("expect", "> "),
        *typed, ("send", "\r"), ("expect", "You said: hello"), ("expect", "\n> "),
        ("send", "second\r"), ("expect", "You said: second"), ("expect", "\n> "),
        ("send", "partial"), ("send", "\x03"), ("expect", "\n> "),
        ("send", "third\r"), ("expect", "You said: third"), ("expect", "\n> "),
    ]


def test_conversation(url: str) -> None:
    has_libedit = "(line editing: libedit)" in run("--version", env={"TERM": "xterm"}).out
    if not has_libedit:
        skip("the conversation with libedit", "no libedit on this system (apt-get install libedit2)")
    for editing, term in ((True, "xterm"), (False, "dumb"))[0 if has_libedit else 1:]:
        mode = "libedit" if editing else "the terminal's line mode"
        t = Terminal(["-u", url, "--field", "test_echo=true"], env={"TERM": term})
        steps = conversation_steps(editing)
        if editing:
            steps += [("send", "\x1b[A\x1b[A\r"), ("expect", "You said: second"), ("expect", "\n> ")]
        steps += [("send", "/help\r"), ("expect", "/reset"), ("expect", "\n> "),
                  ("send", "/nope\r"), ("expect", "unknown command /nope"), ("expect", "\n> "),
                  ("send", "/reset\r"), ("expect", "(a new conversation)"), ("expect", "\n> "),
                  ("send", "after reset\r"), ("expect", "You said: after reset"), ("expect", "\n> "),
                  ("send", "//slash\r"), ("expect", "You said: /slash"), ("expect", "\n> "),
                  ("send", "\x04" if editing else "/exit\r")]
        leave = "Ctrl-D" if editing else "/exit"
        if not session(f"a conversation ({mode}): edit, answer, Ctrl-C clears a line, /help, /reset, {leave}",
                       t, steps, 0):
            continue
        said = [users_said(e) for e in echoes_in(t.text())]
        turns = [["hello"], ["hello", "second"], ["hello", "second", "third"]]
        if editing:
            turns.append(["hello", "second", "third", "second"])
        turns += [["after reset"], ["after reset", "/slash"]]
        roles = [m["role"] for m in echoes_in(t.text())[2]["body"]["messages"]] if len(said) > 2 else []
        check(f"... each turn sends the conversation so far; the cancelled line and /reset leave it ({mode})",
              said == turns and roles == ["user", "assistant", "user", "assistant", "user"], json.dumps(said))
    t = Terminal(["-u", url, "--field", "test_echo=true", "--field", 'test_fault="stall"'])
    session("Ctrl-C cancels the answer in flight, not the conversation", t, [
        ("expect", "> "), ("send", "first\r"), ("expect", "You said: first"), ("send", "\x03"),
        ("expect", "cancelled"), ("expect", "not kept in the conversation"), ("expect", "\n> "),
        ("send", "next\r"), ("expect", "You said: next"), ("send", "\x03"), ("expect", "\n> "),
        ("send", "/quit\r")], 0)
    asked = [users_said(e) for e in echoes_in(t.text())]
    check("... the cancelled question is not kept", asked == [["first"], ["next"]], json.dumps(asked))
    t = Terminal(["-u", url])
    ok = t.expect("> ")
    os.kill(t.pid, signal.SIGTERM)
    check("SIGTERM at the prompt: exit 143", ok and t.wait() == 143, repr(t.text()))
    t.close()
    t = Terminal(["-u", url, "--field", 'test_fault="stall"'], binary=CLIENT)
    session("a conversation under the sanitizers (Ctrl-C, Ctrl-D)", t, [
        ("expect", "> "), ("send", "q\r"), ("expect", "You said: q"), ("send", "\x03"), ("expect", "\n> "),
        ("send", "\x04")], 0)


def test_valgrind(url: str) -> None:
    if not shutil_which("valgrind"):
        return skip("Valgrind", "valgrind is not installed (apt-get install valgrind)")
    vg = ["valgrind", "-q", "--error-exitcode=9", "--leak-check=full", "--errors-for-leak-kinds=definite",
          "--show-possibly-lost=no"]
    runs = [(["-u", url, "hello"], 0), (["-u", url, "--json", "--field", 'test_fault="error_chunk"', "x"], 3),
            (["-u", url, "--raw", "-"], 0), (["-u", url + "/v1", "x"], 1), (["-u", url, "--list-models"], 0),
            (["-u", url, "--field", "x={", "y"], 2)]
    for args, rc in runs:
        o = run(*args, binary=PLAIN, prefix=vg, stdin=b"piped")
        expect(f"valgrind: {' '.join(args[2:])}", o, rc, not_err=["definitely lost", "Invalid read", "Invalid write"])


def shutil_which(name: str) -> str | None:
    return next((str(Path(d) / name) for d in os.environ.get("PATH", "").split(":") if (Path(d) / name).is_file()),
                None)


def help_facts(text: str, exit_section: str) -> dict:
    """What --help and the man page must agree on; exit_section: the exit statuses' part."""
    heads = re.findall(r"^ {1,8}((?:-[a-zA-Z], )?--[a-z-]*)(?: ([A-Z][A-Z=]*|'[A-Z]+: [A-Z]+')(?![\w']))?",
                       text, re.M)
    return {
        "options": {o for head, _ in heads for o in head.split(", ")},
        "option values": {(head.split(", ")[-1], (arg or "").strip()) for head, arg in heads},
        "variables": set(re.findall(r"\b((?:BACKEND_API|ALL|HTTPS?|NO)_[A-Z_0-9]*[A-Z0-9])\b", text)),
        "defaults": set(re.findall(r"default:? ([0-9][0-9a-zA-Z]*|none)", text)),
        "exit statuses": set(re.findall(r"^\s*(\d{1,3})\s+\S", exit_section, re.M)),
    }


# Clears the line being typed (Ctrl-U): keystrokes are read in order, so no wait is needed.
BASH_NEW_LINE = [("send", "\x15")]


def test_documentation() -> None:
    help_text = run("--help").out
    man = subprocess.run(["groff", "-man", "-Tutf8", "-rLL=300n", "-rHY=0", "-P", "-cbou",
                          str(ROOT / "cli/backend-api.1")], capture_output=True, text=True)
    if man.returncode != 0:
        return skip("the man page", "groff cannot render it: " + man.stderr[:200])
    man_text = man.stdout.replace("\u2010", "-").replace("\u2212", "-")
    h = help_facts(help_text, help_text.split("exit status:")[1])
    m = help_facts(man_text, man_text.split("EXIT STATUS")[1].split("EXAMPLES")[0])
    for key in h:
        check(f"--help and the man page name the same {key}", h[key] == m[key],
              f"only in --help: {sorted(h[key] - m[key])}; only in the man page: {sorted(m[key] - h[key])}")
    version = run("--version").out.split()[1]
    check("the man page's version is the program's", f"backend-api {version}" in man_text, man_text[-300:])
    options = h["options"]
    bash = subprocess.run(["bash", "--norc", "-c", f'. "{ROOT}/cli/completions/backend-api.bash"; '
                           'COMP_WORDS=(backend-api -); COMP_CWORD=1; _backend_api; echo "${COMPREPLY[*]}"'],
                          capture_output=True, text=True)
    check("bash completion: every option of --help", set(bash.stdout.split()) == options - {"--"},
          f"{bash.stdout}{bash.stderr}\nwanted {sorted(options)}")
    rc_dir = WORK / "dot"
    rc_dir.mkdir(exist_ok=True)
    (rc_dir / ".bashrc").write_text(f". {ROOT}/cli/completions/backend-api.bash\nPS1='bash> '\n")
    t = Terminal(["--rcfile", str(rc_dir / ".bashrc"), "-i"], env={"TERM": "xterm"}, binary=Path("/bin/bash"))
    session("bash completion at work: option names, --key-in values (also after =), --proxy, --protocol, file names", t, [
        ("expect", "bash> "), ("send", "backend-api --ke\t"), ("expect", "--key-in "),
        ("send", "b\t\t"), ("expect", "bearer"), *BASH_NEW_LINE,
        ("send", "backend-api --key-in=be\t"), ("expect", "arer "), *BASH_NEW_LINE,
        ("send", "backend-api --proxy n\t"), ("expect", "one "), *BASH_NEW_LINE,
        ("send", "backend-api --protocol o\t"), ("expect", "penai "), *BASH_NEW_LINE,
        ("send", f"backend-api --media {ROOT}/cli/completions/backend-api.b\t"), ("expect", "ash "),
        *BASH_NEW_LINE, ("send", "exit 0\r")], 0)
    zsh_file = (ROOT / "cli/completions/_backend-api").read_text()
    zsh_options = set(re.findall(r"(?<![\w-])(--[a-z][a-z-]+|-[a-zA-Z])(?=[+=\[,}'])", zsh_file))
    check("zsh completion: every option of --help", zsh_options == options - {"--"},
          f"only in --help: {sorted(options - {'--'} - zsh_options)}; only in zsh: {sorted(zsh_options - options)}")
    if not shutil_which("zsh"):
        return skip("zsh completion at work", "zsh is not installed (apt-get install zsh)")
    (rc_dir / ".zshrc").write_text(f"fpath=({ROOT}/cli/completions $fpath)\nautoload -U compinit\ncompinit -u -D\n"
                                   "PS1='zsh> '\n")
    t = Terminal(["-i"], env={"ZDOTDIR": str(rc_dir), "TERM": "xterm"}, binary=Path(shutil_which("zsh")))
    session("zsh completion at work: --key-in values, option names", t, [
        ("expect", "zsh> "), ("send", "backend-api --key-in \t"), ("expect", "--key-in b"), ("send", "\t"),
        ("expect", "bearer"), ("send", "\x15backend-api --list-mo\t"), ("expect", "--list-models "),
        ("send", "\x15exit 0\r")], 0)


def test_real_g4f(servers: dict) -> None:
    if servers.get("key") is None:
        return skip("the real g4f api server", "no g4f venv at " + str(CACHE / "venv-g4f-8.8.6")
                    + " (run scripts/g4f-venvs.sh)")
    key_url, open_url, nogui_url = servers["key"], servers["open"], servers["no-gui"]
    args = ["-p", "InteropTest", "-m", "interop-model"]
    o = run("-u", open_url, *args, "hi")
    expect("g4f api: an answer, reasoning on stderr", o, 0, out=["part0 part1 part2"],
           err=["[reasoning] thinking...", "[provider: Interop Test, model interop-model]", "[finish: stop]"])
    t = Terminal(["-u", open_url, *args, "hi"])
    session("g4f api on a terminal: reasoning dimmed", t, [("expect", "\033[2m[reasoning] thinking..."), ("expect", "part2")], 0)
    o = run("-u", open_url, "--list-models", "--json")
    check("g4f api: --list-models", o.rc == 0 and json.loads(o.out) == {"InteropTest": ["interop-model",
                                                                                     "interop-vision"]}, str(o))
    expect("g4f api: an in-stream error", run("-u", open_url, *args, "--field", "interop_fail_after=1", "x"), 3,
           out=["part0"], err=["ValueError: interop failure"])
    marker = "sk-g4f-server-key"
    expect("g4f api --g4f-api-key, no key: 401, its message, the hint", run("-u", key_url, *args, "x"), 1,
           err=["HTTP 401", "Not authenticated", "BACKEND_API_G4F_KEY"])
    expect("g4f api --g4f-api-key, a wrong key: refused", run("-u", key_url, *args, "x",
                                                              env={"BACKEND_API_G4F_KEY": "wrong"}), 1,
           err=["HTTP 401", "refused the key in BACKEND_API_G4F_KEY"])
    env = {"BACKEND_API_G4F_KEY": marker, "BACKEND_API_LOG": "debug"}
    expect("g4f api --g4f-api-key, BACKEND_API_G4F_KEY: the answer, the key never shown",
           run("-u", key_url, *args, "x", env=env), 0, out=["part0 part1 part2"], err=["[debug]"], not_err=[marker])
    expect("g4f api --g4f-api-key, -H 'g4f-api-key: K'", run("-u", key_url, *args, "-H", f"g4f-api-key: {marker}", "x"),
           0, out=["part2"], not_err=[marker])
    expect("g4f api --g4f-api-key, the key as Bearer", run("-u", key_url, *args, "--key-in", "bearer", "x",
                                                           env={"BACKEND_API_KEY": marker}), 0, out=["part2"])
    expect("g4f api --g4f-api-key: --list-models with the key", run("-u", key_url, "--list-models",
                                                                    env={"BACKEND_API_G4F_KEY": marker}), 0,
           out=["InteropTest"])
    expect("g4f api --no-gui: 404 and the --no-gui hint", run("-u", nogui_url, *args, "x"), 1,
           err=["HTTP 404", "--no-gui"])
    for name, base in (("g4f api", open_url), ("g4f api --no-gui", nogui_url)):
        expect(f"{name} --protocol openai at /v1: the answer", run("--protocol", "openai", "-u", base + "/v1", *args, "hi"),
               0, out=["part0 part1 part2"], err=["[finish: stop]"])


# ---------------------------------------------------------------- set-up, saved conversations, output, a hostile and a canned server

def sse(*chunks: dict) -> bytes:
    return b"".join(b"data: " + json.dumps(c).encode() + b"\n\n" for c in chunks)


ESC_CONTENT = "\x1b]0;TITLE\x07\x1b[2J\rFAKE\u009b31m done\tok\n"
RETRY_ERROR = ("RetryProviderError: RetryProvider failed:\nOpenaiChat: MissingAuthError: Add a .har file\n"
               "Copilot: RateLimitError: Too many requests\nPollinationsAI: ResponseStatusError: 502 Bad Gateway")
MARKDOWN = ("# Title here\nSome **bold** and *italic* and `code` and a [link](https://example.com/x).\n"
            "## Sub\n- item one\n- item **two**\n> quoted *text*\n```python\ndef f(x): return x * 2  # **not bold**\n"
            "```\nsnake_case_name stays.\nlast line \x1b]0;T\x07 with no newline")
ESC_ERROR = "\x1b]52;c;aGk=\x07\x1b[2K\rFAKE: all good"
CANNED = {
    # what the server sends for a user message: (status, content type, body)
    "hostile": (200, "text/event-stream", sse({"type": "content", "content": ESC_CONTENT},
                                              {"type": "finish", "finish": {"reason": "stop"}})),
    # streamed in pieces that cut lines and markers in two
    "markdown": (200, "text/event-stream", sse(*({"type": "content", "content": MARKDOWN[k:k + 7]}
                                                 for k in range(0, len(MARKDOWN), 7)))),
    "retry-error": (200, "text/event-stream", sse({"type": "error", "error": "RetryProviderError", "message": RETRY_ERROR})),
    "retry-http": (500, "application/json", json.dumps({"error": {"message": RETRY_ERROR}}).encode()),
    "hostile-error": (500, "application/json", json.dumps({"error": {"message": ESC_ERROR}}).encode()),
    "nested": (200, "text/event-stream", sse(
        {"type": "provider", "provider": {"meta": {"name": "Decoy", "label": "Decoy"}, "name": "Real", "model": "m"}},
        {"type": "content", "content": "fine"},
        {"type": "usage", "usage": {"details": {"prompt_tokens": 99}, "prompt_tokens": 3, "completion_tokens": 4}},
        {"type": "finish", "finish": {"details": {"reason": "decoy"}, "reason": "stop"}})),
}


class Canned(http.server.BaseHTTPRequestHandler):
    """Answers POST .../conversation by the last user message: CANNED, "stall" (a
    part, then the socket held open), else an answer quoting the message."""
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        """A model listing, empty for every provider (as g4f lists one it does not know)."""
        data = b"[]" if self.path.startswith("/backend-api/v2/models/") else b"{}"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"{}")
        said = [m["content"] for m in body.get("messages", []) if m["role"] == "user"][-1:] or [""]
        status, ctype, data = CANNED.get(said[0], (200, "text/event-stream", sse(
            {"type": "content", "content": f"canned answer to: {said[0]}"})))
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Connection", "close")
        if said[0] != "stall":
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data if said[0] != "stall" else sse({"type": "content", "content": "partial "}))
        self.wfile.flush()
        if said[0] == "stall":
            time.sleep(HANG)


def start_canned(port: int = 0) -> tuple[http.server.ThreadingHTTPServer, str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Canned)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def private_env(name: str) -> dict:
    """A configuration and state folder of a test's own."""
    home = WORK / name
    (home / "cfg").mkdir(parents=True, exist_ok=True)
    return {"XDG_CONFIG_HOME": str(home / "cfg"), "XDG_STATE_HOME": str(home / "state"), "HOME": str(home)}


def saved_files(env: dict) -> list[Path]:
    folder = Path(env["XDG_STATE_HOME"]) / "backend-api/conversations"
    return sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime) if folder.exists() else []


def test_setup(url: str) -> None:
    """Set up once: the default server, the configuration file, OPENAI_*."""
    env = private_env("setup")
    if port_free(1337):
        expect("no --url and nothing on 1337: how to start `g4f api` or configure another", run("hi", env=env), 1,
               err=["cannot connect to 127.0.0.1:1337", "g4f api", "--url URL", "~/.config/backend-api/config"])
        server, _ = start_canned(1337)
        try:
            expect("no --url, no configuration: http://127.0.0.1:1337", run("hi", env=env), 0,
                   out=["canned answer to: hi"])
        finally:
            server.shutdown()
            server.server_close()
    else:
        skip("the default server http://127.0.0.1:1337", "port 1337 is busy on this machine")
    cfg = Path(env["XDG_CONFIG_HOME"]) / "backend-api/config"
    cfg.parent.mkdir(parents=True, exist_ok=True)
    cfg.write_text(f"# a comment\nurl = {url}\nmodel \"file-model\"\n--header = X-From-File: yes\n"
                   "field = test_echo=true\n")
    cfg.chmod(0o600)
    o = run("x", env=env)
    e = echo_of(o.out) if "ECHO:" in o.out else {"body": {}, "headers": {}}
    check("the configuration file ($XDG_CONFIG_HOME/backend-api/config): url, model, header, field",
          o.rc == 0 and e["body"].get("model") == "file-model" and e["headers"].get("x-from-file") == "yes", str(o))
    o = run("x", env=dict(env, BACKEND_API_MODEL="env-model"))
    check("the environment wins over the file", o.rc == 0 and echo_of(o.out)["body"]["model"] == "env-model", str(o))
    o = run("-m", "cli-model", "x", env=dict(env, BACKEND_API_MODEL="env-model"))
    check("the command line wins over the environment", o.rc == 0 and echo_of(o.out)["body"]["model"] == "cli-model",
          str(o))
    home_env = dict(env, XDG_CONFIG_HOME=None)
    (Path(env["HOME"]) / ".config/backend-api").mkdir(parents=True, exist_ok=True)
    (Path(env["HOME"]) / ".config/backend-api/config").write_text(f"url = {url}\nmodel = home-model\n"
                                                                   "field = test_echo=true\n")
    o = run("x", env=home_env)
    check("... else ~/.config/backend-api/config", o.rc == 0 and echo_of(o.out)["body"]["model"] == "home-model", str(o))
    other = WORK / "other.conf"
    other.write_text(f"url={url}\nmodel=other-model\nfield=test_echo=true\n")
    o = run("-K", str(other), "x", env=env)
    check("-K FILE reads another file", o.rc == 0 and echo_of(o.out)["body"]["model"] == "other-model", str(o))
    o = run("--config", str(other), "--no-config", "-u", url, "--field", "test_echo=true", "x", env=env)
    check("--no-config reads none", o.rc == 0 and echo_of(o.out)["body"].get("model") in ("", None), str(o))
    bad = WORK / "bad.conf"
    bad.write_text("url = http://127.0.0.1:1\n\nnonsense-option = 1\n")
    expect("a bad line names the file and its line: exit 2", run("-K", str(bad), "x", env=env), 2,
           err=[f"{bad}:3: unknown option \"nonsense-option\""])
    bad.write_text("retries = many\n")
    expect("a bad value names the file and its line", run("-K", str(bad), "-u", url, "x", env=env), 2,
           err=[f"{bad}:1: retries takes a whole number"])
    keyed = WORK / "keyed.conf"
    keyed.write_text(f"url = {url}\napi-key = sk-file-marker\nfield = test_echo=true\n")
    keyed.chmod(0o644)
    o = run("-K", str(keyed), "x", env=env)
    check("a key in a file others may read: a warning (the key used, never shown)",
          o.rc == 0 and "others may read it: chmod 600" in o.err and echo_of(o.out)["body"].get("api_key")
          == "sk-file-marker" and "sk-file-marker" not in o.err, str(o))
    keyed.chmod(0o600)
    expect("... none for a private file", run("-K", str(keyed), "x", env=env), 0, not_err=["others may read"])
    o = run("--protocol", "openai", "--no-config", "--field", "test_echo=true", "x",
            env=dict(env, OPENAI_BASE_URL=url + "/v1", OPENAI_API_KEY="sk-openai-marker"))
    check("--protocol openai honours OPENAI_BASE_URL and OPENAI_API_KEY (as a bearer token)",
          o.rc == 0 and "ECHO:" in o.out and echo_of(o.out)["headers"].get("authorization") == "Bearer sk-openai-marker"
          and "sk-openai-marker" not in o.err, str(o))


def test_saved(url: str) -> None:
    """Conversations that last: saved files, -c, --conversation, logs, --no-log."""
    env = private_env("saved")
    secret = "sk-never-saved"
    o = run("-u", url, "-H", f"X-Api-Token: {secret}-h", "first", "question",
            env=dict(env, BACKEND_API_KEY=secret))
    files = saved_files(env)
    text = files[0].read_text() if files else ""
    saved = json.loads(text) if text else {}
    check("each answer is saved: one JSON file per conversation, 0600 in a 0700 folder, never a key or header",
          o.rc == 0 and len(files) == 1 and files[0].stat().st_mode & 0o777 == 0o600
          and files[0].parent.stat().st_mode & 0o777 == 0o700 and [m["role"] for m in saved.get("messages", [])]
          == ["user", "assistant"] and saved["messages"][0]["content"] == "first question"
          and saved.get("protocol") == "backend" and saved.get("created") and secret not in text, text[:2000])
    o = run("-u", url, "--field", "test_echo=true", "-c", "second", env=env)
    said = users_said(echo_of(o.out)) if "ECHO:" in o.out else []
    check("-c goes on with the latest conversation (one-shot)", o.rc == 0 and said == ["first question", "second"],
          str(o))
    first_id = files[0].stem if files else "none"
    run("-u", url, "another conversation", env=env)
    o = run("-u", url, "--field", "test_echo=true", "--conversation", first_id, "third", env=env)
    said = users_said(echo_of(o.out)) if "ECHO:" in o.out else []
    check("--conversation ID goes on with that one", o.rc == 0 and said == ["first question", "second", "third"],
          str(o))
    expect("--conversation with an unknown ID: exit 2", run("-u", url, "--conversation", "nope", "x", env=env), 2,
           err=['no conversation "nope"'])
    expect("--conversation ../x is refused", run("-u", url, "--conversation", "../x", "x", env=env), 2,
           err=['no conversation "../x"'])
    o = run("logs", env=env)
    lines = o.out.splitlines()
    check("logs lists the recent conversations, the latest first",
          o.rc == 0 and len(lines) == 2 and lines[0].startswith(first_id) and "3 turns  first question" in lines[0]
          and "another conversation" in lines[1], str(o))
    o = run("logs", "-n", "1", "--json", env=env)
    listed = json.loads(o.out or "[]")
    check("logs -n 1 --json", o.rc == 0 and len(listed) == 1 and listed[0]["id"] == first_id, str(o))
    o = run("logs", first_id, env=env)
    expect("logs ID prints one", o, 0, out=[f"conversation {first_id}", "user: first question", "user: third",
                                           "assistant: ECHO:"])
    count = len(saved_files(env))
    run("-u", url, "--no-log", "unsaved", env=env)
    cfg = WORK / "nolog.conf"
    cfg.write_text("no-log\n")
    run("-u", url, "-K", str(cfg), "unsaved too", env=env)
    unsaved = len(saved_files(env))
    run("-u", url, "saved again", env=env)
    check("--no-log and the no-log configuration key save nothing (a run without them does)",
          unsaved == count and len(saved_files(env)) == count + 1, str(saved_files(env)))
    # Two instances on one conversation at once: every save is whole.
    procs = [subprocess.Popen(["sh", "-c", f'for i in 1 2 3 4 5 6; do "{CLIENT}" -u {url} -q --conversation {first_id} '
                               f'"turn $i of {n}" > /dev/null || exit 1; done'], env=dict(BASE_ENV, **env))
             for n in ("a", "b")]
    rcs = [p.wait(timeout=HANG * 4) for p in procs]
    folder = Path(env["XDG_STATE_HOME"]) / "backend-api/conversations"
    try:
        whole = json.loads((folder / f"{first_id}.json").read_text())
    except ValueError:
        whole = None
    check("two instances on one conversation at once: the file is whole JSON, no temporary file left",
          rcs == [0, 0] and whole is not None and not list(folder.glob("*.tmp")), f"{rcs} {whole}")


def test_saved_on_a_terminal(url: str) -> None:
    """A turn is on disk before the next prompt; a kill mid-answer loses only that answer."""
    env = private_env("saved-pty")
    canned, curl = start_canned()
    t = Terminal(["-u", curl], env=env)
    ok = t.expect("> ") and (t.send("first\r") or True) and t.expect("canned answer to: first") and t.expect("> ")
    files = saved_files(env)
    on_disk = json.loads(files[0].read_text()) if files else {}
    check("a turn is on disk before the next prompt appears",
          ok and [m["content"] for m in on_disk.get("messages", [])] == ["first", "canned answer to: first"],
          repr(t.text()[-600:]))
    t.send("stall\r")
    t.expect("partial")
    os.kill(t.pid, signal.SIGKILL)
    t.wait()
    t.close()
    after = json.loads(files[0].read_text()) if files else {}
    check("killed mid-answer: the conversation so far is intact, only the answer in flight is lost",
          after.get("messages") == on_disk.get("messages"), json.dumps(after)[:600])
    canned.shutdown()


def test_chat_commands(url: str) -> None:
    """/model, /provider, /system, /history; the history file; pastes."""
    env = private_env("chat")
    has_libedit = "(line editing: libedit)" in run("--version", env={"TERM": "xterm"}).out
    t = Terminal(["-u", url, "--field", "test_echo=true"], env=env)
    session("/model, /provider, /system, /history", t, [
        ("expect", "> "), ("send", "/model m2\r"), ("expect", "(model: m2)"),
        ("send", "/provider TestBackend\r"), ("expect", "(provider: TestBackend)"),
        ("send", "/system be brief\r"), ("expect", "(system message set)"),
        ("send", "one\r"), ("expect", "You said: one"), ("expect", "\n> "),
        ("send", "/history\r"), ("expect", "user: one"), ("expect", "assistant: ECHO:"), ("expect", "\n> "),
        ("send", "/quit\r")], 0)
    e = echoes_in(t.text())
    body = e[0]["body"] if e else {}
    check("... the next request has them", body.get("model") == "m2" and body.get("provider") == "TestBackend"
          and body.get("messages", [{}])[0] == {"role": "system", "content": "be brief"}, json.dumps(body)[:1500])
    for name, paste in (("bracketed paste, then Enter", "\x1b[200~line a\nline b\rline c\x1b[201~\r"),
                        ('""" block', '"""\rline a\rline b\rline c"""\r')):
        t = Terminal(["-u", url, "--field", "test_echo=true"], env=env)
        session(f"a pasted block of 3 lines is one message ({name})", t, [
            ("expect", "> "), ("send", paste), ("expect", "You said: line a"), ("expect", "\n> "),
            ("send", "/quit\r")], 0)
        said = [users_said(x) for x in echoes_in(t.text())]
        check(f"... one request with the three lines ({name})", said == [["line a\nline b\nline c"]], json.dumps(said))
    if not has_libedit:
        return skip("the line history kept from one run to the next", "no libedit (apt-get install libedit2)")
    t = Terminal(["-u", url, "-q"], env=env)
    session("history: a line typed in one run ...", t, [("expect", "> "), ("send", "remember this line\r"),
                                                        ("expect", "\n> "), ("send", "\x04")], 0)
    t = Terminal(["-u", url, "--field", "test_echo=true"], env=env)
    session("... comes back with Up in the next run", t, [("expect", "> "), ("send", "\x1b[A\r"),
                                                          ("expect", "You said: remember this line"),
                                                          ("expect", "\n> "), ("send", "\x04")], 0)
    hist = Path(env["XDG_STATE_HOME"]) / "backend-api/history"
    check("... in a file private to the user", hist.exists() and hist.stat().st_mode & 0o777 == 0o600, str(hist))


def test_output_as_expected(url: str) -> None:
    """Output as people expect."""
    env = private_env("output")
    extras = ["--field", "test_extras=true"]
    for name, args, extra_env in (("NO_COLOR", [], {"NO_COLOR": "1"}), ("--color=never", ["--color=never"], {}),
                                  ("--color never", ["--color", "never"], {})):
        t = Terminal(["-u", url, *extras, *args, "x"], env=dict(env, **extra_env))
        session(f"{name}: reasoning on a terminal, no colour codes", t, [("expect", "thinking"), ("expect", "You said")], 0)
        check(f"... no SGR escape codes ({name})", not re.search(r"\x1b\[[0-9;]*m", t.text()), repr(t.text()[:400]))
    o = run("-u", url, *extras, "--color=always", "x", env=env)
    expect("--color=always colours in a pipe too", o, 0, err=["\x1b[2m"])
    expect("a bad --color", run("-u", url, "--color", "sometimes", "x", env=env), 2,
           err=["--color takes auto, always or never"])
    t = Terminal(["-u", url, "x"], env=env)
    session("on a terminal: quieter by default, no provider/finish/usage notes", t, [("expect", "You said: x")], 0)
    check("... none shown", "[provider" not in t.text() and "[usage" not in t.text(), repr(t.text()))
    t = Terminal(["-u", url, "-v", "x"], env=env)
    session("-v: the notes on a terminal", t, [("expect", "[provider: Test Backend"), ("expect", "You said: x"),
                                               ("expect", "[usage: ")], 0)
    cfg = WORK / "verbose.conf"
    cfg.write_text("verbose\n")
    t = Terminal(["-u", url, "-K", str(cfg), "x"], env=env)
    session("... or the verbose configuration key", t, [("expect", "[finish: stop]")], 0)
    t = Terminal(["-u", url, "--list-models"], env=env)
    session("--list-models on a terminal: grouped by provider, one model a line", t, [
        ("expect", "TestBackend\r\n  test-model\r\n  test-vision\r\n")], 0)
    t = Terminal(["-u", url, "--list-models", "--json"], env=env)
    session("--list-models --json on a terminal: the JSON", t, [("expect", '{"TestBackend":["test-model"')], 0)
    expect("--list-models -p Unknown: the provider is unknown", run("-u", url, "--list-models", "-p", "Unknown"), 1,
           err=['no provider "Unknown"'], not_err=["is this a g4f server"])
    canned, curl = start_canned()
    expect("https:// to a plain-HTTP port: the server does not speak TLS",
           run("-u", curl.replace("http:", "https:"), "x"), 1, err=["does not speak TLS"], not_err=["--cacert"])
    o = run("-u", curl, "-v", "nested")
    expect("chunk fields read through the library (nested look-alike keys are not taken)", o, 0,
           err=["[provider: Real, model m]", "[finish: stop]", "[usage: 3 prompt + 4 completion = 7 tokens]"],
           not_err=["Decoy", "decoy", "99"])
    canned.shutdown()
    rc = subprocess.run(["bash", "-c", f'"{PLAIN}" -u {url} -q --field test_chunks=20000 --field test_part_bytes=64 x '
                         '| head -c 10 > /dev/null; echo "${PIPESTATUS[0]}"'], capture_output=True, text=True,
                        env=BASE_ENV, timeout=HANG).stdout.strip()
    check("SIGPIPE: exit 141 when the reader goes away, as --help and the man page say",
          rc == "141" and "141  the reader of standard output went away (SIGPIPE)" in run("--help").out, rc)


def test_hostile(url: str, tls_url: str) -> None:
    """A hostile server's bytes on a terminal: controls shown visibly, --raw, --raw-terminal, -k's warning."""
    canned, curl = start_canned()
    t = Terminal(["-u", curl, "hostile"])
    session("a content chunk with OSC, CSI, CR and C1 controls on a terminal: exit 0", t, [("expect", "done")], 0)
    check("... shown visibly (^[]0;TITLE^G^[[2J^MFAKE<U+009B>31m), newline and tab kept, nothing raw",
          "^[]0;TITLE^G^[[2J^MFAKE<U+009B>31m done\tok" in t.text() and "\x1b]" not in t.text()
          and "\x1b[2J" not in t.text() and "\u009b" not in t.text(), repr(t.text()))
    t = Terminal(["-u", curl, "hostile-error"])
    session("an HTTP 500 whose error.message writes the clipboard (OSC 52) and overwrites a line", t,
            [("expect", "HTTP 500")], 1)
    # The library's message holds the server's text escaped already (backend_api_error_message).
    check("... reaches the terminal neutralised", "\\x1b]52;c;aGk=\\x07\\x1b[2K\\x0dFAKE: all good" in t.text()
          and "\x1b]52" not in t.text() and "\x1b[2K" not in t.text(), repr(t.text()))
    t = Terminal(["-u", curl, "--raw", "hostile"])
    session("--raw on a terminal: exact JSON", t, [("expect", '"finish"')], 0)
    lines = [json.loads(x[x.index("{"):]) for x in t.text().replace("\r\n", "\n").splitlines() if "{" in x]
    check("... the same values, escaped", lines and lines[0]["content"] == ESC_CONTENT
          and "\x1b]" not in t.text() and "\x1b[2J" not in t.text(),
          repr(t.text()))
    t = Terminal(["-u", curl, "--raw-terminal", "hostile"])
    session("--raw-terminal: the server's text as it came", t, [("expect", "done")], 0)
    check("... raw", "\x1b]0;TITLE\x07" in t.text(), repr(t.text()))
    o = run("-u", curl, "hostile")
    expect("a pipe gets the text unchanged", o, 0, out=[ESC_CONTENT])
    canned.shutdown()
    o = run("-u", "http://user:p@ssw0rd@127.0.0.1:1", "x")
    expect("a password with '@' never reaches the connect error (cut at the last '@')", o, 1,
           err=["cannot connect to 127.0.0.1:1"], not_err=["ssw0rd", "p@"])
    o = run("-u", url.replace("http://", "http://user:p@ssw0rd@") + "/v1", "x")
    expect("... nor the 404 hint", o, 1, err=["nothing answers http://***@127.0.0.1:"], not_err=["ssw0rd"])
    fifo = WORK / "fifo"
    os.mkfifo(fifo)
    t0 = time.monotonic()
    try:
        o = run("-u", url, "--media", str(fifo), "x")
    except subprocess.TimeoutExpired:
        o = Out(-999, b"", b"(hung in open)")
    expect("--media on a FIFO is refused at once", o, 2, err=[f"attachment {fifo}: not a regular file (a FIFO)"])
    check("... in well under a second", time.monotonic() - t0 < 5, f"{time.monotonic() - t0:.1f} s")
    expect("--media on a directory too", run("-u", url, "--media", str(WORK), "x"), 2, err=["(a directory)"])
    t = Terminal(["-u", tls_url, "-k", "x"])
    session("-k on a terminal: a warning", t, [("expect", "warning: --insecure"), ("expect", "secure hello")], 0)
    expect("... none in a pipe", run("-u", tls_url, "-k", "x"), 0, not_err=["warning"])


def test_layout() -> None:
    """Inside: the client split by concern, each file named in cli/cli.h."""
    header = ROOT / "cli/cli.h"
    named = re.findall(r"^ \*   (\S+\.c)\s", header.read_text() if header.exists() else "", re.M)
    sizes = {n: len((ROOT / "cli" / n).read_text().splitlines()) for n in named if (ROOT / "cli" / n).exists()}
    check("cli/ split by concern: options, configuration, output, conversation, line editing, storage, main",
          {"options.c", "config.c", "output.c", "conversation.c", "lineedit.c", "store.c", "backend-api.c"}
          <= set(sizes) and len(sizes) == len(named) and max(sizes.values()) < 400, str(sizes))
    help_text = run("--help").out
    new = ["--config", "--no-config", "--continue", "--conversation", "--no-log", "--color", "--verbose",
           "--raw-terminal", "backend-api logs", "NO_COLOR", "OPENAI_BASE_URL", "XDG_STATE_HOME"]
    check("--help (and so the man page and completions, checked against it) names every new option",
          all(n in help_text for n in new), str([n for n in new if n not in help_text]))


# ---------------------------------------------------------------- people who type their own language, pipe files and read answers

UTF8 = {"LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
LEFT, RIGHT, UP, HOME = "\x1b[D", "\x1b[C", "\x1b[A", "\x01"


def has_libedit() -> bool:
    return "(line editing: libedit)" in run("--version", env=dict(UTF8, TERM="xterm")).out


def typed_chat(name: str, steps: list, env: dict, expect_said: list, args: tuple = ()) -> str:
    """A conversation typed through a pty (each step a line: keys, then Enter); checks
    what the test backend received, turn by turn. Returns what the terminal showed."""
    t = Terminal(["-u", URL, "--field", "test_echo=true", *args], env=env)
    keys = [("expect", "> ")]
    for line in steps:
        keys += [("send", k) for k in line] + [("send", "\r"), ("expect", "You said:"), ("expect", "\n> ")]
    keys.append(("send", "\x04"))
    if not session(name, t, keys, 0):
        return t.text()
    said = [users_said(e)[-1] for e in echoes_in(t.text())]
    check(f"... the server received what was typed ({name})", said == expect_said,
          json.dumps(said, ensure_ascii=False))
    return t.text()


def test_utf8_terminal(url: str) -> None:
    if has_libedit():
        shown = typed_chat("UTF-8 in libedit: Cyrillic (cursor keys), CJK (backspace), accents (Home), history", [
            ["Привет мир", LEFT * 4, ","], ["你好世界界", "\x7f"], ["café", HOME, "Un "], [UP * 3]],
            UTF8, ["Привет, мир", "你好世界", "Un café", "Привет, мир"])
        check("... shown as typed, never as \\U+ escapes", "\\U+" not in shown and "> Привет мир" in shown
              and "你好世界界" in shown, repr(shown[:800]))
        # "> " then four wide characters: the cursor goes back to column 2 + 4 * 2 + 1 after the backspace
        check("... a wide character takes two columns", "你好世界界\r\x1b[11G" in shown, repr(shown[:1500]))
    else:
        skip("UTF-8 in libedit", "no libedit on this system (apt-get install libedit2)")
    typed_chat("UTF-8 in the terminal's line mode: backspace erases a whole character", [["мирр\x7f"], ["ü\x7fé"]],
               dict(UTF8, TERM="dumb"), ["мир", "é"])
    t = Terminal(["-u", url, "--field", "test_echo=true"], env={"LANG": "C", "LC_ALL": "C"})
    ok = session("a locale that is not UTF-8: a note, and typed text still goes as it was typed", t, [
        ("expect", "is not UTF-8"), ("expect", "LANG=C.UTF-8"), ("expect", "> "), ("send", "Привет\r"),
        ("expect", "You said:"), ("expect", "\n> "), ("send", "\x04")], 0)
    said = [users_said(e) for e in echoes_in(t.text())] if ok else []
    check("... the server received it", said == [["Привет"]], json.dumps(said, ensure_ascii=False))


def test_pipe_and_prompt(url: str) -> None:
    o = run("-u", url, "--field", "test_echo=true", "summarise", "this", stdin="первая строка\nline two\n".encode())
    said = users_said(echo_of(o.out)) if o.rc == 0 else []
    check("a pipe and a prompt are one message: the prompt, a blank line, the piped text", o.rc == 0
          and said == ["summarise this\n\nпервая строка\nline two"], str(o))
    o = run("-u", url, "--field", "test_echo=true", "Summarise:", "-", stdin=b"piped\n")
    check('... "-" keeps its place', o.rc == 0 and users_said(echo_of(o.out)) == ["Summarise: piped"], str(o))
    o = run("-u", url, "--field", "test_echo=true", "alone", stdin=b"")
    check("... an empty pipe adds nothing", o.rc == 0 and users_said(echo_of(o.out)) == ["alone"], str(o))
    expect("piped input beyond 8 MiB: a clear usage error, nothing sent",
           run("-u", url, "summarise", stdin=b"a" * (9 << 20)), 2, err=["standard input is larger than 8 MiB"],
           not_out=["You said"])


def test_reasoning(url: str) -> None:
    o = run("-u", url, "--field", "test_extras=true", "x")
    expect("reasoning: not on a redirected stdout, labelled on stderr", o, 0, out=["You said: x"],
           err=["[reasoning] thinking"], not_out=["thinking"])
    expect("--hide-reasoning: nowhere", run("-u", url, "--hide-reasoning", "--field", "test_extras=true", "x"), 0,
           out=["You said: x"], not_err=["thinking"])
    conf = WORK / "hide-reasoning.conf"
    conf.write_text("hide-reasoning\n")
    expect("... or the configuration key hide-reasoning", run("-u", url, "-K", str(conf), "--field",
                                                              "test_extras=true", "x"), 0, not_err=["thinking"])
    o = run("-u", url, "--show-reasoning", "--field", "test_extras=true", "x")
    expect("--show-reasoning: on a redirected stdout, labelled, before the answer", o, 0,
           out=["[reasoning] thinking\nHello from"], not_err=["thinking"])
    shown = WORK / "show-reasoning.conf"
    shown.write_text("show-reasoning\n")
    expect("... or the configuration key show-reasoning", run("-u", url, "-K", str(shown), "--field",
                                                              "test_extras=true", "x"), 0,
           out=["[reasoning] thinking\nHello from"])
    expect("... the command line wins over the file (hide-reasoning there)",
           run("-u", url, "-K", str(conf), "--show-reasoning", "--field", "test_extras=true", "x"), 0,
           out=["[reasoning] thinking"])
    expect("... and both from one place is a usage error",
           run("-u", url, "--show-reasoning", "--hide-reasoning", "x"), 2,
           err=["--show-reasoning and --hide-reasoning do not go together"])
    for env, dim in (({}, True), ({"NO_COLOR": "1"}, False)):
        t = Terminal(["-u", url, "--field", "test_extras=true", "x"], env=env)
        ok = session(f"on a terminal: reasoning labelled{', dimmed' if dim else ' under NO_COLOR'}", t,
                     [("expect", "You said: x")], 0)
        text = t.text()
        check("... before the answer, told apart from it", ok and ("\x1b[2m[reasoning] thinking" in text) == dim
              and "[reasoning] thinking" in text and text.find("thinking") < text.find("Hello from"), repr(text))
    t = Terminal(["-u", url, "--hide-reasoning", "--field", "test_extras=true", "x"])
    session("on a terminal with --hide-reasoning: none", t, [("expect", "You said: x")], 0)
    check("... none shown", "thinking" not in t.text(), repr(t.text()))
    env = private_env("saved-reasoning")
    run("-u", url, "--field", "test_extras=true", "first", env=env)
    run("-u", url, "-c", "second", env=env)
    files = saved_files(env)
    saved = json.loads(files[0].read_text()) if files else {}
    check("saved conversations keep each answer's reasoning (not sent back)", saved.get("reasoning") ==
          ["thinking", ""] and all(set(m) == {"role", "content"} for m in saved.get("messages", [])), json.dumps(saved))
    expect("... and logs ID shows it", run("logs", saved.get("id", "none"), env=env), 0,
           out=["user: first\nreasoning: thinking\nassistant: "])


def test_paste(url: str) -> None:
    if not has_libedit():
        return skip("a paste in libedit", "no libedit on this system (apt-get install libedit2)")
    paste = "\x1b[200~line one\rline two\x1b[201~"
    shown = typed_chat("a bracketed paste lands in the line being edited; Enter sends it",
                       [["Look: ", paste, " end"], ["\"\"\"", "\r", "block", "\r", "\"\"\""]], UTF8,
                       ["Look: line one\nline two end", "block\n"])
    check("... shown in the line, its newline as a sign", "Look: line one\u2424line two end" in shown, repr(shown))


def test_habits(url: str) -> None:
    port = url.rsplit(":", 1)[1]
    expect("combined short flags: -qv", run("-qvu", url, "x"), 0, out=["You said: x"], not_err=["[provider"])
    expect("... an unknown one is named", run("-u", url, "-qz", "x"), 2, err=["unknown option -z in -qz"])
    expect("a URL without a scheme means http://", run("-u", f"127.0.0.1:{port}", "x"), 0, out=["You said: x"])
    o = run("--no-config", "--field", "test_echo=true", "x",
            env={"OPENAI_BASE_URL": url + "/v1", "OPENAI_API_KEY": "sk-openai-marker"})
    e = echo_of(o.out) if o.rc == 0 and "ECHO:" in o.out else {"headers": {}}
    check("OPENAI_BASE_URL alone selects the OpenAI protocol, with OPENAI_API_KEY",
          e["headers"].get("authorization") == "Bearer sk-openai-marker", str(o))
    t = Terminal(["-u", url, "--field", "test_echo=true", "--field", "test_delay_ms=300"], env=UTF8)
    ok = session("keys typed during an answer are not echoed into it, and wait for the next prompt", t, [
        ("expect", "> "), ("send", "first\r"), ("expect", "ECHO:"), ("send", "zzz"), ("expect", "You said: first"),
        ("expect", "\n> "), ("send", "\r"), ("expect", "You said: zzz"), ("expect", "\n> "), ("send", "\x04")], 0)
    text = t.text()
    check("... not in the answer", ok and "zzz" not in text[:text.find("You said: first")], repr(text))


def test_markdown(url: str) -> None:
    unit = WORK / "markdown_test"
    built = subprocess.run(["cc", "-std=c11", "-D_GNU_SOURCE", "-Wall", "-Wextra", "-Werror", "-g",
                            "-fsanitize=address,undefined", "-fno-sanitize-recover=all", f"-I{ROOT}/include",
                            f"-I{ROOT}/cli", str(ROOT / "tests/cli/markdown_test.c"), str(ROOT / "cli/markdown.c"),
                            str(ROOT / "cli/safe_text.c"), str(ROOT / "cli/buffer.c"), str(ROOT / "cli/platform_posix.c"),
                            "-o", str(unit)],
                           capture_output=True, text=True)
    o = run(binary=unit) if built.returncode == 0 else Out(-1, b"", built.stderr.encode())
    expect("the markdown renderer's unit test (tests/cli/markdown_test.c): known lines, the same output for "
           "every cut of the text", o, 0, out=["markdown: 0 failed"])
    canned, curl = start_canned()
    t = Terminal(["-u", curl, "markdown"])
    session("markdown rendered on a terminal as it streams", t, [("expect", "with no newline")], 0)
    text = t.text()
    want = ["\x1b[1;4;35mTitle here\x1b[0m", "\x1b[1mbold\x1b[22m", "\x1b[3mitalic\x1b[23m", "\x1b[36mcode\x1b[39m",
            "\x1b]8;;https://example.com/x\x1b\\\x1b[4mlink", "\x1b[1;35mSub", "•\x1b[39m item \x1b[1mtwo",
            "\x1b[2m```python", "\x1b[33mdef f(x): return x * 2  # **not bold**", "snake_case_name stays.",
            "last line ^[]0;T^G with no newline"]
    check("... headings, bold, emphasis, code, links (OSC 8), lists, fenced code and its language; the server's "
          "controls still neutralised", all(w in text for w in want) and "\x1b]0;T" not in text,
          str([w for w in want if w not in text]) + " " + repr(text))
    t = Terminal(["-u", curl, "markdown"], env={"NO_COLOR": "1"})
    session("... under NO_COLOR: bold and italics, no colour", t, [("expect", "with no newline")], 0)
    text = t.text()
    check("... the link as text <url>, code in backticks", "\x1b[1mbold" in text and "\x1b[1mTitle here" in text
          and "link <https://example.com/x>" in text and "`code`" in text and not re.search(r"\x1b\[(3\d|2)m", text)
          and "\x1b]8" not in text, repr(text))
    o = run("-u", curl, "markdown")
    check("... raw when stdout is not a terminal", o.rc == 0 and o.out == MARKDOWN + "\n", repr(o.out))
    t = Terminal(["-u", curl, "--render", "never", "markdown"])
    session("... raw on a terminal with --render never", t, [("expect", "no newline")], 0)
    check("... no rendering", "# Title here" in t.text() and "**bold**" in t.text(), repr(t.text()))
    o = run("-u", curl, "--render", "always", "--color", "never", "markdown")
    check("--render always: rendered in a pipe too", o.rc == 0 and "\x1b[1mbold" in o.out, repr(o.out))
    t = Terminal(["-u", curl, "stall"])
    session("... a line being streamed is shown as it comes, not held to its end", t, [
        ("expect", "partial"), ("send", "\x03"), ("expect", "cancelled")], 130)
    canned.shutdown()
    canned.server_close()


def test_provider_state(url: str) -> None:
    """A provider's state goes back as g4f expects it: the inner object of the provider that
    answered (g4f keys it by provider), on -c and on --conversation ID, turn after turn."""
    env = private_env("provider-state")
    state = '{"TestBackend": {"conversation_id": "c-1"}}'
    o = run("-u", url, "--field", f"test_conversation={state}", "first", env=env)
    if not check("a stateful provider's first turn", o.rc == 0, str(o)):
        return
    for how in (["-c"], ["--conversation", json.loads(run("logs", "--json", env=env).out or "[{}]")[0].get("id", "?")]):
        o = run("-u", url, "--field", "test_echo=true", *how, "next", env=env)
        got = echo_of(o.out)["body"].get("conversation") if o.rc == 0 and "ECHO:" in o.out else None
        check(f"{how[0]}: the provider's own state is sent back, unwrapped", got == {"conversation_id": "c-1"},
              f"{got!r} {o}")
    saved = json.loads(saved_files(env)[-1].read_text()) if saved_files(env) else {}
    check("... saved as sent back, the file's format said", saved.get("format") == 2 and
          saved.get("conversation") == {"conversation_id": "c-1"}, json.dumps(saved))
    # A file as the client wrote it before (no "format"): the server's whole state, keyed by provider.
    old = {"id": "20260101-000000-0000abcd", "created": "2026-01-01T00:00:00Z", "updated": "2026-01-01T00:00:00Z",
           "protocol": "backend", "url": url, "model": None, "provider": None, "system": None,
           "messages": [{"role": "user", "content": "first"}, {"role": "assistant", "content": "hi"}],
           "reasoning": [""], "conversation": {"TestBackend": {"conversation_id": "old-1"}}}
    env = private_env("provider-state-old")
    folder = Path(env["XDG_STATE_HOME"]) / "backend-api/conversations"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    (folder / f"{old['id']}.json").write_text(json.dumps(old))
    (folder / f"{old['id']}.json").chmod(0o600)
    o = run("-u", url, "--field", "test_echo=true", "--conversation", old["id"], "next", env=env)
    got = echo_of(o.out)["body"].get("conversation") if o.rc == 0 and "ECHO:" in o.out else None
    check("a conversation saved in the old format (the wrapped state) sends the provider's own state back",
          got == {"conversation_id": "old-1"}, f"{got!r} {o}")
    resaved = json.loads((folder / f"{old['id']}.json").read_text())
    check("... and is saved again in the new format", resaved.get("format") == 2 and
          resaved.get("conversation") == {"conversation_id": "old-1"}, json.dumps(resaved))


def test_conversations_found(url: str) -> None:
    env = private_env("conversations-found")
    for message in ("first question", "a thing about Apples", "third one"):
        run("-u", url, message, env=env)
    saved = json.loads(run("logs", "--json", env=env).out or "[]")
    ids = [c["id"] for c in saved]
    if not check("three conversations saved", len(ids) == 3, str(ids)):
        return
    apples = ids[1]
    o = run("-u", url, "--field", "test_echo=true", "--conversation", apples[:-2], "more", env=env)
    check("--conversation takes a unique prefix of an id", o.rc == 0 and
          users_said(echo_of(o.out)) == ["a thing about Apples", "more"], str(o))
    common = os.path.commonprefix(ids)
    expect("... an ambiguous one lists the candidates", run("-u", url, "--conversation", common, "x", env=env), 2,
           err=[f'"{common}" is the start of 3 conversations', *ids])
    expect("logs PREFIX prints one", run("logs", apples[:-2], env=env), 0, out=[f"conversation {apples}"])
    o = run("logs", "-q", "apples", env=env)
    check("logs -q TEXT: those holding it (any case)", o.rc == 0 and apples in o.out and ids[0] not in o.out
          and ids[2] not in o.out, str(o))
    expect("logs --help", run("logs", "--help", env=env), 0, out=["usage: backend-api logs", "logs rm ID", "-q TEXT"])
    updated = json.loads(run("logs", "--json", apples, env=env).out)["updated"]
    utc = calendar.timegm(time.strptime(updated, "%Y-%m-%dT%H:%M:%SZ"))
    local = time.strftime("%Y-%m-%d %H:%M", time.gmtime(utc + 3 * 3600))  # TZ=XYZ-3: three hours east
    o = run("logs", env=dict(env, TZ="XYZ-3"))
    check("logs shows local times (UTC in --json)", o.rc == 0 and local in o.out and updated not in o.out
          and updated.endswith("Z"), f"{local} {updated}\n{o}")
    o = run("logs", "rm", ids[0][:-2], env=env)
    left = [c["id"] for c in json.loads(run("logs", "--json", env=env).out or "[]")]
    check("logs rm PREFIX deletes one", o.rc == 0 and f"deleted conversation {ids[0]}" in o.err
          and sorted(left) == sorted([apples, ids[2]]), f"{o}\n{left}")
    expect("logs rm of an unknown id: an error", run("logs", "rm", "nope", env=env), 2, err=['no conversation "nope"'])


def test_attachments(url: str) -> None:
    notes = WORK / "notes.txt"
    notes.write_text("заметки: café\nline two\n")
    clip = WORK / "clip.mp4"
    clip.write_bytes(b"\x00\x00\x00\x18ftypmp42 not really a film")
    o = run("-u", url, "--field", "test_echo=true", "-a", str(notes), "--attach", str(PIXEL), "-a", str(clip),
            "summarise")
    body = echo_of(o.out)["body"] if o.rc == 0 else {"messages": []}
    media = body.get("media") or []
    check("-a: a text file as context under its name, before the message; an image and a video as media",
          users_said({"body": body}) == ['<file name="notes.txt">\nзаметки: café\nline two\n</file>\n\nsummarise']
          and [m[1] for m in media] == ["pixel.gif", "clip.mp4"] and media[1][0].startswith("data:video/mp4;base64,"),
          str(o))
    expect("-a of another binary: refused, naming the accepted types", run("-u", url, "-a", "/bin/sh", "x"), 2,
           err=["neither media nor text", "images (jpeg", "UTF-8 text"], not_out=["You said"])
    t = Terminal(["-u", url, "--field", "test_echo=true", "-a", str(notes)], env=UTF8)
    ok = session("in a conversation: -a goes with the first message, /attach FILE with the next one", t, [
        ("expect", "> "), ("send", "one\r"), ("expect", "You said:"), ("expect", "\n> "),
        ("send", f"/attach {PIXEL}\r"), ("expect", "attached to the next message"), ("expect", "\n> "),
        ("send", "two\r"), ("expect", "You said: two"), ("expect", "\n> "),
        ("send", "three\r"), ("expect", "You said: three"), ("expect", "\n> "), ("send", "\x04")], 0)
    sent = [(users_said(e)[-1], [m[1] for m in e["body"].get("media") or []]) for e in echoes_in(t.text())] if ok else []
    check("... each attachment with its own message", sent == [
        ('<file name="notes.txt">\nзаметки: café\nline two\n</file>\n\none', []), ("two", ["pixel.gif"]),
        ("three", [])], json.dumps(sent, ensure_ascii=False))


def test_beyond_text(url: str) -> None:
    o = run("-u", url, "--field", "test_media=true", "draw")
    expect("generated media: the URL said", o, 0, err=[f"[image: {url}/media/test-dot.png]"])
    folder = WORK / "media"
    folder.mkdir(exist_ok=True)
    for args in (["--save-media", str(folder), "draw"], ["--save-media", str(folder), "--json", "draw"]):
        for f in folder.iterdir():
            f.unlink()
        o = run("-u", url, "--field", "test_media=true", *args)
        saved = folder / "test-dot.png"
        expect(f"--save-media DIR ({' '.join(args[2:])}): saved, and where", o, 0,
               err=[f"[image saved: {saved} ("]) and check("... the server's bytes", saved.exists() and
                                                          saved.read_bytes()[:4] == b"\x89PNG", str(list(folder.iterdir())))
    expect("--save-media of a missing folder: a usage error", run("-u", url, "--save-media", str(WORK / "nope"), "x"),
           2, err=["is not a folder"])
    env = private_env("media-in-conversation")
    t = Terminal(["-u", url, "--save-media", str(folder), "--field", "test_media=true"], env=env)
    session("--save-media in a conversation", t, [("expect", "> "), ("send", "draw\r"), ("expect", "[image saved: "),
                                                  ("expect", "\n> "), ("send", "\x04")], 0)
    expect("a tool call shown: name and arguments", run("-u", url, "--field", "test_extras=true", "x"), 0,
           err=['[tool call: get_weather {"city":"Paris"}]', "[tool call: get_time {}]"])
    o = run("--protocol", "openai", "-u", url + "/v1", "--field", 'test_openai="refusal"', "x")
    expect("a refusal: printed, and said to be one", o, 0, out=["I can't help with that."],
           err=["the model refused to answer"])
    o = run("-u", url, "--list-providers")
    check("--list-providers: one a line", o.rc == 0 and o.out == "TestBackend\n", str(o))
    o = run("-u", url, "--list-providers", "--json")
    check("... --json: the server's", o.rc == 0 and json.loads(o.out or "[]")[0]["name"] == "TestBackend", str(o))
    o = run("--protocol", "openai", "-u", url + "/v1", "--list-providers")
    check("... with --protocol openai", o.rc == 0 and o.out.strip() != "", str(o))


def test_errors_read(url: str) -> None:
    canned, curl = start_canned()
    for what, rc in (("retry-error", 3), ("retry-http", 1)):
        o = run("-u", curl, what)
        lines = [line for line in o.err.splitlines() if line.startswith("backend-api:")]
        expect(f"g4f's provider-retry error ({what}): one line, the providers tried, the hint", o, rc,
               err=["OpenaiChat, Copilot, PollinationsAI", "-p PROVIDER"], not_err=["RetryProvider failed"])
        check("... one line", len(lines) == 1, o.err)
        expect("... in full with -v", run("-v", "-u", curl, what), rc, err=["Copilot: RateLimitError: Too many"])
    canned.shutdown()
    canned.server_close()


def test_demo() -> None:
    """scripts/demo.sh twice: the second run, with nothing changed, compiles nothing."""
    env = {k: v for k, v in BASE_ENV.items() if not k.startswith("ASAN") and not k.startswith("UBSAN")}
    runs = []
    for _ in range(2):
        t0 = time.monotonic()
        p = subprocess.run([str(ROOT / "scripts/demo.sh"), "Hello"], capture_output=True, env=env, timeout=3600)
        runs.append((time.monotonic() - t0, p))
    (first, p1), (second, p2) = runs
    check(f"scripts/demo.sh \"Hello\": the second run under 5 s (first {first:.1f} s, second {second:.1f} s)",
          p1.returncode == p2.returncode == 0 and b"You said: Hello" in p2.stdout and second < 5,
          f"{p2.returncode} {p2.stdout[-500:]!r} {p2.stderr[-2000:]!r}")


# ---------------------------------------------------------------- main


def main() -> int:
    global CLIENT, PLAIN
    t0 = time.monotonic()
    print("== building the client (cli/build.sh --debug), also with ASan + UBSan")
    if os.environ.get("BACKEND_API_CLI"):  # a build of one's own (another commit's, say) for every run
        PLAIN = CLIENT = Path(os.environ["BACKEND_API_CLI"]).resolve()
    else:
        PLAIN = build(WORK / "backend-api")
        CLIENT = build(WORK / "backend-api-asan", "-fsanitize=address,undefined", "-fno-sanitize-recover=all")
    global URL
    backend, url = start_backend()
    URL = url
    tls_url = start_tls_server()
    procs = [backend]
    servers: dict = {}
    if not ONLY or "g4f" in ONLY:
        for name, args in (("key", ["--g4f-api-key", "sk-g4f-server-key"]), ("open", []), ("no-gui", ["--no-gui"])):
            started = start_g4f(*args)
            if started:
                procs.append(started[0])
                servers[name] = started[1]
    try:
        for name, test in (("basics", lambda: test_basics(url)), ("request", lambda: test_request(url)),
                           ("output", lambda: test_output(url)), ("failures", lambda: test_failures(url, tls_url)),
                           ("usage errors", lambda: test_usage_errors(url)), ("models", lambda: test_models(url)),
                           ("protocol", lambda: test_protocol(url)),
                           ("signals", lambda: test_signals(url)),
                           ("listing cancelled", lambda: test_listing_cancelled(url)), ("terminal", lambda: test_terminal(url)),
                           ("conversation", lambda: test_conversation(url)), ("valgrind", lambda: test_valgrind(url)),
                           ("documentation", test_documentation), ("real g4f", lambda: test_real_g4f(servers)),
                           ("setup", lambda: test_setup(url)), ("saved", lambda: test_saved(url)),
                           ("saved on a terminal", lambda: test_saved_on_a_terminal(url)),
                           ("chat commands", lambda: test_chat_commands(url)),
                           ("output as expected", lambda: test_output_as_expected(url)),
                           ("hostile", lambda: test_hostile(url, tls_url)), ("layout", test_layout),
                           ("utf-8 at the terminal", lambda: test_utf8_terminal(url)),
                           ("pipe and prompt", lambda: test_pipe_and_prompt(url)),
                           ("reasoning", lambda: test_reasoning(url)), ("paste", lambda: test_paste(url)),
                           ("habits", lambda: test_habits(url)), ("errors read", lambda: test_errors_read(url)),
                           ("markdown", lambda: test_markdown(url)),
                           ("conversations found", lambda: test_conversations_found(url)),
                           ("provider state", lambda: test_provider_state(url)),
                           ("attachments", lambda: test_attachments(url)),
                           ("beyond text", lambda: test_beyond_text(url)), ("demo", test_demo)):
            if section(name):
                test()
    finally:
        for p in procs:
            p.stdin.close()
            p.kill()
            p.wait()
        subprocess.run(["rm", "-rf", str(WORK)])
    print(f"cli: {passed} passed, {failed} failed ({time.monotonic() - t0:.0f} s)")
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
