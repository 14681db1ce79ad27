"""A local OpenAI-compatible server on loopback that answers each agent from its own script.

The Agents SDK calls models concurrently (an input guardrail's own agent runs beside the
guarded agent's first call), so one script served in arrival order would depend on the
machine's timing. Here every request is routed by its system instructions (the Responses
API's ``instructions``, or the first system message of a Chat Completions request) to that
agent's list of replies — or, when the scripts have a key ``"<instructions> <- <user text>"``,
by the instructions and the request's first user message (two runs of one agent at once,
such as an agent used as a tool twice in one response, each get their own). Both APIs are served, streamed (server-sent events) or not, from
the same scripted answers: a list of Responses API output items and a usage pair.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route


@dataclass(frozen=True)
class Reply:
    """One scripted model answer: Responses API output items, and (input, output) tokens."""

    output: list[dict[str, Any]]
    usage: tuple[int, int]


def text(content: str) -> dict[str, Any]:
    return {"type": "message", "role": "assistant", "text": content}


def call(call_id: str, name: str, arguments: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "type": "function_call",
        "call_id": call_id,
        "name": name,
        "arguments": json.dumps(arguments or {}),
    }


@dataclass
class Received:
    """A request the server answered: which script, the API, the body."""

    script: str
    api: str  # "responses" or "chat"
    body: dict[str, Any]
    usage: tuple[int, int] | None = None  # the reply's tokens: which reply it got


@dataclass
class AgentServer:
    base_url: str
    received: list[Received] = field(default_factory=list)

    def requests_of(self, script: str) -> list[dict[str, Any]]:
        return [r.body for r in self.received if r.script == script]


def instructions_of(api: str, body: dict[str, Any]) -> str:
    if api == "responses":
        return str(body.get("instructions") or "")
    for message in body.get("messages") or ():
        if message.get("role") in ("system", "developer"):
            content = message.get("content")
            return content if isinstance(content, str) else json.dumps(content)
    return ""


def first_user_text(api: str, body: dict[str, Any]) -> str:
    """The text of a request's first user message."""
    given = body.get("input") if api == "responses" else body.get("messages")
    if isinstance(given, str):
        return given
    for message in given or ():
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                return content
            return "".join(p.get("text", "") for p in content or () if isinstance(p, dict))
    return ""


@contextmanager
def agent_server(scripts: dict[str, list[Reply]]) -> Iterator[AgentServer]:
    """Serve ``scripts`` (instructions -> replies in order) on /v1/responses and
    /v1/chat/completions; yields the server's base url and what it received."""
    pending = {key: list(replies) for key, replies in scripts.items()}
    counters = {key: 0 for key in scripts}
    lock = threading.Lock()
    server_state = AgentServer(base_url="")

    async def answer(request: Request, api: str) -> Response:
        body = await request.json()
        key = instructions_of(api, body)
        routed = f"{key} <- {first_user_text(api, body)}"
        key = routed if routed in pending else key
        with lock:
            served = Received(key, api, body)
            server_state.received.append(served)
            queue = pending.get(key)
            if not queue:
                return JSONResponse(
                    {"error": {"message": f"no script left for {key!r}"}},
                    status_code=400,
                    headers={"x-should-retry": "false"},
                )
            reply = queue.pop(0)
            served.usage = reply.usage
            counters[key] += 1
            number = counters[key]
        ident = f"{_slug(key)}-{number}"
        model = str(body.get("model") or "gpt-scripted")
        if api == "responses":
            payload = _response(reply, ident, model)
            payload["instructions"] = body.get("instructions")  # the real API echoes them
            if body.get("stream"):
                return _sse(_response_events(payload))
            return JSONResponse(payload)
        completion = _completion(reply, ident, model)
        if body.get("stream"):
            return _sse(_chunks(completion))
        return JSONResponse(completion)

    async def responses(request: Request) -> Response:
        return await answer(request, "responses")

    async def completions(request: Request) -> Response:
        return await answer(request, "chat")

    app = Starlette(
        routes=[
            Route("/v1/responses", responses, methods=["POST"]),
            Route("/v1/chat/completions", completions, methods=["POST"]),
        ]
    )
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the scripted agent server did not start")
        thread.join(0.01)
    server_state.base_url = f"http://127.0.0.1:{port}/v1"
    try:
        yield server_state
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def _slug(key: str) -> str:
    return "".join(ch for ch in key.lower() if ch.isalnum())[:12] or "none"


