"""OpenAI Agents SDK traces as span rows: the shape both the live processor
(``tracer.capture.agents_sdk``) and ``baton import`` of ``trace.export()``/``span.export()``
JSONL files produce, and that the ``openai_agents`` dialect reads.

This module works on the SDK's export dictionaries only, so it needs no ``agents`` import.

Layout of a converted span (attribute keys):

- ``openai_agents.type``: the span data type (``agent``, ``handoff``, ``function``,
  ``generation``, ``response``, ``guardrail``, ``custom``, ``mcp_tools``, ...), or
  ``trace`` for the span baton adds for the trace itself (the workflow);
- ``openai_agents.trace_id`` / ``span_id`` / ``parent_id``: the SDK's own ids;
- ``openai_agents.data.<field>``: the span data's fields (text, numbers and lists of
  text as they are; anything else as JSON text); a custom span's ``data`` dict is
  spread into ``openai_agents.custom.<key>``;
- ``openai_agents.error.message`` / ``openai_agents.error.data``;
- ``openai_agents.group_id`` (the conversation), ``openai_agents.workflow_name``,
  ``openai_agents.metadata``; ``gen_ai.conversation.id`` when ``tracer.record`` set one;
- ``openai_agents.tool_call_id``: the model's call id for a function span, matched
  from the function calls in the preceding model output of the same turn;
- ``openai_agents.run.<key>`` on an agent span: what the live processor learnt about its
  run (``streamed``, ``session_id``; see ``tracer.capture.sdk_live``);
- ``openai_agents.handoff.<key>`` on a handoff span: the same for the handoff
  (``tool_name``, ``arguments``, ``call_id``, ``input_filter``, ``nest_history``,
  ``removed``: the items the input filter took out);
- ``openai_agents.call.<key>`` on a model call's span: what serving it again needs
  (``tracer.capture.sdk_responses``: the request's settings and tools, the response
  around its output items, ``servable``);
- ``baton.handoff.reason`` on a handoff span (JSON text): why the model transferred —
  ``{"tool", "call_id", "arguments", "text"}``: the transfer call it made, its arguments
  (an ``input_type``'s data; decoded JSON when they are JSON) and the text the model
  wrote in the same response; read from the model output of the handoff's turn;
- ``baton.warning`` (with ``openai_agents.warning.message`` / ``.data``) instead of an
  error, for a condition the SDK reports on a span but handles: a second handoff in one
  response, which it ignores ("Multiple handoffs requested").

SDK ids (``trace_<32 hex>``, ``span_<24 hex>``, or anything a user passed) map to the
store's 32-hex trace ids and 16-hex span ids deterministically, so the same trace
recorded live and imported from a file is stored once.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tracer.capture.dialects.base import WARNING, decode_json, handled_error
from tracer.capture.dialects.messages import sdk_output_text
from tracer.capture.dialects.openai_agents import function_calls
from tracer.capture.sdk_responses import CALL_FACTS, call_attributes
from tracer.capture.spanrows import SpanRows

PREFIX = "openai_agents."
TRACE_TYPE = "trace"
_TRACE_ID = re.compile(r"trace_([0-9a-f]{32})")
_CLIENT_TYPES = frozenset({"generation", "response", "transcription", "speech"})
_OPS_OF = {"handoff": "handoff"}  # the span types whose handled errors are known
_CONTENT_FIELDS = frozenset({"input", "output", "instructions"})
#: Keys the live processor adds to a span export (``tracer.capture.sdk_live``).
RUN_FACTS = "baton_run"
HANDOFF_FACTS = "baton_handoff"
REASON = "baton.handoff.reason"


def trace_hex(sdk_trace_id: str) -> str:
    """The store's trace id for an SDK trace id (its hex part when it has the usual form)."""
    match = _TRACE_ID.fullmatch(sdk_trace_id)
    if match:
        return match.group(1)
    return hashlib.blake2b(sdk_trace_id.encode("utf-8", "replace"), digest_size=16).hexdigest()


