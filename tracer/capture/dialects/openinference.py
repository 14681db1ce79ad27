"""OpenInference (Arize Phoenix), e.g. ``openinference-instrumentation-openai-agents``:
``openinference.span.kind`` AGENT/TOOL/LLM/CHAIN/GUARDRAIL, flattened ``llm.*``,
``tool.*``, ``input.value``/``output.value``; a handoff is a TOOL span named
``handoff to <agent>`` (from the agent in ``input.value``), and agents carry
``graph.node.id`` / ``graph.node.parent_id``."""

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
from tracer.capture.dialects.transfers import transfer_target

SOURCE = "openinference"
KIND = "openinference.span.kind"
_HANDOFF_PREFIX = "handoff to "
_OPS = {"AGENT": "agent", "TOOL": "tool", "LLM": "chat", "GUARDRAIL": "guardrail"}


def normalise(span: SpanView) -> Normalised | None:
    attrs = span.attributes
    kind = attrs.get(KIND)
    if not isinstance(kind, str):
        return None
    kind = kind.upper()
    found = Normalised(
        op=_OPS.get(kind, "other"),
        source=SOURCE,
        conversation_id=text_or_none(
            attrs.get("session.id") or attrs.get("gen_ai.conversation.id")
        ),
    )
    if kind == "AGENT":
        name = attrs.get("agent.name") or attrs.get("graph.node.id")
        if name:
            found.agent_name = text_or_none(name)
        else:  # the instrumentation's span for the whole trace names no agent
            found.op = "workflow"
    elif kind == "TOOL":
        if span.name.startswith(_HANDOFF_PREFIX):
            # Python's instrumentation writes the agents as plain text; the TypeScript one
            # as JSON ({"from_agent": ...}, {"to_agent": ...}), with a tool.name too.
            found.op = "handoff"
            found.tool_name = text_or_none(attrs.get("tool.name"))
            found.to_agent = (
                _agent_field(attrs.get("output.value"), "to_agent")
                or (span.name[len(_HANDOFF_PREFIX) :])
            )
            found.from_agent = _agent_field(attrs.get("input.value"), "from_agent")
        else:
            found.tool_name = text_or_none(attrs.get("tool.name")) or span.name
            found.tool_arguments = text_or_none(attrs.get("input.value"))
            found.tool_result = text_or_none(attrs.get("output.value"))
            found.tool_call_id = text_or_none(attrs.get("tool_call.id") or attrs.get("tool.id"))
            target = transfer_target(found.tool_name, found.tool_arguments)
            if target is not None:
                found.op, found.to_agent = "handoff", target
    elif kind == "LLM":
        found.model = text_or_none(attrs.get("llm.model_name"))
        found.input_tokens = int_or_none(attrs.get("llm.token_count.prompt"))
        found.output_tokens = int_or_none(attrs.get("llm.token_count.completion"))
        found.final_answer = _final_answer(attrs)
    return found


def _agent_field(value: Any, field: str) -> str | None:
    decoded = decode_json(value, otherwise=value)
    if isinstance(decoded, Mapping):
        return text_or_none(decoded.get(field))
    return text_or_none(decoded) if decoded else None


def _final_answer(attrs: Mapping[str, Any]) -> bool | None:
    """False when the output messages hold tool calls, True when they hold none,
    None when the producer recorded no output."""
    keys = [key for key in attrs if key.startswith("llm.output_messages.")]
    if not keys:
        return None
    return not any(".message.tool_calls." in key for key in keys)
