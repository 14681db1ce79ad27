"""Model-call messages of the capture dialects, in the GenAI "parts" format replay reads
(``{"role": ..., "parts": [{"type": "text" | "tool_call" | "tool_call_response", ...}]}``).

- ``openai_agents``: a generation or response span's ``openai_agents.data.input`` /
  ``.output`` — Chat Completions messages, Responses API items, or a whole response.
- ``openinference``: the flattened ``llm.input_messages.<i>.message.*`` /
  ``llm.output_messages.<i>.message.*`` attributes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from tracer.capture.dialects.base import ChatMessages, PartsMessage, decode_json
from tracer.capture.dialects.openai_agents import function_calls
from tracer.capture.dialects.parts import message_parts


def openai_agents(attributes: Mapping[str, Any]) -> ChatMessages:
    """A generation or response span's messages (``openai_agents.data.input``/``output``);
    a response span's system instructions are the response's ``instructions``, which
    ``tracer.capture.agents_sdk`` records as ``openai_agents.data.instructions`` (a
    generation span of Chat Completions has them as its first input message already)."""
    return ChatMessages(
        input=_sdk_messages(attributes.get("openai_agents.data.input"), "user"),
        output=_sdk_messages(attributes.get("openai_agents.data.output"), "assistant"),
        system=_instructions(attributes.get("openai_agents.data.instructions")),
    )


def sdk_output_text(output: Any) -> str | None:
    """The text an SDK model output holds (its message parts joined), None when none."""
    texts = [
        str(part.get("content"))
        for message in _sdk_messages(output, "assistant") or ()
        for part in message["parts"]
        if part.get("type") == "text" and part.get("content")
    ]
    return "\n".join(texts) or None


def _instructions(value: Any) -> list[dict[str, Any]] | None:
    """Responses API ``instructions``: text, or a list of input items (their text)."""
    value = decode_json(value, otherwise=value)
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return [{"type": "text", "content": value}]
    parts: list[dict[str, Any]] = []
    for message in _sdk_messages(value, "system") or ():
        parts.extend(message["parts"])
    return parts or None


def _sdk_messages(value: Any, role: str) -> list[PartsMessage] | None:
    # Text that is not JSON (prose, or JSON cut by the size limit) is one text message.
    value = decode_json(value, otherwise=value)
    if value is None:
        return None
    if isinstance(value, str):
        return [{"role": role, "parts": [{"type": "text", "content": value}]}]
    items = value if isinstance(value, list) else [value]
    messages: list[PartsMessage] = []
    for item in items:
        if not isinstance(item, Mapping):
            messages.append({"role": "unknown", "parts": [{"type": "text", "content": str(item)}]})
        elif item.get("object") == "response" and isinstance(item.get("output"), list):
            messages.extend(_sdk_messages(item["output"], "assistant") or [])
        else:
            messages.append(_sdk_item(item))
    return messages


def _sdk_item(item: Mapping[str, Any]) -> PartsMessage:
    kind = item.get("type")
    if kind == "function_call":
        call = {
            "type": "tool_call",
            "id": item.get("call_id"),
            "name": item.get("name"),
            "arguments": item.get("arguments"),
        }
        return {"role": "assistant", "parts": [call]}
    if kind == "function_call_output":
        response = {
            "type": "tool_call_response",
            "id": item.get("call_id"),
            "response": item.get("output"),
        }
        return {"role": "tool", "parts": [response]}
    if "role" not in item:
        text = json.dumps(item, ensure_ascii=False, default=str)
        return {"role": "unknown", "parts": [{"type": "text", "content": text}]}
    return message_parts(item)


def logfire(attributes: Mapping[str, Any]) -> ChatMessages:
    """A Logfire model-call span's ``input`` and ``output`` (or ``response``): the same
    shapes as the Agents SDK's span data, under plain keys."""
    return ChatMessages(
        input=_sdk_messages(attributes.get("input"), "user"),
        output=_sdk_messages(attributes.get("output", attributes.get("response")), "assistant"),
    )


