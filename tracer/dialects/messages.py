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

from tracer.dialects.base import ChatMessages, PartsMessage

_TEXT_TYPES = frozenset({"text", "input_text", "output_text"})


def openai_agents(attributes: Mapping[str, Any]) -> ChatMessages:
    return ChatMessages(
        input=_sdk_messages(_json(attributes.get("openai_agents.data.input")), "user"),
        output=_sdk_messages(_json(attributes.get("openai_agents.data.output")), "assistant"),
    )


def _sdk_messages(value: Any, role: str) -> list[PartsMessage] | None:
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
    if kind == "function_call_output" or item.get("role") == "tool":
        response = {
            "type": "tool_call_response",
            "id": item.get("call_id") or item.get("tool_call_id"),
            "response": item.get("output", item.get("content")),
        }
        return {"role": "tool", "parts": [response]}
    if "role" not in item:
        text = json.dumps(item, ensure_ascii=False, default=str)
        return {"role": "unknown", "parts": [{"type": "text", "content": text}]}
    parts = _content_parts(item.get("content"))
    for call in item.get("tool_calls") or ():
        if not isinstance(call, Mapping):
            continue
        function = call.get("function")
        function = function if isinstance(function, Mapping) else {}
        parts.append(
            {
                "type": "tool_call",
                "id": call.get("id"),
                "name": function.get("name"),
                "arguments": function.get("arguments"),
            }
        )
    return {"role": str(item["role"]), "parts": parts}


def _content_parts(content: Any) -> list[dict[str, Any]]:
    if content is None:
        return []
    if isinstance(content, str):
        return [{"type": "text", "content": content}]
    parts: list[dict[str, Any]] = []
    for part in content if isinstance(content, list) else [content]:
        if isinstance(part, Mapping) and part.get("type") in _TEXT_TYPES:
            parts.append({"type": "text", "content": part.get("text")})
        elif isinstance(part, Mapping) and part.get("type") == "refusal":
            parts.append({"type": "refusal", "content": part.get("refusal")})
        elif isinstance(part, Mapping):
            parts.append(dict(part))
        else:
            parts.append({"type": "text", "content": str(part)})
    return parts


_FLAT = re.compile(r"llm\.(input|output)_messages\.(\d+)\.message\.(.+)")
_FLAT_CALL = re.compile(r"tool_calls\.(\d+)\.tool_call\.(.+)")
_FLAT_CONTENT = re.compile(r"contents\.(\d+)\.message_content\.(.+)")


def openinference(attributes: Mapping[str, Any]) -> ChatMessages:
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


def _json(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value
