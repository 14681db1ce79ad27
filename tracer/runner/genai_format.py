"""Messages in the OpenTelemetry GenAI semantic conventions' JSON "parts" format, as
recorded on ``chat`` spans (``gen_ai.input.messages``, ``gen_ai.output.messages``,
``gen_ai.system_instructions``), and back: a recorded ``chat`` span's attributes give
the exact ``ModelResponse`` again, so a recorded run can be re-served offline.

Tool-call ``arguments`` are kept as the text the model sent, not parsed: that keeps the
record exact even when the model sent something that is not JSON.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from tracer.capture.dialects.parts import message_parts
from tracer.runner.models.base import Message, ModelResponse, ToolCall

INPUT_MESSAGES = "gen_ai.input.messages"
OUTPUT_MESSAGES = "gen_ai.output.messages"
SYSTEM_INSTRUCTIONS = "gen_ai.system_instructions"


def dumps(value: Any) -> str:
    """Compact JSON, as every GenAI attribute is written."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def message_json(message: Message) -> str:
    """One message of ``gen_ai.input.messages`` (a JSON list of these), as JSON."""
    return dumps(message_parts(message))


def output_messages(response: ModelResponse) -> str:
    """The model's answer, as ``gen_ai.output.messages`` JSON."""
    parts: list[dict[str, Any]] = []
    if response.content is not None:
        parts.append({"type": "text", "content": response.content})
    if response.refusal is not None:
        parts.append({"type": "refusal", "content": response.refusal})
    parts.extend(
        {"type": "tool_call", "id": call.id, "name": call.name, "arguments": call.arguments}
        for call in response.tool_calls
    )
    return dumps([{"role": "assistant", "parts": parts, "finish_reason": response.finish_reason}])


def system_instructions(text: str) -> str:
    """An agent's instructions, as ``gen_ai.system_instructions`` JSON."""
    return dumps([{"type": "text", "content": text}])


def recorded_response(attributes: Mapping[str, Any]) -> ModelResponse:
    """The ``ModelResponse`` a ``chat`` span recorded (its attributes as stored)."""
    raw = attributes.get(OUTPUT_MESSAGES)
    if not isinstance(raw, str):
        raise ValueError(
            "this chat span has no gen_ai.output.messages: it was recorded with "
            "capture_content off, so its answer cannot be re-served"
        )
    try:
        (message,) = json.loads(raw)
    except ValueError as exc:
        raise ValueError(f"gen_ai.output.messages is not one message in JSON ({exc})") from exc
    content: str | None = None
    refusal: str | None = None
    calls: list[ToolCall] = []
    for part in message.get("parts", ()):
        kind = part.get("type")
        if kind == "text":
            content = (content or "") + part["content"]
        elif kind == "refusal":
            refusal = part["content"]
        elif kind == "tool_call":
            arguments = part.get("arguments")
            if not isinstance(arguments, str):
                arguments = json.dumps(arguments)
            calls.append(ToolCall(id=part["id"], name=part["name"], arguments=arguments))
    return ModelResponse(
        content=content,
        tool_calls=tuple(calls),
        finish_reason=message.get("finish_reason") or "",
        input_tokens=int(attributes.get("gen_ai.usage.input_tokens") or 0),
        output_tokens=int(attributes.get("gen_ai.usage.output_tokens") or 0),
        model=attributes.get("gen_ai.response.model"),
        response_id=attributes.get("gen_ai.response.id"),
        refusal=refusal,
    )
