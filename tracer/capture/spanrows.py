"""Turning spans from any source into a columnar batch shaped like the ``spans`` table.

Every ingest path (the OpenTelemetry exporter, the OTLP receiver, the Agents SDK
processor, file import) feeds ``SpanRows.add``; it normalises, sanitises and buffers
columns, and ``to_arrow`` hands back one Arrow table ready for a segment or an insert.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind, StatusCode

from tracer.capture.dialects import SpanView, normalise
from tracer.store.rows import SPAN_COLUMNS, SPAN_SCHEMA
from tracer.store.sanitize import (
    Limits,
    clean_attributes,
    redact_text,
    to_json,
    truncate,
    valid_utf8,
)

_STATUS = {StatusCode.UNSET: "unset", StatusCode.OK: "ok", StatusCode.ERROR: "error"}
_KIND = {kind: kind.name.lower() for kind in SpanKind}
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


class SpanRows:
    """A growing batch of span rows in the ``spans`` table's column order."""

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits.from_env()
        self._columns: dict[str, list[Any]] = {name: [] for name, _ in SPAN_COLUMNS}
        self._resource_json: dict[int, tuple[object, str]] = {}

    def __len__(self) -> int:
        return len(self._columns["span_id"])

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
    ) -> None:
        """Buffer one span. Ids are lower-case hex; times are nanoseconds since the epoch."""
        limits = self.limits
        attrs = clean_attributes(attributes, limits)
        found = normalise(SpanView(name=name, kind=kind, attributes=attrs, scope=scope))
        cols = self._columns
        cols["trace_id"].append(trace_id)
        cols["span_id"].append(span_id)
        cols["parent_span_id"].append(parent_span_id or None)
        cols["name"].append(truncate(name, limits.max_value_chars))
        cols["kind"].append(kind)
        cols["start_time"].append(start_ns // 1000)
        end = end_ns if end_ns is not None and end_ns >= start_ns else None
        cols["end_time"].append(None if end is None else end // 1000)
        cols["duration_ms"].append(None if end is None else (end - start_ns) / 1e6)
        cols["status"].append(status)
        cols["status_message"].append(
            redact_text(truncate(status_message, limits.max_value_chars))
            if status_message
            else None
        )
        for column in _NORMALISED:
            cols[column].append(getattr(found, column))
        cols["scope"].append(scope)
        cols["attributes"].append(to_json(attrs, limits))
        cols["events"].append(
            to_json([_clean_event(event, limits) for event in events], limits) if events else "[]"
        )
        cols["resource"].append(resource_json)

    def add_readable(self, span: ReadableSpan) -> None:
        """Buffer a span finished by the OpenTelemetry SDK."""
        context = span.context
        if context is None or span.start_time is None:
            return
        parent = span.parent
        scope = span.instrumentation_scope
        self.add(
            trace_id=f"{context.trace_id:032x}",
            span_id=f"{context.span_id:016x}",
            parent_span_id=f"{parent.span_id:016x}" if parent is not None else None,
            name=span.name,
            kind=_KIND[span.kind],
            start_ns=span.start_time,
            end_ns=span.end_time,
            status=_STATUS.get(span.status.status_code, "unset"),
            status_message=span.status.description,
            attributes=span.attributes,
            events=[
                {"name": e.name, "time_unix_nano": e.timestamp, "attributes": e.attributes}
                for e in span.events
            ],
            resource_json=self.resource_json(span.resource.attributes),
            scope=scope.name if scope is not None else None,
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
        """The buffered rows as one Arrow table with the ``spans`` schema."""
        arrays = []
        for name, kind in SPAN_COLUMNS:
            values = self._columns[name]
            try:
                arrays.append(pa.array(values, type=kind))
            except UnicodeEncodeError:
                # A producer sent strings that are not valid UTF-8; keep them, repaired.
                arrays.append(pa.array([_repair(v) for v in values], type=kind))
        return pa.Table.from_arrays(arrays, schema=SPAN_SCHEMA)


def _clean_event(event: Mapping[str, Any], limits: Limits) -> dict[str, Any]:
    cleaned = dict(event)
    cleaned["attributes"] = clean_attributes(event.get("attributes"), limits)
    return cleaned


def _repair(value: Any) -> Any:
    return valid_utf8(value) if isinstance(value, str) else value
