#!/usr/bin/env python3
"""Sequential streams through the official `openai` package, for the bench's
connection-reuse row: one client, N streamed chat completions one after the
other, each read to its end; prints each one's milliseconds, one a line.

    $VENV/bin/python openai_client.py BASE_URL CA_FILE N
"""
import sys
import time

import openai

base_url, ca, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
http = getattr(openai, "DefaultHttpx2Client", None) or openai.DefaultHttpxClient
client = openai.OpenAI(base_url=base_url, api_key="bench", max_retries=0, http_client=http(verify=ca))
for _ in range(n):
    t = time.perf_counter()
    stream = client.chat.completions.create(model="bench", messages=[{"role": "user", "content": "hi"}], stream=True)
    for _ in stream:
        pass
    print(f"{(time.perf_counter() - t) * 1e3:.3f}", flush=True)
