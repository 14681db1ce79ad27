"""Turning spans from any source into a columnar batch shaped like the ``spans`` table.

Every ingest path (the OpenTelemetry exporter, the OTLP receiver, the Agents SDK
processor, file import) feeds ``SpanRows.add``; it normalises, sanitises and buffers
columns, and ``to_arrow`` hands back one Arrow table ready for a segment or an insert.
"""

from __future__ import annotations

import hashlib
import json
import math
import operator
from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind, StatusCode

from tracer.capture.dialects import OPS, Normalised, SpanView, normalise
from tracer.capture.dialects.base import WARNING, handled_error, text_or_none
from tracer.store.redact import redactor
from tracer.store.resolve_claims import AGENT_CLAIMS, AGENT_KEYS
from tracer.store.rows import SPAN_COLUMNS, SPAN_SCHEMA
from tracer.store.sanitize import (
    Limits,
    bound_span,
    clean_attributes,
    to_json,
    truncate,
    valid_utf8,
)

#: The latest instant a TIMESTAMPTZ column holds, in microseconds since the epoch.
_MAX_MICROS = 2**63 - 2
_INT64 = range(-(2**63), 2**63)
NORMALISE_ERROR = "baton.normalise_error"

#: The instrumentation scope of spans baton derives from another span (``_add_transfer``).
DERIVED_SCOPE = "baton.derived"
_STATUS = {StatusCode.UNSET: "unset", StatusCode.OK: "ok", StatusCode.ERROR: "error"}
_KIND = {kind: kind.name.lower() for kind in SpanKind}
# The same, keyed by the members' ids: an enum member hashes through Python code
# (``Enum.__hash__``), an int in C. Members live as long as their class, so ids are stable.
_STATUS_BY_ID = {id(code): text for code, text in _STATUS.items()}
_KIND_BY_ID = {id(kind): text for kind, text in _KIND.items()}
_NORMALISED = (
    "op",
    "agent_name",
    "tool_name",
    "from_agent",
    "to_agent",
    "conversation_id",
    "source",
    "model",
    "input_tokens",
    "output_tokens",
    "tool_call_id",
    "tool_arguments",
    "tool_result",
    "error_type",
    "final_answer",
)
#: ``found``'s normalised columns as a tuple, in ``_NORMALISED`` order (one C call).
_normalised_values = operator.attrgetter(*_NORMALISED)
#: The order of a buffered row: the span's own columns, the normalised ones, the rest.
_ROW = (
    *("trace_id", "span_id", "parent_span_id", "name", "kind", "start_time", "end_time"),
    *("duration_ms", "status", "status_message"),
    *_NORMALISED,
    *("scope", "attributes", "events", "resource", "redacted", "nested_in", "links"),
)
_ROW_INDEX = {name: index for index, name in enumerate(_ROW)}
if set(_ROW) != {name for name, _ in SPAN_COLUMNS}:  # a column added to rows.py lands here
    raise ImportError(f"SpanRows fills {sorted(_ROW)}, the spans table has {SPAN_COLUMNS}")


