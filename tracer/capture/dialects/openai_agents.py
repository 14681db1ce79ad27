"""The OpenAI Agents SDK's own span data, as ``tracer.capture.sdk_spans`` lays it out
(``openai_agents.type`` plus ``openai_agents.data.*``): what the live processor
``tracer.capture.agents_sdk`` records and ``baton import`` reads from SDK export files."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tracer.capture.dialects.base import (
    Normalised,
    SpanView,
    decode_json,
    int_or_none,
    text_or_none,
)

SOURCE = "openai_agents"
TYPE = "openai_agents.type"
_DATA = "openai_agents.data."
_OPS = {
    "trace": "workflow",
    "agent": "agent",
    "handoff": "handoff",
    "function": "tool",
    "generation": "chat",
    "response": "chat",
    "guardrail": "guardrail",
}


def normalise(span: SpanView) -> Normalised | None:
    attrs = span.attributes
    kind = attrs.get(TYPE)
    if not isinstance(kind, str):
        return None
    found = Normalised(
        op=_OPS.get(kind, "other"),
        source=SOURCE,
        # A trace's group id, else the conversation of a ``tracer.record`` block, else
        # the run's SDK ``Session`` (so a session's runs are one conversation).
        conversation_id=text_or_none(
            attrs.get("openai_agents.group_id")
            or attrs.get("gen_ai.conversation.id")
            or attrs.get("openai_agents.run.session_id")
        ),
        error_type=text_or_none(attrs.get("openai_agents.error.message")),
    )
    if kind == "agent":
        found.agent_name = text_or_none(attrs.get(_DATA + "name"))
    elif kind == "handoff":
        found.from_agent = text_or_none(attrs.get(_DATA + "from_agent"))
        found.to_agent = text_or_none(attrs.get(_DATA + "to_agent"))
    elif kind == "function":
        found.tool_name = text_or_none(attrs.get(_DATA + "name"))
        found.tool_arguments = text_or_none(attrs.get(_DATA + "input"))
        found.tool_result = text_or_none(attrs.get(_DATA + "output"))
        found.tool_call_id = text_or_none(attrs.get("openai_agents.tool_call_id"))
    elif kind in ("generation", "response"):
        _fill_model_call(found, attrs)
    return found


def _fill_model_call(found: Normalised, attrs: Mapping[str, Any]) -> None:
    found.model = text_or_none(attrs.get(_DATA + "model"))
    usage = decode_json(attrs.get(_DATA + "usage"))
    if isinstance(usage, Mapping):
        found.input_tokens = int_or_none(usage.get("input_tokens", usage.get("prompt_tokens")))
        found.output_tokens = int_or_none(
            usage.get("output_tokens", usage.get("completion_tokens"))
        )
    output = decode_json(attrs.get(_DATA + "output"))
    if output is not None:
        found.final_answer = not function_calls(output)


def function_calls(output: Any, depth: int = 0) -> list[tuple[str, str, str]]:
    """``(name, arguments, call_id)`` of the function calls in a model output, in order.

    Reads both shapes the SDK records: Responses output items (``type=function_call``)
    and Chat Completions messages (``tool_calls``)."""
    found: list[tuple[str, str, str]] = []
    if depth > 6:
        return found
    if isinstance(output, Mapping):
        if output.get("type") == "function_call" and output.get("call_id"):
            found.append(
                (
                    str(output.get("name")),
                    str(output.get("arguments") or ""),
                    str(output["call_id"]),
                )
            )
            return found
        calls = output.get("tool_calls")
        if isinstance(calls, list):
            for call in calls:
                function = call.get("function") if isinstance(call, Mapping) else None
                if isinstance(function, Mapping) and call.get("id"):
                    found.append(
                        (
                            str(function.get("name")),
                            str(function.get("arguments") or ""),
                            str(call["id"]),
                        )
                    )
        for key, value in output.items():
            if key != "tool_calls" and isinstance(value, (list, Mapping)):
                found.extend(function_calls(value, depth + 1))
    elif isinstance(output, list):
        for item in output:
            found.extend(function_calls(item, depth + 1))
    return found
