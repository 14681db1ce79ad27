"""The HTTP answers a re-run serves to the Agents SDK's real models: a recorded response
as the endpoint sent it, streamed as server-sent events when the call streamed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx2 as httpx

#: The header that stops the openai client retrying (``tracer.runner.chat_server``'s).
_NO_RETRY = {"x-should-retry": "false"}


def reply(api: str, streamed: bool, body: dict[str, Any]) -> httpx.Response:
    """``body`` (a Response, or a ChatCompletion; for a streamed Chat Completions call the
    Response the SDK built from its chunks) as the endpoint's answer."""
    if not streamed:
        return httpx.Response(200, json=body)
    events = _response_events(body) if api == "responses" else _chunks(body)
    return httpx.Response(
        200,
        headers={"content-type": "text/event-stream"},
        content=b"".join(_sse(api, events)),
    )


def failure(message: str) -> httpx.Response:
    """A recorded failure, failed again (the client does not retry it)."""
    return httpx.Response(500, json={"error": {"message": message}}, headers=_NO_RETRY)


def _response_events(response: dict[str, Any]) -> list[dict[str, Any]]:
    started = {**response, "status": "in_progress", "output": []}
    events: list[dict[str, Any]] = [{"type": "response.created", "response": started}]
    for index, item in enumerate(response.get("output") or ()):
        events.append({"type": "response.output_item.added", "output_index": index, "item": item})
        events.append({"type": "response.output_item.done", "output_index": index, "item": item})
    events.append({"type": "response.completed", "response": response})
    return [{**event, "sequence_number": n} for n, event in enumerate(events)]


def _chunks(response: dict[str, Any]) -> list[dict[str, Any]]:
    """Chat Completions chunks that the SDK's stream handler turns back into ``response``."""
    items = [i for i in response.get("output") or () if isinstance(i, dict)]
    provider: dict[str, Any] = next(
        (i["provider_data"] for i in items if isinstance(i.get("provider_data"), dict)), {}
    )
    base = {
        "id": provider.get("response_id") or "chatcmpl-baton-replay",
        "object": "chat.completion.chunk",
        "created": int(response.get("created_at") or 0),
        "model": provider.get("model") or response.get("model") or "",
    }
    delta: dict[str, Any] = {"role": "assistant"}
    text = "".join(
        part.get("text", "")
        for item in items
        if item.get("type") == "message"
        for part in item.get("content") or ()
        if part.get("type") == "output_text"
    )
    refusal = "".join(
        part.get("refusal", "")
        for item in items
        if item.get("type") == "message"
        for part in item.get("content") or ()
        if part.get("type") == "refusal"
    )
    if text:
        delta["content"] = text
    if refusal:
        delta["refusal"] = refusal
    chunks = [{**base, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}]
    calls = [i for i in items if i.get("type") == "function_call"]
    for index, call in enumerate(calls):
        piece = {
            "index": index,
            "id": call.get("call_id"),
            "type": "function",
            "function": {"name": call.get("name"), "arguments": call.get("arguments") or ""},
        }
        chunks.append(
            {
                **base,
                "choices": [{"index": 0, "delta": {"tool_calls": [piece]}, "finish_reason": None}],
            }
        )
    finish = "tool_calls" if calls else "stop"
    chunks.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]})
    usage = response.get("usage")
    if isinstance(usage, dict):
        chunks.append({**base, "choices": [], "usage": _chat_usage(usage)})
    return chunks


def _chat_usage(usage: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = {
        "prompt_tokens": usage.get("input_tokens") or 0,
        "completion_tokens": usage.get("output_tokens") or 0,
        "total_tokens": usage.get("total_tokens") or 0,
    }
    given = usage.get("input_tokens_details")
    if isinstance(given, dict) and given.get("cached_tokens"):
        found["prompt_tokens_details"] = {"cached_tokens": given["cached_tokens"]}
    spent = usage.get("output_tokens_details")
    if isinstance(spent, dict) and spent.get("reasoning_tokens"):
        found["completion_tokens_details"] = {"reasoning_tokens": spent["reasoning_tokens"]}
    return found


def _sse(api: str, events: list[dict[str, Any]]) -> Iterator[bytes]:
    for event in events:
        head = f"event: {event['type']}\n" if api == "responses" else ""
        yield f"{head}data: {json.dumps(event, ensure_ascii=False)}\n\n".encode()
    if api != "responses":
        yield b"data: [DONE]\n\n"