@functools.lru_cache(maxsize=4096)  # each id is hashed again as its children's parent
def span_hex(sdk_span_id: str) -> str:
    """The store's span id for an SDK span id (a stable 64-bit hash of it)."""
    return hashlib.blake2b(sdk_span_id.encode("utf-8", "replace"), digest_size=8).hexdigest()


def trace_span_hex(sdk_trace_id: str) -> str:
    """The span id of the workflow span baton adds for a trace."""
    return span_hex("trace:" + sdk_trace_id)


def iso_to_ns(value: Any) -> int | None:
    """An SDK ISO-8601 timestamp as nanoseconds since the epoch (None when unreadable)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:  # the SDK writes UTC; a naive value is read as UTC too
        moment = moment.replace(tzinfo=UTC)
    seconds = int(moment.timestamp())
    return seconds * 1_000_000_000 + moment.microsecond * 1000


@dataclass
class TraceBuffer:
    """What is known about one SDK trace while its spans are collected."""

    sdk_trace_id: str
    record: dict[str, Any] | None = None
    conversation_id: str | None = None
    start_ns: int | None = None
    end_ns: int | None = None
    spans: list[dict[str, Any]] = field(default_factory=list)
    first_ns: int | None = None
    last_ns: int | None = None

    def fields(self) -> tuple[Any, ...]:
        """Everything held, as plain values (``TraceBuffer(*fields)`` makes it again): what
        the conversion process (``tracer.capture.sdk_worker``) is sent."""
        return (
            self.sdk_trace_id,
            self.record,
            self.conversation_id,
            self.start_ns,
            self.end_ns,
            self.spans,
            self.first_ns,
            self.last_ns,
        )


class SdkSpanConverter:
    """Collects SDK trace and span exports, grouped by trace, and turns them into rows."""

    def __init__(self, *, capture_content: bool = True) -> None:
        self.capture_content = capture_content
        self.traces: dict[str, TraceBuffer] = {}
        #: SDK ids of the spans that could not be converted: no readable start or end time.
        self.skipped: list[str] = []
        self._buffered = 0  # spans in all buffers, kept as they come and go: read per line

    def __len__(self) -> int:
        """How many spans wait in the buffers."""
        return self._buffered

    def buffer(self, sdk_trace_id: str) -> TraceBuffer:
        """The buffer of one SDK trace, made on first use."""
        found = self.traces.get(sdk_trace_id)
        if found is None:
            found = self.traces[sdk_trace_id] = TraceBuffer(sdk_trace_id)
        return found

    def add_span(self, sdk_trace_id: str, item: dict[str, Any]) -> TraceBuffer:
        """Buffer one ``span.export()`` dict under its trace; returns the trace's buffer.
        (Spans go in through here so that the count of buffered spans stays right.)"""
        buffer = self.buffer(sdk_trace_id)
        buffer.spans.append(item)
        self._buffered += 1
        return buffer

    def take(self, trace_ids: Iterable[str]) -> SdkSpanConverter:
        """A converter holding the buffers of ``trace_ids``, taken out of this one: they
        convert there while spans of other traces keep coming here."""
        taken = SdkSpanConverter(capture_content=self.capture_content)
        for sdk_trace_id in trace_ids:
            buffer = self.traces.pop(sdk_trace_id, None)
            if buffer is not None:
                taken.traces[sdk_trace_id] = buffer
                self._buffered -= len(buffer.spans)
                taken._buffered += len(buffer.spans)
        return taken

    @classmethod
    def holding(cls, buffers: Iterable[TraceBuffer], *, capture_content: bool) -> SdkSpanConverter:
        """A converter holding ``buffers`` (taken from another one, or sent from it)."""
        held = cls(capture_content=capture_content)
        for buffer in buffers:
            held.traces[buffer.sdk_trace_id] = buffer
            held._buffered += len(buffer.spans)
        return held

    def add_export(self, item: Mapping[str, Any]) -> bool:
        """Add one ``trace.export()`` or ``span.export()`` dict; False if it is neither."""
        kind = item.get("object")
        if kind == "trace" and isinstance(item.get("id"), str):
            self.buffer(item["id"]).record = dict(item)
            return True
        if kind == "trace.span" and isinstance(item.get("trace_id"), str):
            if not isinstance(item.get("id"), str) or not isinstance(item.get("span_data"), dict):
                return False
            self.add_span(item["trace_id"], dict(item))
            return True
        return False

    def drain(
        self, rows: SpanRows, trace_ids: Iterable[str] | None = None, *, final: bool = True
    ) -> int:
        """Move the buffered spans of ``trace_ids`` (default: all) into ``rows``.

        ``final`` ends those traces: each one whose record is known also gets its
        workflow span, and is forgotten. Otherwise the traces stay open (their record
        is kept, so spans that come later still hang under the workflow span).
        Returns the rows added."""
        added = 0
        for sdk_trace_id in list(self.traces if trace_ids is None else trace_ids):
            buffer = self.traces.get(sdk_trace_id)
            if buffer is None or not (final or buffer.spans):  # nothing new to convert
                continue
            added += self._convert(rows, buffer, final=final)
            self._buffered -= len(buffer.spans)
            buffer.spans = []
            if final:
                del self.traces[sdk_trace_id]
        return added

    # -- conversion ----------------------------------------------------------------------

    def _convert(self, rows: SpanRows, buffer: TraceBuffer, *, final: bool) -> int:
        trace_id = trace_hex(buffer.sdk_trace_id)
        record = buffer.record
        common: dict[str, Any] = {}
        if record is not None:
            if isinstance(record.get("group_id"), str) and record["group_id"]:
                common[PREFIX + "group_id"] = record["group_id"]
            if isinstance(record.get("workflow_name"), str):
                common[PREFIX + "workflow_name"] = record["workflow_name"]
        if buffer.conversation_id:
            common["gen_ai.conversation.id"] = buffer.conversation_id
        root_parent = trace_span_hex(buffer.sdk_trace_id) if record is not None else None
        call_ids = _match_call_ids(buffer.spans)
        reasons = _handoff_reasons(buffer.spans, set(call_ids.values()))
        added = 0
        for span in buffer.spans:
            start = iso_to_ns(span.get("started_at"))
            end = iso_to_ns(span.get("ended_at"))
            if start is None:
                start = end
            if start is None:
                self.skipped.append(str(span["id"]))
                continue
            last = end if end is not None else start
            buffer.first_ns = start if buffer.first_ns is None else min(buffer.first_ns, start)
            buffer.last_ns = last if buffer.last_ns is None else max(buffer.last_ns, last)
            self._add_span(
                rows, trace_id, span, start, end, root_parent, common, buffer, call_ids, reasons
            )
            added += 1
        if final and record is not None:
            start = buffer.start_ns if buffer.start_ns is not None else buffer.first_ns
            end = buffer.end_ns if buffer.end_ns is not None else buffer.last_ns
            if start is not None:
                self._add_trace_span(rows, trace_id, buffer, record, start, end, common)
                added += 1
        return added

    def _add_span(
        self,
        rows: SpanRows,
        trace_id: str,
        span: dict[str, Any],
        start: int,
        end: int | None,
        root_parent: str | None,
        common: dict[str, Any],
        buffer: TraceBuffer,
        call_ids: dict[str, str],
        reasons: dict[str, str],
    ) -> None:
        sdk_id: str = span["id"]
        data: dict[str, Any] = dict(span["span_data"])
        kind = str(data.pop("type", "unknown"))
        attrs: dict[str, Any] = dict(common)
        attrs[PREFIX + "type"] = kind
        attrs[PREFIX + "trace_id"] = buffer.sdk_trace_id
        attrs[PREFIX + "span_id"] = sdk_id
        parent = span.get("parent_id")
        if isinstance(parent, str) and parent:
            attrs[PREFIX + "parent_id"] = parent
            parent_hex: str | None = span_hex(parent)
        else:
            parent_hex = root_parent
        if kind == "custom" and isinstance(data.get("data"), dict):
            for key, value in data.pop("data").items():
                attrs[f"{PREFIX}custom.{key}"] = _attribute_value(value)
        for key, value in data.items():
            if value is None or (not self.capture_content and key in _CONTENT_FIELDS):
                continue
            attrs[f"{PREFIX}data.{key}"] = _attribute_value(value)
        if sdk_id in call_ids:
            attrs[PREFIX + "tool_call_id"] = call_ids[sdk_id]
        for key, group in ((RUN_FACTS, "run"), (HANDOFF_FACTS, "handoff")):
            facts = span.get(key)
            if facts and isinstance(facts, Mapping):  # most spans have none: skip the ABC check
                for name, value in facts.items():
                    if self.capture_content or name not in ("arguments", "removed"):
                        attrs[f"{PREFIX}{group}.{name}"] = _attribute_value(value)
        call = span.get(CALL_FACTS)
        if call is not None and isinstance(call, Mapping):
            attrs.update(call_attributes(call, capture_content=self.capture_content))
        if not self.capture_content and kind in _CLIENT_TYPES:
            attrs["baton.content_capture"] = False  # says why a replay shows no messages
        if sdk_id in reasons and self.capture_content:
            attrs[REASON] = reasons[sdk_id]
        metadata = span.get("metadata")
        if metadata:
            attrs[PREFIX + "metadata"] = _attribute_value(metadata)
        status, message = "unset", None
        error = span.get("error") or None  # most spans have none: skip the ABC checks
        if (
            error is not None
            and isinstance(error, Mapping)
            and handled_error(_OPS_OF.get(kind, ""), error.get("message"))
        ):
            attrs[WARNING] = str(error["message"])
            attrs[PREFIX + "warning.message"] = str(error["message"])
            if error.get("data") is not None:
                attrs[PREFIX + "warning.data"] = _attribute_value(error["data"])
        elif error is not None and isinstance(error, Mapping):
            status = "error"
            message = str(error.get("message") or "error")
            attrs[PREFIX + "error.message"] = message
            if error.get("data") is not None:
                attrs[PREFIX + "error.data"] = _attribute_value(error["data"])
                # As the OTel instrumentations word it, so the error names e.g. the
                # guardrail that tripped: "Guardrail tripwire triggered: {...}".
                message = f"{message}: {_attribute_value(error['data'])}"
        rows.add(
            trace_id=trace_id,
            span_id=span_hex(sdk_id),
            parent_span_id=parent_hex,
            name=span_name(kind, span["span_data"]),
            kind="client" if kind in _CLIENT_TYPES else "internal",
            start_ns=start,
            end_ns=end,
            status=status,
            status_message=message,
            attributes=attrs,
            scope="openai-agents",
        )

    def _add_trace_span(
        self,
        rows: SpanRows,
        trace_id: str,
        buffer: TraceBuffer,
        record: dict[str, Any],
        start: int,
        end: int | None,
        common: dict[str, Any],
    ) -> None:
        attrs = dict(common)
        attrs[PREFIX + "type"] = TRACE_TYPE
        attrs[PREFIX + "trace_id"] = buffer.sdk_trace_id
        if record.get("metadata"):
            attrs[PREFIX + "metadata"] = _attribute_value(record["metadata"])
        rows.add(
            trace_id=trace_id,
            span_id=trace_span_hex(buffer.sdk_trace_id),
            parent_span_id=None,
            name=str(record.get("workflow_name") or "Agent workflow"),
            kind="internal",
            start_ns=start,
            end_ns=end,
            attributes=attrs,
            scope="openai-agents",
        )


def span_name(kind: str, data: Mapping[str, Any]) -> str:
    """A readable span name: the type, then what it is about."""
    if kind == "handoff":
        return f"handoff {data.get('from_agent') or '?'} → {data.get('to_agent') or '?'}"
    if kind == "custom":
        inner = data.get("data") if isinstance(data.get("data"), Mapping) else {}
        label = str(data.get("name") or "custom")
        if label == "turn" and isinstance(inner, Mapping):
            return f"turn {inner.get('turn', '')} {inner.get('agent_name', '')}".strip()
        if label == "task" and isinstance(inner, Mapping) and inner.get("name"):
            return f"task {inner['name']}"
        return label
    if kind in ("generation", "transcription", "speech") and data.get("model"):
        return f"{kind} {data['model']}"
    if kind == "mcp_tools" and data.get("server"):
        return f"mcp_tools {data['server']}"
    if data.get("name"):
        return f"{kind} {data['name']}"
    return kind


def _attribute_value(value: Any) -> Any:
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, (list, tuple)) and all(isinstance(item, str) for item in value):
        return list(value)
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return str(value)


def _match_call_ids(spans: list[dict[str, Any]]) -> dict[str, str]:
    """Function span id -> the model's call id, from the latest model output before it
    under the same parent (one turn), matched by tool name and then arguments."""
    outputs: dict[Any, list[tuple[str, str, str]]] = {}
    matched: dict[str, str] = {}
    ordered = sorted(spans, key=lambda s: str(s.get("started_at") or ""))
    for span in ordered:
        data = span["span_data"]
        kind = data.get("type")
        parent = span.get("parent_id")
        if kind in ("generation", "response"):
            calls = function_calls(decode_json(data.get("output")))
            if calls:
                outputs[parent] = list(calls)
        elif kind == "function":
            pending = outputs.get(parent)
            if not pending:
                continue
            name, arguments = data.get("name"), data.get("input")
            pick = next(
                (c for c in pending if c[0] == name and (arguments is None or c[1] == arguments)),
                None,
            ) or next((c for c in pending if c[0] == name), None)
            if pick is not None:
                pending.remove(pick)
                matched[span["id"]] = pick[2]
    return matched


def _handoff_reasons(spans: list[dict[str, Any]], tool_calls: set[str]) -> dict[str, str]:
    """Handoff span id -> why the model transferred (``REASON``'s JSON text): the transfer
    call in the latest model output before it under the same parent (the call the live
    processor saw executed, else the first call no function span ran), with the text the
    model wrote beside it."""
    latest: dict[Any, Any] = {}
    found: dict[str, str] = {}
    for span in sorted(spans, key=lambda s: str(s.get("started_at") or "")):
        data = span["span_data"]
        kind = data.get("type")
        if kind in ("generation", "response"):
            output = decode_json(data.get("output"))
            if output is not None:
                latest[span.get("parent_id")] = output
        elif kind == "handoff":
            output = latest.get(span.get("parent_id"))
            if output is None:
                continue
            given = span.get(HANDOFF_FACTS)
            facts: Mapping[str, Any] = given if isinstance(given, Mapping) else {}
            calls = [c for c in function_calls(output) if c[2] not in tool_calls]
            pick = next((c for c in calls if c[2] == facts.get("call_id")), None) or next(
                (c for c in calls if c[0] == facts.get("tool_name")), None
            )
            if pick is None and calls:
                pick = calls[0]
            reason: dict[str, Any] = {"tool": None, "call_id": None, "arguments": None}
            if pick is not None:
                name, arguments, call_id = pick
                decoded = decode_json(arguments, otherwise=arguments)
                reason = {"tool": name, "call_id": call_id, "arguments": decoded}
            reason["text"] = sdk_output_text(output)
            found[str(span["id"])] = json.dumps(reason, ensure_ascii=False)
    return found
