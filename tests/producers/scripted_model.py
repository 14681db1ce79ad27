"""A scripted OpenAI-compatible Chat Completions server on 127.0.0.1 for recording other
frameworks' spans (stdlib only, so it runs beside any framework).

Each agent's system prompt carries a marker ``[agent:<Name>]``; the server answers a
request with the next scripted reply of the agent whose marker it finds, and logs every
answer. That log is the producer-independent truth the fixture tests compare against:
which agent each model call was for, what it answered (tool calls or text), the tokens.
Streaming (``stream: true``) is answered as Server-Sent Events, with usage in the last
chunk when ``stream_options.include_usage`` asks for it. The Responses API
(``/v1/responses``: the agent's marker in ``instructions``) is answered from the same
scripts, streamed or not.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections import deque
from collections.abc import Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MARKER = re.compile(r"\[agent:([A-Za-z0-9_\- ]+?)\]")
MODEL = "gpt-scripted"


def marker(agent: str) -> str:
    """The text an agent's instructions must contain for the server to recognise it."""
    return f"[agent:{agent}]"


class ScriptedModel:
    """Per-agent queues of replies; ``log`` is every answer given, in order.

    A step is ``{"tool_calls": [{"name": ..., "arguments": {...}}]}`` or
    ``{"text": ...}``. An agent asked more often than scripted answers ``"(done)"``.
    """

    def __init__(self, script: Mapping[str, Sequence[Mapping[str, Any]]]) -> None:
        self._queues = {agent: deque(steps) for agent, steps in script.items()}
        self._lock = threading.Lock()
        self.log: list[dict[str, Any]] = []
        #: What every request answered asked (``messages``; a Responses request's
        #: ``instructions`` and ``input``), in the order of ``log``.
        self.requests: list[dict[str, Any]] = []

    def answer(self, body: Mapping[str, Any]) -> dict[str, Any]:
        agent = _agent_of(body)
        if os.environ.get("BATON_DUMP_REQUESTS"):  # for writing a new script: what was asked
            with open(os.environ["BATON_DUMP_REQUESTS"], "a", encoding="utf-8") as dump:
                dump.write(json.dumps(body) + "\n")
        with self._lock:
            queue = self._queues.get(agent or "")
            step = dict(queue.popleft()) if queue else {"text": "(done)"}
            turn = len(self.log) + 1
            usage = (100 + turn, 10 + turn)
            # A stream that asks for no usage gets none: the framework never sees tokens.
            options = body.get("stream_options") or {}
            responses = "input" in body and "messages" not in body  # the Responses API
            sends_usage = responses or not body.get("stream") or bool(options.get("include_usage"))
            calls = [
                {
                    "id": f"call_{turn}_{i}",
                    "name": call["name"],
                    "arguments": json.dumps(call.get("arguments", {})),
                }
                for i, call in enumerate(step.get("tool_calls", ()))
            ]
            entry = {
                "turn": turn,
                "agent": agent,
                "stream": bool(body.get("stream")),
                "text": step.get("text") if not calls else None,
                "tool_calls": calls,
                "input_tokens": usage[0] if sends_usage else None,
                "output_tokens": usage[1] if sends_usage else None,
                "n_messages": _count(body.get("messages") or body.get("input")),
                "handoff": step.get("handoff"),
                "agent_tool": step.get("agent_tool"),
            }
            self.log.append(entry)
            asked = ("instructions", "input") if responses else ("messages",)
            self.requests.append({key: body.get(key) for key in asked})
        return entry

    def unused(self) -> dict[str, int]:
        """Agents with scripted replies nobody asked for (a workflow that went wrong)."""
        return {agent: len(q) for agent, q in self._queues.items() if q}


def _agent_of(body: Mapping[str, Any]) -> str | None:
    # The first marker in the system/developer messages names the agent asked; frameworks
    # that fold instructions into the first user message are covered by the fallback.
    given = body.get("messages") or body.get("input") or ()
    messages = [m for m in (given if isinstance(given, list) else ()) if isinstance(m, Mapping)]
    ordered = [m for m in messages if m.get("role") in ("system", "developer")] + messages
    found = MARKER.search(_text(body.get("instructions")))  # a Responses request's
    if found:
        return found.group(1)
    for message in ordered:
        found = MARKER.search(_text(message.get("content")))
        if found:
            return found.group(1)
    return None


def _count(messages: Any) -> int:
    # A Responses request's input may be one text.
    return len(messages) if isinstance(messages, list) else int(bool(messages))


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(str(part.get("text", "")) for part in content if isinstance(part, Mapping))
    return ""


def _message(entry: Mapping[str, Any]) -> dict[str, Any]:
    calls = [
        {
            "id": c["id"],
            "type": "function",
            "function": {"name": c["name"], "arguments": c["arguments"]},
        }
        for c in entry["tool_calls"]
    ]
    message: dict[str, Any] = {"role": "assistant", "content": entry["text"]}
    if calls:
        message["tool_calls"] = calls
    return message


def _usage(entry: Mapping[str, Any]) -> dict[str, int]:
    return {
        "prompt_tokens": entry["input_tokens"],
        "completion_tokens": entry["output_tokens"],
        "total_tokens": (entry["input_tokens"] or 0) + (entry["output_tokens"] or 0),
    }


