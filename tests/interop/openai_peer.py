#!/usr/bin/env python3
"""The peer of the OpenAI-compatible differential test: the official `openai`
package (its streaming helper, which assembles the deltas) runs one request and
prints what it got as one JSON line.

Run with the python of scripts/openai-venv.sh's venv:

    $VENV/bin/python tests/interop/openai_peer.py < request.json

Input: {"base_url": str, "api_key": str, "model": str, "messages": [...],
        "extra_body": {...}}
Output: {"content", "reasoning", "refusal": str | null (of choice 0, as are the text and
         the finish reason), "choices": the number of choices,
         "tool_calls": [{id, type, name, arguments}] | null,
         "usage": {prompt_tokens, completion_tokens, total_tokens} | null,
         "finish_reason"}, or on an error only {"error": message, "http_status": code | null}
(the server's `error.message`; HTTP status null for an error event in the stream).
"""
import json
import sys

import openai

req = json.load(sys.stdin)
client = openai.OpenAI(base_url=req["base_url"], api_key=req["api_key"], max_retries=0, timeout=60)
out = {"content": "", "reasoning": "", "refusal": None, "choices": 0, "tool_calls": None, "usage": None, "finish_reason": None}
try:
    with client.chat.completions.stream(
        model=req["model"],
        messages=req["messages"],
        stream_options={"include_usage": True},
        extra_body=req.get("extra_body") or {},
    ) as stream:
        for _ in stream:
            pass
        try:
            final = stream.get_final_completion()
        except openai.LengthFinishReasonError as e:
            # The helper refuses to parse a choice cut at the length limit; the
            # assembled completion is still there.
            final = e.completion
    out["choices"] = len(final.choices)
    choice = next((c for c in final.choices if c.index == 0), None)
    if choice is not None:
        msg = choice.message
        out["content"] = msg.content or ""
        out["refusal"] = msg.refusal
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
