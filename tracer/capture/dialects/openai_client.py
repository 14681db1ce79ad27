"""Model calls made with the plain ``openai`` client, recorded by OpenInference's OpenAI
instrumentation (``openinference-instrumentation-openai``): OpenAI Swarm, and hand-written
Swarm-style loops. Nothing records the tools such a loop runs, so a transfer exists only
as a ``transfer_to_<agent>``-style tool call in the model's output (the generic rule,
``transfers``); each becomes a handoff span under the call.

The agent of a call is read from its request: the target of the last transfer carried
out in its history (Swarm's transfer result ``{"assistant": "<agent>"}``, or a
``transfer_to_<agent>``-style call answered by a tool message, as a hand-written loop
leaves it), else the ``sender`` Swarm writes on the last assistant message. A sender is
only believed before the first transfer: streamed, Swarm 0.1.1 stamps every message with
the run's first agent.

The first call of a run names no agent at all. A later call does: its history holds the
first call's output with its ``sender``, and its own instructions and tools are those
of its agent. So a call without an agent states keys (``baton.agent_keys``: the id of
its first tool call, the digest of its instructions and tools) and every call states
the agents it knows by key (``baton.agent_claims``); resolution gives an agentless call
the agent a call of its trace claims for one of its keys (``tracer.store.resolve_claims``).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

from tracer.capture.dialects import openinference
from tracer.capture.dialects.base import Normalised, SpanView, decode_json
from tracer.capture.dialects.transfers import transfer_target

SOURCE = "openai_client"
SCOPE = "openinference.instrumentation.openai"
_CALL = re.compile(r"llm\.output_messages\.(\d+)\.message\.tool_calls\.(\d+)\.tool_call\.(.+)")


def normalise(span: SpanView) -> Normalised | None:
    if span.scope != SCOPE:
        return None
    found = openinference.normalise(span)
    if found is None or found.op != "chat":
        return found
    found.source = SOURCE
    attrs = span.attributes
    request = decode_json(attrs.get("input.value"))
    raw = request.get("messages") if isinstance(request, Mapping) else None
    messages = [m for m in raw if isinstance(m, Mapping)] if isinstance(raw, list) else []
    calls = _output_calls(attrs)
    found.agent_name = _agent_of(messages)
    found.transfers = tuple(
        (name, call_id, target)
        for name, arguments, call_id in calls
        if (target := transfer_target(name, arguments)) is not None
    )
    signature = _signature(messages, request)
    claims = _sender_claims(messages)
    if found.agent_name is not None:
        claims[signature] = found.agent_name
    else:
        keys = [f"call:{calls[0][2]}"] if calls and calls[0][2] else []
        found.agent_keys = (*keys, signature)
    found.agent_claims = tuple(claims.items())
    return found


def _agent_of(messages: list[Mapping[str, Any]]) -> str | None:
    """The agent the history hands the call to (see the module's docstring)."""
    sender: str | None = None
    transferred: str | None = None
    asked: dict[str, str] = {}  # transfer call id -> target, until its result is seen
    for message in messages:
        role = message.get("role")
        if role == "assistant":
            if isinstance(message.get("sender"), str) and message["sender"]:
                sender = message["sender"]
            for call_id, target in _transfers_asked(message):
                asked[call_id] = target
        elif role == "tool":
            result = decode_json(message.get("content"))
            if isinstance(result, Mapping) and isinstance(result.get("assistant"), str):
                transferred = result["assistant"]
            elif isinstance(message.get("tool_call_id"), str) and message["tool_call_id"] in asked:
                transferred = asked[message["tool_call_id"]]
    return transferred or sender


def _transfers_asked(message: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``(call id, target)`` of the transfer calls an assistant message of the history made."""
    calls = message.get("tool_calls")
    found: list[tuple[str, str]] = []
    for call in calls if isinstance(calls, list) else ():
        function = call.get("function") if isinstance(call, Mapping) else None
        if not isinstance(function, Mapping) or not isinstance(call.get("id"), str):
            continue
        name = function.get("name")
        target = transfer_target(name if isinstance(name, str) else None, function.get("arguments"))
        if target is not None:
            found.append((call["id"], target))
    return found


def _sender_claims(messages: list[Mapping[str, Any]]) -> dict[str, str]:
    """``call:<id>`` -> sender for the assistant messages of the history before its first
    transfer result (the senders Swarm gets right streamed too), by their first tool call."""
    claims: dict[str, str] = {}
    for message in messages:
        if message.get("role") == "tool":
            result = decode_json(message.get("content"))
            if isinstance(result, Mapping) and "assistant" in result:
                break
            continue
        sender, calls = message.get("sender"), message.get("tool_calls")
        if message.get("role") != "assistant" or not isinstance(sender, str) or not sender:
            continue
        first = calls[0] if isinstance(calls, list) and calls else None
        if isinstance(first, Mapping) and isinstance(first.get("id"), str) and first["id"]:
            claims[f"call:{first['id']}"] = sender
    return claims


def _signature(messages: list[Mapping[str, Any]], request: Any) -> str:
    """``prompt:<digest>`` of a call's system messages and tool names: what an agent of a
    Swarm-style loop is made of, the same on each of its calls."""
    system = [m.get("content") for m in messages if m.get("role") in ("system", "developer")]
    tools = request.get("tools") if isinstance(request, Mapping) else None
    names = sorted(
        str(tool["function"].get("name"))
        for tool in (tools if isinstance(tools, list) else ())
        if isinstance(tool, Mapping) and isinstance(tool.get("function"), Mapping)
    )
    text = json.dumps([system, names], sort_keys=True, default=str)
    return "prompt:" + hashlib.sha256(text.encode()).hexdigest()[:16]


def _output_calls(attrs: Mapping[str, Any]) -> list[tuple[str, str | None, str]]:
    """``(name, arguments, id)`` of the output's tool calls, in order."""
    calls: dict[tuple[int, int], dict[str, Any]] = {}
    for key, value in attrs.items():
        match = _CALL.fullmatch(key)
        if match is not None:
            message, position, field = match.groups()
            calls.setdefault((int(message), int(position)), {})[field] = value
    return [
        (str(call.get("function.name")), call.get("function.arguments"), str(call.get("id")))
        for _, call in sorted(calls.items())
        if call.get("function.name")
    ]
