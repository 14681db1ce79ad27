"""A model call's messages, read from its recorded attributes the first time they are needed.

Parsing every message of a long conversation up front would cost more than the rest of
loading it together (and grows with the square of the turns, as each call's input
repeats the history), while a reader looks at a few steps. So a step keeps its span's
attribute text and parses it on first use, through the producer's dialect
(``tracer.capture.dialects.read_messages``); nothing here knows a dialect.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from replay.model import Message, MessagePart
from tracer.capture.dialects import read_messages
from tracer.capture.dialects.base import PartsMessage
from tracer.capture.dialects.facts import missing_content

_EMPTY: tuple[Message, ...] = ()


class StepContent:
    """The messages in and out of one model call; None where nothing was recorded.

    Built either from messages (``StepContent(input=..., output=...)``) or from a
    span's stored attributes (``StepContent.recorded(source, attributes_json)``), which
    are parsed on first access. Safe to read from several threads.
    """

    __slots__ = ("_input", "_missing", "_output", "_pending", "_system")

    def __init__(
        self,
        input: Sequence[Message] | None = None,
        output: Sequence[Message] | None = None,
        system: Sequence[MessagePart] | None = None,
    ) -> None:
        self._input = tuple(input) if input is not None else None
        self._output = tuple(output) if output is not None else None
        self._system = tuple(system) if system is not None else None
        self._pending: tuple[str | None, str] | None = None
        self._missing: str | None = None

    @classmethod
    def recorded(cls, source: str | None, attributes_json: str | None) -> StepContent:
        """Content to be read from a span's attributes (JSON text) when first asked for."""
        # Without ``__init__``'s conversions: one is made per model call of a conversation.
        content = cls.__new__(cls)
        content._input = content._output = content._system = None
        content._pending = (source, attributes_json) if attributes_json else None
        content._missing = None
        return content

    @property
    def input(self) -> tuple[Message, ...] | None:
        """The messages sent to the model (the system instructions first, when recorded)."""
        self._resolve()
        if self._system and self._input is not None:
            return (Message("system", self._system), *self._input)
        if self._system:
            return (Message("system", self._system),)
        return self._input

    @property
    def output(self) -> tuple[Message, ...] | None:
        """What the model answered."""
        self._resolve()
        return self._output

    @property
    def system(self) -> tuple[MessagePart, ...] | None:
        """The system instructions' parts, when recorded apart from the messages."""
        self._resolve()
        return self._system

    @property
    def missing(self) -> str | None:
        """Why nothing was recorded (from the producer's attributes), when nothing was."""
        self._resolve()
        return self._missing

    def _resolve(self) -> None:
        if self._pending is None:
            return
        with _parsing:
            if self._pending is None:
                return
            source, text = self._pending
            attributes = _attributes(text)
            found = read_messages(source, attributes)
            self._input = to_messages(found.input)
            self._output = to_messages(found.output)
            self._system = tuple(_part(p) for p in found.system) if found.system else None
            if self._input is None and self._output is None and self._system is None:
                self._missing = missing_content(source, attributes)
            self._pending = None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, StepContent):
            return NotImplemented
        return (self.input, self.output) == (other.input, other.output)

    def __hash__(self) -> int:
        return hash((self.input, self.output))

    def __repr__(self) -> str:
        if self._pending is not None:
            return "StepContent(<not read yet>)"
        return f"StepContent(input={self._input!r}, output={self._output!r})"


# One lock for all: parsing is quick, and a lock per step would cost more than it saves.
_parsing = threading.Lock()


def _attributes(text: str) -> Mapping[str, Any]:
    try:
        attributes = json.loads(text)
    except ValueError:
        return {}
    return attributes if isinstance(attributes, Mapping) else {}


def to_messages(raw: Iterable[PartsMessage] | None) -> tuple[Message, ...] | None:
    """GenAI parts-format messages as ``Message`` objects; lenient about what producers
    send (a plain ``content`` string instead of parts, parts that are not objects)."""
    if raw is None:
        return None
    messages: list[Message] = []
    for item in raw:
        if not isinstance(item, Mapping):
            messages.append(Message("unknown", (MessagePart("text", _text(item)),)))
            continue
        parts = item.get("parts")
        if parts is None and item.get("content") is not None:
            parts = [{"type": "text", "content": item["content"]}]
        messages.append(
            Message(
                role=str(item.get("role") or "unknown"),
                parts=tuple(_part(p) for p in parts or ()),
                finish_reason=item.get("finish_reason"),
            )
        )
    return tuple(messages) if messages else _EMPTY


def _part(raw: Any) -> MessagePart:
    if not isinstance(raw, Mapping):
        return MessagePart("text", _text(raw))
    kind = str(raw.get("type") or "text")
    content = raw.get("content")
    if content is None and kind == "tool_call_response":
        content = raw.get("response")
    if content is None and kind == "uri":
        content = raw.get("uri")
    arguments = raw.get("arguments")
    return MessagePart(
        type=kind,
        content=_text(content) if content is not None else None,
        name=raw.get("name"),
        call_id=raw.get("id"),
        arguments=_text(arguments) if arguments is not None else None,
    )


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)