class SpanRows:
    """A growing batch of span rows in the ``spans`` table's column order."""

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits.from_env()
        # One tuple per span in ``_ROW`` order, turned into columns once, in ``to_arrow``:
        # a span costs one append instead of one per column.
        self._rows: list[tuple[Any, ...]] = []
        self._resource_json: dict[int, tuple[object, str]] = {}

    def __len__(self) -> int:
        return len(self._rows)

    def add(
        self,
        *,
        trace_id: str,
        span_id: str,
        parent_span_id: str | None,
        name: str,
        kind: str,
        start_ns: int,
        end_ns: int | None,
        status: str = "unset",
        status_message: str | None = None,
        attributes: Mapping[str, Any] | None = None,
        events: Sequence[Mapping[str, Any]] = (),
        resource_json: str = "{}",
        scope: str | None = None,
        links: Sequence[Mapping[str, Any]] = (),
    ) -> str | None:
        """Buffer one span; returns why it cannot be stored (its start time is not a time a
        store can hold), else None. Ids are lower-case hex; times are nanoseconds since the
        epoch. A value that cannot be used costs that value, never the span."""
        return self._add(
            trace_id,
            span_id,
            parent_span_id,
            name,
            kind,
            start_ns,
            end_ns,
            status,
            status_message,
            attributes,
            events,
            resource_json,
            scope,
            links,
        )

    def _add(
        self,
        trace_id: str,
        span_id: str,
        parent_span_id: str | None,
        name: str,
        kind: str,
        start_ns: int,
        end_ns: int | None,
        status: str,
        status_message: str | None,
        attributes: Mapping[str, Any] | None,
        events: Sequence[Mapping[str, Any]],
        resource_json: str,
        scope: str | None,
        links: Sequence[Mapping[str, Any]],
    ) -> str | None:
        # ``add`` by position: a call with fourteen keywords costs several times as much.
        if start_ns <= 0 or start_ns // 1000 > _MAX_MICROS:
            return f"span with a start time out of range ({start_ns} ns)"
        limits = self.limits
        redacted = [0]
        attrs = bound_span(clean_attributes(attributes, limits, redacted), limits)
        found = _normalised(name, kind, attrs, scope)
        if status == "error" and handled_error(found.op, status_message):
            status = "unset"  # handled by the run (dialects.base.HANDLED_ERRORS): a warning
            attrs[WARNING] = status_message
        limit = limits.max_value_chars
        end = (
            end_ns
            if end_ns is not None and start_ns <= end_ns and end_ns // 1000 <= _MAX_MICROS
            else None
        )
        if found.agent_keys:
            attrs[AGENT_KEYS] = json.dumps(list(found.agent_keys))
        if found.agent_claims:
            attrs[AGENT_CLAIMS] = json.dumps(dict(found.agent_claims), sort_keys=True)
        events_json = (
            to_json([_clean_event(event, limits, redacted) for event in events], limits)
            if events
            else "[]"
        )
        redacted_count = redacted[0]  # counted before the links, as it always was
        self._rows.append(
            (
                trace_id,
                span_id,
                parent_span_id or None,
                name if len(name) <= limit else truncate(name, limit),
                kind,
                start_ns // 1000,
                None if end is None else end // 1000,
                None if end is None else (end - start_ns) / 1e6,
                status,
                truncate(status_message, limit) if status_message else None,
                *_normalised_values(found),
                scope,
                to_json(attrs, limits),
                events_json,
                resource_json,
                redacted_count,
                None,  # nested_in: filled from the span's relatives at ingest
                to_json([_clean_event(link, limits, redacted) for link in links], limits)
                if links
                else None,
            )
        )
        for tool, call_id, target in found.transfers:
            self._add_transfer(trace_id, span_id, end or start_ns, tool, call_id, target)
        return None

    def _add_transfer(
        self, trace_id: str, parent: str, at_ns: int, tool: str, call_id: str, target: str
    ) -> None:
        """A handoff the model call ``parent`` asked for and nothing else recorded, as a
        GenAI transfer span under it when the call ended. Its id is derived from the call's,
        so importing the same spans twice stores it once."""
        # ``surrogatepass``: a call id with a lone surrogate (text that is not UTF-8) must
        # not cost the batch; any other id encodes to the same bytes as before.
        key = f"{trace_id}/{parent}/{call_id}".encode("utf-8", "surrogatepass")
        digest = hashlib.sha256(key).hexdigest()
        self.add(
            trace_id=trace_id,
            span_id=digest[:16],
            parent_span_id=parent,
            name=f"execute_tool {tool} {target}",
            kind="internal",
            start_ns=at_ns,
            end_ns=at_ns,
            attributes={
                "gen_ai.operation.name": "execute_tool",
                "gen_ai.tool.name": tool,
                "gen_ai.tool.call.id": call_id,
                "gen_ai.transfer.mode": "pass_control",
                "gen_ai.transfer.target.name": target,
                "baton.derived_from": "a tool call in the model output",
            },
            scope=DERIVED_SCOPE,
        )

    def add_readable(self, span: ReadableSpan) -> str | None:
        """Buffer a span finished by the OpenTelemetry SDK; returns why it cannot be
        stored, else None."""
        context = span.context
        if context is None or span.start_time is None:
            return "span without a context or a start time"
        parent = span.parent
        scope = span.instrumentation_scope
        status = span.status
        # The span's own containers, not its properties: ``attributes`` wraps them in a
        # read-only proxy that iterates through the slow generic Mapping machinery, and
        # ``events``/``links`` copy them into a tuple per call. A ``BoundedList``'s own
        # deque, too: its ``len`` is Python code and its iterator copies under a lock
        # (nothing is added to a span once it has ended).
        attributes = getattr(span, "_attributes", None)
        if attributes is None:
            attributes = span.attributes
        events = getattr(span, "_events", None)
        if events is None:
            events = span.events
        events = getattr(events, "_dq", events)
        links = getattr(span, "_links", None)
        if links is None:
            links = span.links
        links = getattr(links, "_dq", links)
        return self._add(
            f"{context.trace_id:032x}",
            f"{context.span_id:016x}",
            f"{parent.span_id:016x}" if parent is not None else None,
            span.name,
            _KIND_BY_ID.get(id(span.kind)) or _KIND[span.kind],
            span.start_time,
            span.end_time,
            _STATUS_BY_ID.get(id(status.status_code)) or _STATUS.get(status.status_code, "unset"),
            status.description,
            attributes,
            [
                {"name": e.name, "time_unix_nano": e.timestamp, "attributes": e.attributes}
                for e in events
            ]
            if events
            else (),
            self.resource_json(span.resource.attributes),
            scope.name if scope is not None else None,
            [
                {
                    "trace_id": f"{link.context.trace_id:032x}",
                    "span_id": f"{link.context.span_id:016x}",
                    "attributes": link.attributes,
                }
                for link in links
            ]
            if links
            else (),
        )

    def resource_json(self, attributes: Mapping[str, Any]) -> str:
        """The resource as JSON, serialised once per distinct resource object in a batch."""
        key = id(attributes)
        cached = self._resource_json.get(key)
        if cached is not None and cached[0] is attributes:
            return cached[1]
        text = to_json(clean_attributes(attributes, self.limits), self.limits)
        self._resource_json[key] = (attributes, text)
        return text

    def to_arrow(self) -> pa.Table:
        """The buffered rows as one Arrow table with the ``spans`` schema, redacted."""
        count = len(self._rows)
        columns = list(zip(*self._rows, strict=True)) if count else [()] * len(_ROW)
        arrays = []
        for name, kind in SPAN_COLUMNS:
            values = columns[_ROW_INDEX[name]]
            try:
                arrays.append(pa.array(values, type=kind))
            except (UnicodeEncodeError, pa.ArrowException, OverflowError, TypeError):
                # A value this column cannot hold (text that is not valid UTF-8 is kept,
                # repaired; anything else is dropped) must not cost the other rows.
                arrays.append(pa.array([_one(v, kind) for v in values], type=kind))
        table = pa.Table.from_arrays(arrays, schema=SPAN_SCHEMA)
        return redactor().table(table)