def _finish(entry: Mapping[str, Any]) -> str:
    return "tool_calls" if entry["tool_calls"] else "stop"


def completion(entry: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-{entry['turn']}",
        "object": "chat.completion",
        "created": 1_700_000_000 + entry["turn"],
        "model": MODEL,
        "choices": [{"index": 0, "message": _message(entry), "finish_reason": _finish(entry)}],
        "usage": _usage(entry),
    }


def chunks(entry: Mapping[str, Any], include_usage: bool) -> list[dict[str, Any]]:
    base = {
        "id": f"chatcmpl-{entry['turn']}",
        "object": "chat.completion.chunk",
        "created": 1_700_000_000 + entry["turn"],
        "model": MODEL,
    }
    deltas: list[dict[str, Any]] = [{"role": "assistant", "content": ""}]
    if entry["text"]:
        deltas.append({"content": entry["text"]})
    for i, call in enumerate(entry["tool_calls"]):
        deltas.append(
            {
                "tool_calls": [
                    {
                        "index": i,
                        "id": call["id"],
                        "type": "function",
                        "function": {"name": call["name"], "arguments": call["arguments"]},
                    }
                ]
            }
        )
    out = [{**base, "choices": [{"index": 0, "delta": d, "finish_reason": None}]} for d in deltas]
    out.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": _finish(entry)}]})
    if include_usage:
        out.append({**base, "choices": [], "usage": _usage(entry)})
    return out


def response(entry: Mapping[str, Any], body: Mapping[str, Any]) -> dict[str, Any]:
    """A Responses API answer: its output items and usage; like the API, it repeats the
    request's instructions."""
    turn = entry["turn"]
    output: list[dict[str, Any]] = [
        {
            "type": "function_call",
            "id": f"fc_{turn}_{i}",
            "call_id": call["id"],
            "name": call["name"],
            "arguments": call["arguments"],
            "status": "completed",
        }
        for i, call in enumerate(entry["tool_calls"])
    ]
    if entry["text"]:
        text = {"type": "output_text", "text": entry["text"], "annotations": []}
        output.append(
            {
                "type": "message",
                "id": f"msg_{turn}",
                "role": "assistant",
                "status": "completed",
                "content": [text],
            }
        )
    return {
        "id": f"resp_{turn}",
        "object": "response",
        "created_at": 1_700_000_000 + turn,
        "model": MODEL,
        "status": "completed",
        "instructions": body.get("instructions"),
        "output": output,
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "usage": {
            "input_tokens": entry["input_tokens"],
            "output_tokens": entry["output_tokens"],
            "total_tokens": entry["input_tokens"] + entry["output_tokens"],
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens_details": {"reasoning_tokens": 0},
        },
    }


def response_events(payload: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A streamed Responses API answer: created, each item added and done, completed."""
    events: list[dict[str, Any]] = [
        {"type": "response.created", "response": {**payload, "status": "in_progress", "output": []}}
    ]
    for index, item in enumerate(payload["output"]):
        events.append({"type": "response.output_item.added", "output_index": index, "item": item})
        events.append({"type": "response.output_item.done", "output_index": index, "item": item})
    events.append({"type": "response.completed", "response": payload})
    return [{**event, "sequence_number": n} for n, event in enumerate(events)]


class ModelServer:
    """``ScriptedModel`` served over HTTP on 127.0.0.1 (``base_url`` ends in ``/v1``)."""

    def __init__(self, model: ScriptedModel) -> None:
        self.model = model
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(model))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> ModelServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def read_body(handler: BaseHTTPRequestHandler) -> bytes:
    """A request's body, sent with a length or chunked."""
    if "chunked" not in (handler.headers.get("transfer-encoding") or "").lower():
        return handler.rfile.read(int(handler.headers.get("content-length") or 0))
    body = b""
    while True:
        size = int(handler.rfile.readline().split(b";")[0].strip() or b"0", 16)
        if size == 0:
            handler.rfile.readline()
            return body
        body += handler.rfile.read(size)
        handler.rfile.readline()


def _handler(model: ScriptedModel) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # http.server writes an answer's headers and body apart: with Nagle's algorithm on,
        # each answer would wait ~40 ms for a delayed ACK
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def do_GET(self) -> None:  # some clients list models first
            self._json(200, {"object": "list", "data": [{"id": MODEL, "object": "model"}]})

        def do_POST(self) -> None:
            body = json.loads(read_body(self) or b"{}")
            path = self.path.rstrip("/")
            if path.endswith("/responses"):
                entry = model.answer(body)
                if not body.get("stream"):
                    self._json(200, response(entry, body))
                    return
                events = response_events(response(entry, body))
                data = "".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in events)
                self._events(data)
                return
            if not path.endswith("/chat/completions"):
                self._json(404, {"error": {"message": f"no such path {self.path}"}})
                return
            entry = model.answer(body)
            if not body.get("stream"):
                self._json(200, completion(entry))
                return
            options = body.get("stream_options") or {}
            events = chunks(entry, bool(options.get("include_usage")))
            data = "".join(f"data: {json.dumps(e)}\n\n" for e in events) + "data: [DONE]\n\n"
            self._events(data)

        def _events(self, data: str) -> None:
            raw = data.encode()
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
            self.send_header("content-length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def _json(self, status: int, document: Any) -> None:
            raw = json.dumps(document).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

    return Handler
