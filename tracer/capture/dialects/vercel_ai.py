"""The Vercel AI SDK's ``experimental_telemetry`` (``ai.operationId``), with or without
``@arizeai/openinference-vercel`` (which adds OpenInference attributes to the same spans).

``ai.generateText`` / ``ai.streamText`` is one call of an agent, named by the app's
``functionId`` (else ``ai.telemetry.metadata.agent``): the SDK knows no agents, so an app
that sets neither has none. ``….doGenerate`` / ``….doStream`` is a model call,
``ai.toolCall`` a tool; a hand-written ``handoff`` tool (``{to: ...}``) is a transfer by
the generic rule, and an agent used as a tool is a tool whose ``execute`` runs
``generateText`` under it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tracer.capture.dialects.base import (
    ChatMessages,
    Normalised,
    PartsMessage,
    SpanView,
    decode_json,
    int_or_none,
    text_or_none,
)
from tracer.capture.dialects.transfers import transfer_target

SOURCE = "vercel_ai"
OPERATION = "ai.operationId"
_CALLS = frozenset({"ai.generateText", "ai.streamText", "ai.generateObject", "ai.streamObject"})
_MODEL_CALLS = frozenset(
    {
        "ai.generateText.doGenerate",
        "ai.streamText.doStream",
        "ai.generateObject.doGenerate",
        "ai.streamObject.doStream",
    }
)


def normalise(span: SpanView) -> Normalised | None:
    attrs = span.attributes
    operation = attrs.get(OPERATION)
    if not isinstance(operation, str):
        return None
    found = Normalised(source=SOURCE)
    if operation in _CALLS:
        agent = attrs.get("ai.telemetry.functionId") or attrs.get("ai.telemetry.metadata.agent")
        found.agent_name = text_or_none(agent)
        found.op = "agent" if found.agent_name else "other"
    elif operation in _MODEL_CALLS:
        found.op = "chat"
        found.model = text_or_none(attrs.get("ai.response.model") or attrs.get("ai.model.id"))
        found.input_tokens = int_or_none(
            attrs.get("ai.usage.inputTokens", attrs.get("ai.usage.promptTokens"))
        )
        found.output_tokens = int_or_none(
            attrs.get("ai.usage.outputTokens", attrs.get("ai.usage.completionTokens"))
        )
        calls = decode_json(attrs.get("ai.response.toolCalls"))
        found.final_answer = not calls
    elif operation == "ai.toolCall":
        found.op = "tool"
        found.tool_name = text_or_none(attrs.get("ai.toolCall.name"))
        found.tool_call_id = text_or_none(attrs.get("ai.toolCall.id"))
        found.tool_arguments = text_or_none(
            attrs.get("ai.toolCall.args", attrs.get("ai.toolCall.input"))
        )
        found.tool_result = text_or_none(
            attrs.get("ai.toolCall.result", attrs.get("ai.toolCall.output"))
        )
        target = transfer_target(found.tool_name, found.tool_arguments)
        if target is not None:
            found.op, found.to_agent = "handoff", target
    return found


def messages(attributes: Mapping[str, Any]) -> ChatMessages:
    """A model call's ``ai.prompt.messages`` and its ``ai.response.text`` /
    ``ai.response.toolCalls``, in the parts format."""
    prompt = decode_json(attributes.get("ai.prompt.messages"))
    system: list[dict[str, Any]] | None = None
    inputs: list[PartsMessage] | None = None
    if isinstance(prompt, list):
        inputs = []
        for message in prompt:
            if not isinstance(message, Mapping):
                continue
            if message.get("role") == "system":
                system = [{"type": "text", "content": message.get("content")}]
            else:
                inputs.append(_message(message))
    text = attributes.get("ai.response.text")
    calls = decode_json(attributes.get("ai.response.toolCalls"))
    output: list[PartsMessage] | None = None
    if text is not None or calls:
        parts: list[dict[str, Any]] = []
        if isinstance(text, str) and text:
            parts.append({"type": "text", "content": text})
        for call in calls if isinstance(calls, list) else ():
            if isinstance(call, Mapping):
                parts.append(_tool_call(call))
        output = [{"role": "assistant", "parts": parts}]
    return ChatMessages(input=inputs, output=output, system=system)


def _tool_call(call: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "type": "tool_call",
        "id": call.get("toolCallId"),
        "name": call.get("toolName"),
        "arguments": call.get("input", call.get("args")),
    }


def _message(message: Mapping[str, Any]) -> PartsMessage:
    role = str(message.get("role") or "user")
    content = message.get("content")
    if isinstance(content, str):
        return {"role": role, "parts": [{"type": "text", "content": content}]}
    parts: list[dict[str, Any]] = []
    for part in content if isinstance(content, list) else ():
        if not isinstance(part, Mapping):
            continue
        kind = part.get("type")
        if kind == "text":
            parts.append({"type": "text", "content": part.get("text")})
        elif kind == "tool-call":
            parts.append(_tool_call(part))
        elif kind == "tool-result":
            output = part.get("output", part.get("result"))
            if isinstance(output, Mapping) and "value" in output:
                output = output["value"]
            parts.append(
                {"type": "tool_call_response", "id": part.get("toolCallId"), "response": output}
            )
        else:
            parts.append(dict(part))
    return {"role": role, "parts": parts}