def _normalised(name: str, kind: str, attrs: dict[str, Any], scope: str | None) -> Normalised:
    """The dialects' reading of a span. A value no dialect expected (a list where a name
    belongs, a number no column holds) costs that reading, never the span: the span is
    read again with such values as text, and failing that kept as ``op='other'``."""
    try:
        found = normalise(SpanView(name, kind, attrs, scope))
    except Exception:
        try:
            found = normalise(
                SpanView(name=name, kind=kind, attributes=_as_scalars(attrs), scope=scope)
            )
        except Exception as exc:
            attrs[NORMALISE_ERROR] = f"{type(exc).__name__}: {exc}"[:500]
            return Normalised()
    return _checked(found)


def _as_scalars(attrs: dict[str, Any]) -> dict[str, Any]:
    return {key: _scalar(value) for key, value in attrs.items()}


def _scalar(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return value if value in _INT64 else str(value)
    if isinstance(value, float):
        return value if math.isfinite(value) and abs(value) < 2**63 else str(value)
    return to_json(value, Limits())


def _checked(found: Normalised) -> Normalised:
    """``found`` with every field of the type its column holds."""
    for value in _text_values(found):  # the common case: each None or exactly a str
        if value is not None and type(value) is not str:
            for field in _TEXT_FIELDS:
                value = getattr(found, field)
                if value is not None and not isinstance(value, str):
                    setattr(found, field, text_or_none(value))
            break
    for field in ("input_tokens", "output_tokens"):
        value = getattr(found, field)
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or value not in _INT64
        ):
            setattr(found, field, None)
    if found.final_answer is not None and not isinstance(found.final_answer, bool):
        found.final_answer = None
    if found.op not in OPS:
        found.op = "other"
    return found


_TEXT_FIELDS = (
    "source",
    "agent_name",
    "tool_name",
    "from_agent",
    "to_agent",
    "conversation_id",
    "model",
    "tool_call_id",
    "tool_arguments",
    "tool_result",
    "error_type",
)
_text_values = operator.attrgetter(*_TEXT_FIELDS)


def _clean_event(event: Mapping[str, Any], limits: Limits, redacted: list[int]) -> dict[str, Any]:
    cleaned = dict(event)
    cleaned["attributes"] = clean_attributes(event.get("attributes"), limits, redacted)
    time = cleaned.get("time_unix_nano")
    if isinstance(time, int) and time not in _INT64:
        cleaned["time_unix_nano"] = str(time)
    return cleaned


def _one(value: Any, kind: pa.DataType) -> Any:
    if isinstance(value, str):
        value = valid_utf8(value)
    try:
        pa.array([value], type=kind)
    except (pa.ArrowException, OverflowError, TypeError):
        return None
    return value
