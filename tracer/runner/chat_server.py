"""A small OpenAI-compatible Chat Completions server on 127.0.0.1 that answers from a
responder you give it: scripted answers for tests and demos, recorded answers for
replays. Point any ``openai`` client at ``server.base_url``.

    with ChatServer(ScriptedResponder([completion(content="hi")])) as server:
        client = openai.AsyncOpenAI(base_url=server.base_url, api_key="unused")

A responder gets the request body and returns a completion (a dict, or a
``ModelResponse``), or an ``HTTPReply`` to answer with an error status (to exercise a
client's retries). Bad requests get an OpenAI-style 4xx error and the server keeps
serving.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tracer.runner.models.base import ModelResponse, ToolCall, chat_tool_calls

__all__ = [
    "COMPLETIONS_PATH",
    "DO_NOT_RETRY",
    "ChatServer",
    "HTTPReply",
    "Reply",
    "Responder",
    "ScriptedResponder",
    "completion",
    "completion_from_response",
]

COMPLETIONS_PATH = "/v1/chat/completions"
#: Headers that tell the ``openai`` client not to retry: a scripted or recorded answer
#: that failed fails the same way every time.
DO_NOT_RETRY: Mapping[str, str] = {"x-should-retry": "false"}


@dataclass(frozen=True)
class HTTPReply:
    """An answer with any status: an error body in OpenAI's shape by default.
    ``headers`` such as ``retry-after-ms`` steer the client's retries."""

    status: int
    message: str = "scripted error"
    headers: Mapping[str, str] = field(default_factory=dict)
    body: Mapping[str, Any] | None = None

    def payload(self) -> Mapping[str, Any]:
        if self.body is not None:
            return self.body
        return {"error": {"message": self.message, "type": "server_error", "code": self.status}}


Reply = Mapping[str, Any] | ModelResponse | HTTPReply
Responder = Callable[[dict[str, Any]], Reply]


class ScriptedResponder:
    """Answers requests with ``replies`` in order; when they run out, a 500 that the
    client is told not to retry, saying so."""

    def __init__(self, replies: Iterable[Reply] = ()) -> None:
        self._replies: deque[Reply] = deque(replies)
        self._lock = threading.Lock()

    def add(self, *replies: Reply) -> None:
        with self._lock:
            self._replies.extend(replies)

    @property
    def remaining(self) -> int:
        return len(self._replies)

    def __call__(self, request: dict[str, Any]) -> Reply:
        with self._lock:
            if self._replies:
                return self._replies.popleft()
        return HTTPReply(
            500,
            "the scripted server has no reply left for this request",
            headers=DO_NOT_RETRY,
        )


class ChatServer:
    """Serves ``POST /v1/chat/completions`` on ``host`` (loopback by default) from a
    responder, in a background thread. ``requests`` keeps every request body received."""

    def __init__(self, responder: Responder, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.responder = responder
        self.host = host
        self.requests: list[dict[str, Any]] = []
        self._httpd = ThreadingHTTPServer((host, port), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        """What to give ``openai.AsyncOpenAI(base_url=...)``."""
        return f"http://{self.host}:{self.port}/v1"

    def start(self) -> ChatServer:
        """Serve in a background thread (once); returns the server."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._httpd.serve_forever,
                kwargs={"poll_interval": 0.05},  # how soon `stop` is noticed
                name="baton-chat-server",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join()
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> ChatServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def completion(
    content: str | None = None,
    tool_calls: Sequence[ToolCall] = (),
    *,
    finish_reason: str | None = None,
    model: str = "scripted",
    prompt_tokens: int = 0,
    completion_tokens: int = 0,
    refusal: str | None = None,
    id: str | None = None,
) -> dict[str, Any]:
    """A Chat Completions response body."""
    message: dict[str, Any] = {"role": "assistant", "content": content, "refusal": refusal}
    if tool_calls:
        message["tool_calls"] = chat_tool_calls(tool_calls)
    return {
        "id": id or f"chatcmpl-{uuid.uuid4().hex[:24]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": finish_reason or ("tool_calls" if tool_calls else "stop"),
                "logprobs": None,
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def completion_from_response(response: ModelResponse) -> dict[str, Any]:
    """The Chat Completions body that ``OpenAIChatModel`` reads back as ``response``."""
    return completion(
        response.content,
        response.tool_calls,
        finish_reason=response.finish_reason,
        model=response.model or "scripted",
        prompt_tokens=response.input_tokens,
        completion_tokens=response.output_tokens,
        refusal=response.refusal,
        id=response.response_id,
    )


def _handler_for(server: ChatServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length)
            if self.path.split("?")[0] != COMPLETIONS_PATH:
                self._send(HTTPReply(404, f"no route {self.path}; POST {COMPLETIONS_PATH}"))
                return
            try:
                request = json.loads(raw)
                if not isinstance(request, dict):
                    raise ValueError("the body must be a JSON object")
            except ValueError as exc:
                self._send(HTTPReply(400, f"invalid JSON body: {exc}"))
                return
            if request.get("stream"):
                self._send(HTTPReply(400, "this server does not stream; send stream=false"))
                return
            server.requests.append(request)
            try:
                reply = server.responder(request)
            except Exception as exc:  # a broken responder is the caller's bug: say it, serve on
                reply = HTTPReply(
                    500,
                    f"responder failed: {type(exc).__name__}: {exc}",
                    headers=DO_NOT_RETRY,
                )
            self._send(reply)

        def do_GET(self) -> None:
            self._send(HTTPReply(404, f"no route {self.path}; POST {COMPLETIONS_PATH}"))

        def _send(self, reply: Reply) -> None:
            status, headers = 200, {}
            if isinstance(reply, HTTPReply):
                status, headers, payload = reply.status, dict(reply.headers), reply.payload()
            elif isinstance(reply, ModelResponse):
                payload = completion_from_response(reply)
            else:
                payload = reply
            body = json.dumps(payload).encode()
            try:
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # the client gave up waiting (its timeout)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet: tests and demos read the requests from `server.requests`

    return Handler
