"""Logfire-style spans (Pydantic Logfire's Agents SDK integration, or anything that names
a transfer ``Handoff: A → B``): the message template in ``logfire.msg_template``, the
formatted text in ``logfire.msg`` or the span name, the span data's fields as plain
attributes (``name``, ``from_agent``, ``to_agent``, ``input``, ``output``)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from tracer.capture.dialects.base import (
    Normalised,
    SpanView,
    decode_json,
    int_or_none,
    text_or_none,
)
from tracer.capture.dialects.openai_agents import function_calls

SOURCE = "logfire"
_HANDOFF = re.compile(r"Handoff:\s*(?P<src>.+?)\s*(?:→|->)\s*(?P<dst>.+?)\s*$")
_AGENT = re.compile(r"Agent run:\s*(?P<q>['\"]?)(?P<name>.+?)(?P=q)\s*$")


def normalise(span: SpanView) -> Normalised | None:
    attrs = span.attributes
    template = attrs.get("logfire.msg_template")
    text = str(attrs.get("logfire.msg") or span.name)
    if not isinstance(template, str):
        if not span.name.startswith("Handoff:"):
            return None
        template = span.name
    found = Normalised(
        source=SOURCE,
        # The Agents SDK trace's group_id is its conversation, as the SDK's own spans say.
        conversation_id=text_or_none(attrs.get("gen_ai.conversation.id") or attrs.get("group_id")),
        error_type=text_or_none(attrs.get("error.type")),
    )
    if template.startswith("OpenAI Agents trace"):
        found.op = "workflow"
    elif template.startswith("Handoff:"):
        parsed = _HANDOFF.match(text)
        found.op = "handoff"
        found.from_agent = text_or_none(attrs.get("from_agent")) or (
            parsed.group("src") if parsed else None
        )
        found.to_agent = text_or_none(attrs.get("to_agent")) or (
            parsed.group("dst") if parsed else None
        )
    elif template.startswith("Agent run:"):
        parsed = _AGENT.match(text)
        found.op = "agent"
        found.agent_name = text_or_none(attrs.get("name")) or (
            parsed.group("name") if parsed else None
        )
    elif template.startswith("Function:"):
        found.op = "tool"
        found.tool_name = text_or_none(attrs.get("name")) or text.partition(":")[2].strip()
        found.tool_arguments = text_or_none(attrs.get("input"))
        found.tool_result = text_or_none(attrs.get("output"))
    elif template.startswith(("Chat completion", "Responses API")):
        _fill_model_call(found, attrs)
    elif template.startswith("Guardrail"):
        found.op = "guardrail"
    return found


def _fill_model_call(found: Normalised, attrs: Mapping[str, Any]) -> None:
    found.op = "chat"
    found.model = text_or_none(
        attrs.get("gen_ai.response.model") or attrs.get("gen_ai.request.model")
    )
    found.input_tokens = int_or_none(attrs.get("gen_ai.usage.input_tokens"))
    found.output_tokens = int_or_none(attrs.get("gen_ai.usage.output_tokens"))
    output = decode_json(attrs.get("output", attrs.get("response")))
    if output is not None:
        found.final_answer = not function_calls(output)
