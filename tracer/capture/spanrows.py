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
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace import Span as SdkSpan
from opentelemetry.sdk.trace import _Span as SdkSpanImpl
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import SpanKind, Status, StatusCode

from tracer.capture.dialects import OPS, Normalised, SpanView, normalise
from tracer.capture.dialects.base import WARNING, handled_error, text_or_none
from tracer.store.redact import redactor
from tracer.store.resolve_claims import AGENT_CLAIMS, AGENT_KEYS
from tracer.store.rows import SPAN_COLUMNS, SPAN_SCHEMA
from tracer.store.sanitize import (
    Limits,
    clean_attributes,
    clean_span_attributes,
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


#: The SDK's span classes whose properties return their private fields unchanged
#: (``add_readable`` reads those directly); any other class is read through its properties.
_SDK_SPANS = frozenset({ReadableSpan, SdkSpan, SdkSpanImpl})


def _trace_hex(trace_id: int) -> str:
    """``f"{trace_id:032x}"``; ``%``-formatting gives the same text for an int in half
    the time."""
    return "%032x" % trace_id if type(trace_id) is int else f"{trace_id:032x}"  # noqa: UP031


def _span_hex(span_id: int) -> str:
    """``f"{span_id:016x}"``, as ``_trace_hex``."""
    return "%016x" % span_id if type(span_id) is int else f"{span_id:016x}"  # noqa: UP031


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
        attrs = clean_span_attributes(attributes, limits, redacted)
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
        links_json = (
            to_json([_clean_event(link, limits, redacted) for link in links], limits)
            if links
            else None
        )
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
                redacted[0],  # attributes', events' and links' secrets
                None,  # nested_in: filled from the span's relatives at ingest
                links_json,
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
        attributes: Any
        events: Any
        links: Any
        if type(span) in _SDK_SPANS:
            # The SDK's own classes, whose properties return these fields as they are: read
            # directly, a property costs a Python call each (a dozen per span).
            context, parent, start = span._context, span._parent, span._start_time
            attributes, events, links = span._attributes, span._events, span._links
            name, kind, end, status = span._name, span._kind, span._end_time, span._status
            resource, scope = span._resource, span._instrumentation_scope
        else:
            context, start = span.context, span.start_time
            if context is None or start is None:
                return "span without a context or a start time"
            parent = span.parent
            # The span's own containers, not its properties: ``attributes`` wraps them in a
            # read-only proxy that iterates through the slow generic Mapping machinery, and
            # ``events``/``links`` copy them into a tuple per call.
            attributes = getattr(span, "_attributes", None)
            events = getattr(span, "_events", None)
            links = getattr(span, "_links", None)
            name, kind, end, status = span.name, span.kind, span.end_time, span.status
            resource, scope = span.resource, span.instrumentation_scope
        if context is None or start is None:
            return "span without a context or a start time"
        if attributes is None:
            attributes = span.attributes
        if events is None:
            events = span.events
        if links is None:
            links = span.links
        # A ``BoundedList``'s own deque: its ``len`` is Python code and its iterator copies
        # under a lock (nothing is added to a span once it has ended).
        events = getattr(events, "_dq", events)
        links = getattr(links, "_dq", links)
        if type(status) is Status:
            code, description = status._status_code, status._description
        else:
            code, description = status.status_code, status.description
        attrs_of_resource = (
            resource._attributes if type(resource) is Resource else resource.attributes
        )
        cached = self._resource_json.get(id(attrs_of_resource))
        resource_json = (
            cached[1]
            if cached is not None and cached[0] is attrs_of_resource
            else self.resource_json(attrs_of_resource)
        )
        return self._add(
            _trace_hex(context.trace_id),
            _span_hex(context.span_id),
            _span_hex(parent.span_id) if parent is not None else None,
            name,
            _KIND_BY_ID.get(id(kind)) or _KIND[kind],
            start,
            end,
            _STATUS_BY_ID.get(id(code)) or _STATUS.get(code, "unset"),
            description,
            attributes,
            [
                {"name": e.name, "time_unix_nano": e.timestamp, "attributes": e.attributes}
                for e in events
            ]
            if events
            else (),
            resource_json,
            (scope._name if type(scope) is InstrumentationScope else scope.name)
            if scope is not None
            else None,
            [
                {
                    "trace_id": _trace_hex(link.context.trace_id),
                    "span_id": _span_hex(link.context.span_id),
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
    # The common case, each text field None or exactly a str, in one C-level pass.
    if not _NONE_OR_STR.issuperset(map(type, _text_values(found))):
        for field in _TEXT_FIELDS:
            value = getattr(found, field)
            if value is not None and not isinstance(value, str):
                setattr(found, field, text_or_none(value))
    tokens_in, tokens_out = found.input_tokens, found.output_tokens
    if not (
        (tokens_in is None or (type(tokens_in) is int and _INT64_MIN <= tokens_in <= _INT64_MAX))
        and (
            tokens_out is None
            or (type(tokens_out) is int and _INT64_MIN <= tokens_out <= _INT64_MAX)
        )
    ):
        for field in ("input_tokens", "output_tokens"):
            value = getattr(found, field)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or value not in _INT64
            ):
                setattr(found, field, None)
    if type(found.final_answer) not in _NONE_OR_BOOL:  # ``bool`` has no subclasses
        found.final_answer = None
    if found.op not in OPS:
        found.op = "other"
    return found


_NONE_OR_STR = frozenset({type(None), str})
_NONE_OR_BOOL = frozenset({type(None), bool})
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


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
