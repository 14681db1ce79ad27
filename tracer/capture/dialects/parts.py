"""Chat Completions messages (and Responses API message items) in the OpenTelemetry GenAI
conventions' "parts" format: ``{"role": ..., "parts": [{"type": "text", ...}, ...]}``.
Both the runner, writing its spans, and the dialects, reading other producers', use it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Chat Completions says "text"; the Responses API "input_text" and "output_text".
_TEXT_TYPES = frozenset({"text", "input_text", "output_text"})


def message_parts(message: Mapping[str, Any]) -> dict[str, Any]:
    """A Chat Completions message (or a Responses API message item) in the parts format:
    its content, refusal and tool calls, or a ``tool`` message's result."""
    role = str(message.get("role") or "user")
    if role == "tool":
        response = {
            "type": "tool_call_response",
            "id": message.get("tool_call_id"),
            "response": message.get("content"),
        }
        return {"role": "tool", "parts": [response]}
    parts = _content_parts(message.get("content"))
    if message.get("refusal") is not None:
        parts.append({"type": "refusal", "content": message["refusal"]})
    for call in message.get("tool_calls") or ():
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
    return {"role": role, "parts": parts}


def _content_parts(content: Any) -> list[dict[str, Any]]:
    """A message's ``content`` (text, or a list of content parts) as parts."""
    if content is None:
        return []
    if isinstance(content, str):
        return [{"type": "text", "content": content}]
    parts: list[dict[str, Any]] = []
    for part in content if isinstance(content, (list, tuple)) else [content]:
        kind = part.get("type") if isinstance(part, Mapping) else None
        if kind in _TEXT_TYPES:
            parts.append({"type": "text", "content": part.get("text")})
        elif kind == "refusal":
            parts.append({"type": "refusal", "content": part.get("refusal")})
        elif kind == "image_url":
            image = part.get("image_url")
            url = image.get("url") if isinstance(image, Mapping) else image
            parts.append({"type": "uri", "modality": "image", "uri": url})
        elif isinstance(part, Mapping):
            parts.append(dict(part))
        else:
            parts.append({"type": "text", "content": str(part)})
    return parts
