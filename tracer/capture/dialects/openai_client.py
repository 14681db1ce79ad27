"""Model calls made with the plain ``openai`` client, recorded by OpenInference's OpenAI
instrumentation (``openinference-instrumentation-openai``): OpenAI Swarm, and hand-written
Swarm-style loops. Nothing records the tools such a loop runs, so a transfer exists only
as a ``transfer_to_<agent>``-style tool call in the model's output (the generic rule,
``transfers``); each becomes a handoff span under the call.

The agent of a call is read from its request, as Swarm writes it: the last transfer
result before it (``{"assistant": "<agent>"}``), else the ``sender`` of the last assistant
message. The first call of a run has neither, and so no agent.
"""

from __future__ import annotations

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
    found.agent_name = _agent_of(decode_json(attrs.get("input.value")))
    found.transfers = tuple(
        (name, call_id, target)
        for name, arguments, call_id in _output_calls(attrs)
        if (target := transfer_target(name, arguments)) is not None
    )
    return found


def _agent_of(request: Any) -> str | None:
    messages = request.get("messages") if isinstance(request, Mapping) else None
    agent: str | None = None
    for message in messages if isinstance(messages, list) else ():
        if not isinstance(message, Mapping):
            continue
        if message.get("role") == "assistant" and isinstance(message.get("sender"), str):
            agent = message["sender"]
        elif message.get("role") == "tool":
            result = decode_json(message.get("content"))
            if isinstance(result, Mapping) and isinstance(result.get("assistant"), str):
                agent = result["assistant"]
    return agent


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
