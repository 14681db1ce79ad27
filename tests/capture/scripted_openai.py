"""A local OpenAI-compatible server on loopback that answers Chat Completions requests
from a script, for tests that use the real ``openai`` client over HTTP."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


def tool_call_reply(
    call_id: str, name: str, arguments: dict[str, Any], usage: tuple[int, int]
) -> dict[str, Any]:
    message = {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": call_id,
                "type": "function",
                "function": {"name": name, "arguments": json.dumps(arguments)},
            }
        ],
    }
    return _completion(message, "tool_calls", usage)


def text_reply(text: str, usage: tuple[int, int]) -> dict[str, Any]:
    return _completion({"role": "assistant", "content": text}, "stop", usage)


def _completion(message: dict[str, Any], finish: str, usage: tuple[int, int]) -> dict[str, Any]:
    return {
        "id": "chatcmpl-scripted",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": "gpt-scripted",
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": {
            "prompt_tokens": usage[0],
            "completion_tokens": usage[1],
            "total_tokens": sum(usage),
        },
    }


def response_reply(output: list[dict[str, Any]], usage: tuple[int, int]) -> dict[str, Any]:
    """A Responses API answer with ``output`` items."""
    return {
        "id": "resp_scripted",
        "object": "response",
        "created_at": 1_700_000_000,
        "model": "gpt-scripted-responses",
        "status": "completed",
        "output": output,
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "usage": {
            "input_tokens": usage[0],
            "output_tokens": usage[1],
            "total_tokens": sum(usage),
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens_details": {"reasoning_tokens": 0},
        },
    }


def function_call_item(call_id: str, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "function_call",
        "id": f"fc_{call_id}",
        "call_id": call_id,
        "name": name,
        "arguments": json.dumps(arguments),
        "status": "completed",
    }


def message_item(text: str) -> dict[str, Any]:
    return {
        "type": "message",
        "id": "msg_scripted",
        "role": "assistant",
        "status": "completed",
        "content": [{"type": "output_text", "text": text, "annotations": []}],
    }


@contextmanager
def scripted_openai(replies: list[dict[str, Any]]) -> Iterator[tuple[str, list[Any]]]:
    """Serve ``replies`` in order on both /v1/chat/completions and /v1/responses;
    yields (base_url, the request bodies received)."""
    received: list[Any] = []
    pending = list(replies)

    async def completions(request: Request) -> JSONResponse:
        received.append(await request.json())
        if not pending:
            return JSONResponse({"error": {"message": "script exhausted"}}, status_code=500)
        return JSONResponse(pending.pop(0))

    app = Starlette(
        routes=[
            Route("/v1/chat/completions", completions, methods=["POST"]),
            Route("/v1/responses", completions, methods=["POST"]),
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
            raise RuntimeError("the scripted OpenAI server did not start")
        thread.join(0.01)
    try:
        yield f"http://127.0.0.1:{port}/v1", received
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