_FLAT = re.compile(r"llm\.(input|output)_messages\.(\d+)\.message\.(.+)")
_FLAT_CALL = re.compile(r"tool_calls\.(\d+)\.tool_call\.(.+)")
_FLAT_CONTENT = re.compile(r"contents\.(\d+)\.message_content\.(.+)")


def openinference(attributes: Mapping[str, Any]) -> ChatMessages:
    """An LLM span's flattened ``llm.input_messages.*`` and ``llm.output_messages.*``."""
    found: dict[str, dict[int, dict[str, Any]]] = {"input": {}, "output": {}}
    for key, value in attributes.items():
        match = _FLAT.fullmatch(key)
        if match is not None:
            direction, index, field = match.groups()
            found[direction].setdefault(int(index), {})[field] = value
    given = decode_json(attributes.get("input.value"))
    answered = decode_json(attributes.get("output.value"))
    output = _oi_messages(found["output"]) if found["output"] else None
    if output is None and _sdk_shaped(answered):
        # OpenInference leaves a streamed Chat Completions call's output messages out,
        # but keeps the SDK's response in output.value.
        output = _sdk_messages(answered, "assistant")
    messages = ChatMessages(
        input=_oi_messages(found["input"]) if found["input"] else None, output=output
    )
    # It also drops a tool call's arguments when they are empty ("{}"); the SDK items in
    # input.value / output.value still have them.
    known = {
        call_id: arguments
        for value in (given, answered)
        if _sdk_shaped(value)
        for _, arguments, call_id in function_calls(value)
    }
    if known:
        for message in (messages.input or []) + (messages.output or []):
            for part in message["parts"]:
                if part.get("type") == "tool_call" and part.get("arguments") is None:
                    part["arguments"] = known.get(str(part.get("id")))
    return messages


def _sdk_shaped(value: Any) -> bool:
    """Whether an OpenInference input/output value holds the Agents SDK's items: Responses
    API items or responses, or Chat Completions messages."""
    items = value if isinstance(value, list) else [value]
    return any(
        isinstance(item, Mapping)
        and (
            item.get("object") == "response"
            or item.get("type") in ("message", "function_call")
            or (item.get("role") in _ROLES and ("content" in item or "tool_calls" in item))
        )
        for item in items
    )


_ROLES = frozenset({"system", "developer", "user", "assistant", "tool"})


def _oi_messages(by_index: dict[int, dict[str, Any]]) -> list[PartsMessage]:
    messages: list[PartsMessage] = []
    for index in sorted(by_index):
        fields = by_index[index]
        role = str(fields.get("role") or "unknown")
        parts: list[dict[str, Any]] = []
        calls: dict[int, dict[str, Any]] = {}
        contents: dict[int, dict[str, Any]] = {}
        for field, value in fields.items():
            if found := _FLAT_CALL.fullmatch(field):
                calls.setdefault(int(found.group(1)), {})[found.group(2)] = value
            elif piece := _FLAT_CONTENT.fullmatch(field):
                contents.setdefault(int(piece.group(1)), {})[piece.group(2)] = value
        # OpenInference writes a message's text twice: whole as ``message.content`` and in
        # pieces as ``message.contents.<n>.message_content.text``. The pieces, when there
        # are any, are the message; else the whole.
        pieces = [
            contents[n]["text"] for n in sorted(contents) if contents[n].get("text") is not None
        ]
        if pieces:
            parts.extend({"type": "text", "content": piece} for piece in pieces)
        elif fields.get("content") is not None:
            parts.append({"type": "text", "content": fields["content"]})
        for position in sorted(calls):
            call = calls[position]
            parts.append(
                {
                    "type": "tool_call",
                    "id": call.get("id"),
                    "name": call.get("function.name"),
                    "arguments": call.get("function.arguments"),
                }
            )
        if role == "tool" and fields.get("tool_call_id") is not None:
            response = {"type": "tool_call_response", "id": fields["tool_call_id"]}
            parts = [{**response, "response": fields.get("content")}]
        messages.append({"role": role, "parts": parts})
    return messages
