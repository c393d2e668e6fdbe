#!/usr/bin/env python3
"""Drive g4f's own reference client (g4f.Provider.template.BackendApi) against a server.

Run with the python of the g4f 6.7.4 venv (BackendApi is byte-for-byte the same
code in 8.8.6, apart from formatting):

    $VENV/bin/python tests/interop/reference_client.py URL REQUEST_JSON_FILE [--count-only]
                     [--header 'Name: value' ...]

URL is the server base, e.g. http://127.0.0.1:8080 (the client appends
/backend-api/v2/conversation). REQUEST_JSON_FILE holds the body fields:
{"model": ..., "messages": [...], "media": [[uri, name], ...], "api_key": ..., ...extra}.
"model" and "messages" are passed positionally, "media" and "api_key" as the
keyword arguments of the same name, and every other key as **kwargs, i.e. exactly
how a Python caller would call
    BackendApi.create_async_generator(model, messages, media=None, api_key=None, **kwargs).
A media item whose first element starts with "@" is read from that file as bytes, so
the client's own bytes -> data URI conversion (to_data_uri) is exercised.

Output: one JSON line per yielded item (the RawResponse's attribute dict, i.e. the
chunk as the server sent it), on stdout. With --count-only, only
"COUNT <n> SECONDS <wall> CPU <user+sys>" at the end. If the client raises, the traceback goes to
stderr, a last line "EXCEPTION <Type>: <message>" goes to stdout, and the exit code is 1.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import traceback


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("request_json_file")
    ap.add_argument("--count-only", action="store_true")
    ap.add_argument("--header", action="append", default=[], help="'Name: value', repeatable")
    args = ap.parse_args()

    with open(args.request_json_file, "r", encoding="utf-8") as f:
        body = json.load(f)
    model = body.pop("model", None)
    messages = body.pop("messages", [])
    media = body.pop("media", None)
    api_key = body.pop("api_key", None)
    if media is not None:
        items = []
        for item in media:
            data, name = (list(item) + [None])[:2]
            if isinstance(data, str) and data.startswith("@"):
                with open(data[1:], "rb") as mf:
                    data = mf.read()
            items.append((data, name))
        media = items

    from g4f.Provider.template import BackendApi

    BackendApi.url = args.url.rstrip("/")
    headers = {}
    for h in args.header:
        name, _, value = h.partition(":")
        headers[name.strip()] = value.strip()
    BackendApi.headers = headers

    count = 0
    out = sys.stdout

    async def run() -> None:
        nonlocal count
        async for item in BackendApi.create_async_generator(
            model, messages, media=media, api_key=api_key, **body
        ):
            count += 1
            if not args.count_only:
                data = item.get_dict() if hasattr(item, "get_dict") else item
                out.write(json.dumps(data) + "\n")
                out.flush()

    t0 = time.monotonic()
    cpu0 = time.process_time()
    rc = 0
    try:
        asyncio.run(run())
    except Exception as e:  # report what the reference client does, do not hide it
        traceback.print_exc(file=sys.stderr)
        out.write(f"EXCEPTION {type(e).__name__}: {e}\n")
        rc = 1
    wall = time.monotonic() - t0
    cpu = time.process_time() - cpu0
    if args.count_only:
        out.write(f"COUNT {count} SECONDS {wall:.6f} CPU {cpu:.6f}\n")
    out.flush()
    return rc


if __name__ == "__main__":
    sys.exit(main())
