"""OpenTelemetry GenAI semantic conventions: baton's own spans, and any producer that
follows the conventions (``gen_ai.operation.name``) without a dialect of its own."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from tracer.capture.dialects.base import (
    ChatMessages,
    Normalised,
    SpanView,
    decode_json,
    int_or_none,
    text_or_none,
)
from tracer.capture.dialects.transfers import transfer_target

BATON_SCOPE = "baton"

_OPS = {
    "invoke_workflow": "workflow",
    "invoke_agent": "agent",
    "create_agent": "agent",
    "chat": "chat",
    "text_completion": "chat",
    "generate_content": "chat",
    "execute_tool": "tool",
}
_TRANSFER_OPS = {"pass_control": "handoff", "return_to_caller": "agent_tool"}


def normalise(span: SpanView) -> Normalised | None:
    attrs = span.attributes
    operation = attrs.get("gen_ai.operation.name")
    op = _OPS.get(operation) if isinstance(operation, str) else None
    if op is None:
        return None
    found = Normalised(
        op=op,
        source="baton" if span.scope == BATON_SCOPE else "otel_genai",
        conversation_id=text_or_none(attrs.get("gen_ai.conversation.id")),
        error_type=text_or_none(attrs.get("error.type")),
    )
    if op == "agent":
        found.agent_name = text_or_none(attrs.get("gen_ai.agent.name"))
    elif op == "chat":
        found.model = text_or_none(
            attrs.get("gen_ai.response.model") or attrs.get("gen_ai.request.model")
        )
        found.input_tokens = int_or_none(attrs.get("gen_ai.usage.input_tokens"))
        found.output_tokens = int_or_none(attrs.get("gen_ai.usage.output_tokens"))
        found.final_answer = final_answer(attrs)
    elif op == "tool":
        mode = attrs.get("gen_ai.transfer.mode")
        found.op = _TRANSFER_OPS.get(mode, "tool") if isinstance(mode, str) else "tool"
        found.tool_name = text_or_none(attrs.get("gen_ai.tool.name"))
        found.to_agent = text_or_none(attrs.get("gen_ai.transfer.target.name"))
        found.tool_call_id = text_or_none(attrs.get("gen_ai.tool.call.id"))
        found.tool_arguments = text_or_none(attrs.get("gen_ai.tool.call.arguments"))
        found.tool_result = text_or_none(attrs.get("gen_ai.tool.call.result"))
        # The generic rule is for producers that mark no transfers; baton's runner marks
        # every one, and a failed call (an unknown tool) transferred nothing.
        if (
            found.op == "tool"
            and span.scope != BATON_SCOPE
            and "gen_ai.transfer.mode" not in attrs
            and found.error_type is None
        ):
            target = transfer_target(found.tool_name, found.tool_arguments)
            if target is not None:
                found.op, found.to_agent = "handoff", target
    return found


#: Finish reasons producers write for "the model asked for tools" (OpenAI, the GenAI
#: conventions, the Vercel AI SDK). Some write ``stop`` even then, so the output wins.
_TOOL_REASONS = frozenset({"tool_calls", "tool_call", "tool-calls", "function_call"})


def final_answer(attrs: Mapping[str, Any]) -> bool | None:
    """Whether a model call ended its run: False when its output messages hold a tool
    call, True when they hold none; without recorded output, from the finish reasons."""
    output = decode_json(attrs.get("gen_ai.output.messages"))  # None when cut or absent
    # ``type(x) is dict`` before ``isinstance(x, Mapping)``: the same answer for a dict
    # (what JSON decodes to), without the ABC check, for every model call stored.
    if type(output) is dict or (type(output) is not list and isinstance(output, Mapping)):
        output = [output]
    if isinstance(output, list) and output:
        for message in output:
            if not (
                (type(message) is dict or isinstance(message, Mapping))
                and isinstance(message.get("parts"), list)
            ):
                break
        else:
            for message in output:
                for part in message.get("parts") or ():
                    is_mapping = type(part) is dict or isinstance(part, Mapping)
                    if is_mapping and part.get("type") == "tool_call":
                        return False
            return True
    reasons = attrs.get("gen_ai.response.finish_reasons")
    if not reasons:
        return None
    reasons = [reasons] if isinstance(reasons, str) else reasons
    return not any(str(reason) in _TOOL_REASONS for reason in reasons)


def messages(attributes: Mapping[str, Any]) -> ChatMessages:
    """A chat span's ``gen_ai.input.messages``, ``gen_ai.output.messages`` and
    ``gen_ai.system_instructions`` (already in the parts format). A value that is not valid
    JSON (cut by the store's size limit) comes back as one message holding the raw text."""
    return ChatMessages(
        input=_json_list(attributes.get("gen_ai.input.messages")),
        output=_json_list(attributes.get("gen_ai.output.messages")),
        system=_json_list(attributes.get("gen_ai.system_instructions")),
    )


def _json_list(value: Any) -> list[Any] | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return [{"role": "unknown", "parts": [{"type": "text", "content": value}]}]
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list):
        return value
    return [{"role": "unknown", "parts": [{"type": "text", "content": str(value)}]}]
