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
from tracer.capture.dialects.parts import message_parts


def openai_agents(attributes: Mapping[str, Any]) -> ChatMessages:
    """A generation or response span's messages (``openai_agents.data.input``/``output``)."""
    return ChatMessages(
        input=_sdk_messages(attributes.get("openai_agents.data.input"), "user"),
        output=_sdk_messages(attributes.get("openai_agents.data.output"), "assistant"),
    )


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
    return ChatMessages(
        input=_oi_messages(found["input"]) if found["input"] else None,
        output=_oi_messages(found["output"]) if found["output"] else None,
    )


def _oi_messages(by_index: dict[int, dict[str, Any]]) -> list[PartsMessage]:
    messages: list[PartsMessage] = []
    for index in sorted(by_index):
        fields = by_index[index]
        role = str(fields.get("role") or "unknown")
        parts: list[dict[str, Any]] = []
        if fields.get("content") is not None:
            parts.append({"type": "text", "content": fields["content"]})
        calls: dict[int, dict[str, Any]] = {}
        contents: dict[int, dict[str, Any]] = {}
        for field, value in fields.items():
            if found := _FLAT_CALL.fullmatch(field):
                calls.setdefault(int(found.group(1)), {})[found.group(2)] = value
            elif piece := _FLAT_CONTENT.fullmatch(field):
                contents.setdefault(int(piece.group(1)), {})[piece.group(2)] = value
        for position in sorted(contents):
            if contents[position].get("text") is not None:
                parts.append({"type": "text", "content": contents[position]["text"]})
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