def _response(reply: Reply, ident: str, model: str) -> dict[str, Any]:
    output: list[dict[str, Any]] = []
    for position, item in enumerate(reply.output):
        if item["type"] == "message":
            output.append(
                {
                    "type": "message",
                    "id": f"msg_{ident}_{position}",
                    "role": "assistant",
                    "status": "completed",
                    "content": [{"type": "output_text", "text": item["text"], "annotations": []}],
                }
            )
        else:
            output.append(
                {
                    "type": "function_call",
                    "id": f"fc_{ident}_{position}",
                    "call_id": item["call_id"],
                    "name": item["name"],
                    "arguments": item["arguments"],
                    "status": "completed",
                }
            )
    return {
        "id": f"resp_{ident}",
        "object": "response",
        "created_at": 1_700_000_000,
        "model": model,
        "status": "completed",
        "output": output,
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "usage": {
            "input_tokens": reply.usage[0],
            "output_tokens": reply.usage[1],
            "total_tokens": sum(reply.usage),
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens_details": {"reasoning_tokens": 0},
        },
    }


def _response_events(payload: dict[str, Any]) -> list[dict[str, Any]]:
    started = {**payload, "status": "in_progress", "output": []}
    events: list[dict[str, Any]] = [{"type": "response.created", "response": started}]
    for index, item in enumerate(payload["output"]):
        events.append({"type": "response.output_item.added", "output_index": index, "item": item})
        events.append({"type": "response.output_item.done", "output_index": index, "item": item})
    events.append({"type": "response.completed", "response": payload})
    return [{**event, "sequence_number": n} for n, event in enumerate(events)]


def _completion(reply: Reply, ident: str, model: str) -> dict[str, Any]:
    texts = [item["text"] for item in reply.output if item["type"] == "message"]
    calls = [
        {
            "id": item["call_id"],
            "type": "function",
            "function": {"name": item["name"], "arguments": item["arguments"]},
        }
        for item in reply.output
        if item["type"] == "function_call"
    ]
    message: dict[str, Any] = {"role": "assistant", "content": "\n".join(texts) or None}
    if calls:
        message["tool_calls"] = calls
    return {
        "id": f"chatcmpl-{ident}",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": model,
        "choices": [
            {"index": 0, "message": message, "finish_reason": "tool_calls" if calls else "stop"}
        ],
        "usage": {
            "prompt_tokens": reply.usage[0],
            "completion_tokens": reply.usage[1],
            "total_tokens": sum(reply.usage),
        },
    }


def _chunks(completion: dict[str, Any]) -> list[dict[str, Any]]:
    message = completion["choices"][0]["message"]
    base = {k: completion[k] for k in ("id", "created", "model")}
    base["object"] = "chat.completion.chunk"
    delta: dict[str, Any] = {"role": "assistant"}
    if message.get("content"):
        delta["content"] = message["content"]
    chunks = [{**base, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}]
    for index, tool_call in enumerate(message.get("tool_calls") or ()):
        piece = {"index": index, **tool_call}
        chunks.append(
            {
                **base,
                "choices": [{"index": 0, "delta": {"tool_calls": [piece]}, "finish_reason": None}],
            }
        )
    finish = completion["choices"][0]["finish_reason"]
    chunks.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]})
    chunks.append({**base, "choices": [], "usage": completion["usage"]})
    return chunks


def _sse(events: list[dict[str, Any]]) -> StreamingResponse:
    async def body() -> AsyncIterator[bytes]:
        for event in events:
            name = event.get("type")
            head = f"event: {name}\n" if isinstance(name, str) and "." in name else ""
            yield f"{head}data: {json.dumps(event)}\n\n".encode()
        if not any(str(e.get("type", "")).startswith("response.") for e in events):
            yield b"data: [DONE]\n\n"

    return StreamingResponse(body(), media_type="text/event-stream")
