#!/usr/bin/env python3
"""The peer of the OpenAI-compatible differential test: the official `openai`
package (its streaming helper, which assembles the deltas) runs one request and
prints what it got as one JSON line.

Run with the python of scripts/openai-venv.sh's venv:

    $VENV/bin/python tests/interop/openai_peer.py < request.json

Input: {"base_url": str, "api_key": str, "model": str, "messages": [...],
        "extra_body": {...}}
Output: {"content", "reasoning", "tool_calls": [{id, type, name, arguments}] | null,
         "usage": {prompt_tokens, completion_tokens, total_tokens} | null,
         "finish_reason"}, or on an error only {"error": message, "http_status": code | null}
(the server's `error.message`; HTTP status null for an error event in the stream).
"""
import json
import sys

import openai

req = json.load(sys.stdin)
client = openai.OpenAI(base_url=req["base_url"], api_key=req["api_key"], max_retries=0, timeout=60)
out = {"content": "", "reasoning": "", "tool_calls": None, "usage": None, "finish_reason": None}
try:
    with client.chat.completions.stream(
        model=req["model"],
        messages=req["messages"],
        stream_options={"include_usage": True},
        extra_body=req.get("extra_body") or {},
    ) as stream:
        for _ in stream:
            pass
        final = stream.get_final_completion()
    choice = final.choices[0] if final.choices else None
    if choice is not None:
        msg = choice.message
        out["content"] = msg.content or ""
        extra = msg.model_extra or {}
        out["reasoning"] = extra.get("reasoning_content") or extra.get("reasoning") or ""
        if msg.tool_calls:
            out["tool_calls"] = [
                {"id": t.id, "type": t.type, "name": t.function.name, "arguments": t.function.arguments}
                for t in msg.tool_calls
            ]
        out["finish_reason"] = choice.finish_reason
    if final.usage is not None:
        u = final.usage
        out["usage"] = {"prompt_tokens": u.prompt_tokens, "completion_tokens": u.completion_tokens, "total_tokens": u.total_tokens}
except openai.APIError as e:
    body = e.body if isinstance(e.body, dict) else {}
    out = {"error": body.get("message") or e.message, "http_status": getattr(e, "status_code", None)}
print(json.dumps(out, sort_keys=True))
