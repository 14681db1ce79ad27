"""Decoding OTLP protobuf trace export requests into span rows.

A body whose only fault is a string that is not valid UTF-8 is parsed again with the
lenient twin of the messages (``tracer.otlp.lenient``), so one bad string costs nothing.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from typing import Any

from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from tracer.capture.spanrows import SpanRows
from tracer.otlp.decoded import KINDS, MAX_DEPTH, STATUS, Decoded, MalformedRequest
from tracer.otlp.lenient import request_class


def decode_protobuf(body: bytes, decoded: Decoded) -> None:
    """Decode an OTLP protobuf request body into ``decoded``; raises MalformedRequest."""
    request = parse_protobuf(body)
    check_protobuf(request, decoded)
    protobuf_rows(request, decoded.rows)


def parse_protobuf(body: bytes) -> Any:
    """The ``ExportTraceServiceRequest`` in ``body``; raises MalformedRequest. A body whose
    only fault is a string that is not UTF-8 parses with the lenient twin."""
    request: Any = ExportTraceServiceRequest()
    try:
        request.ParseFromString(body)
    except DecodeError as exc:
        if "UTF-8" not in str(exc):
            raise MalformedRequest(
                f"the body is not an OTLP protobuf trace request ({exc})"
            ) from exc
        request = request_class()()  # same wire format, strings read as bytes
        try:
            request.ParseFromString(body)
        except DecodeError as again:
            raise MalformedRequest(
                f"the body is not an OTLP protobuf trace request ({again})"
            ) from again
    except RecursionError as exc:
        raise MalformedRequest("the body nests values too deeply to be an OTLP request") from exc
    return request


def check_protobuf(request: Any, decoded: Decoded) -> None:
    """Count the spans of a parsed request that can and cannot be stored."""
    for resource_spans in request.resource_spans:
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                problem = _pb_problem(span)
                if problem is None:
                    decoded.accepted += 1
                else:
                    decoded.reject(problem)


def protobuf_rows(request: Any, rows: SpanRows) -> int:
    """Add the storable spans of a parsed request to ``rows``; returns how many."""
    added = 0
    for resource_spans in request.resource_spans:
        resource_json = rows.resource_json(_pb_attributes(resource_spans.resource.attributes))
        for scope_spans in resource_spans.scope_spans:
            scope = _text(scope_spans.scope.name) or None
            for span in scope_spans.spans:
                if _pb_problem(span) is None:
                    _pb_span(span, scope, resource_json, rows)
                    added += 1
    return added


def _pb_problem(span: Any) -> str | None:
    trace_id: bytes = span.trace_id
    if len(trace_id) != 16 or not any(trace_id):
        return "span without a valid 16-byte trace id"
    span_id: bytes = span.span_id
    if len(span_id) != 8 or not any(span_id):
        return "span without a valid 8-byte span id"
    if not span.start_time_unix_nano:
        return "span without a start time"
    return None


def _pb_span(span: Any, scope: str | None, resource_json: str, rows: SpanRows) -> None:
    parent = span.parent_span_id
    status = span.status
    rows.add(
        trace_id=span.trace_id.hex(),
        span_id=span.span_id.hex(),
        parent_span_id=parent.hex() if len(parent) == 8 and any(parent) else None,
        name=_text(span.name),
        kind=KINDS.get(span.kind, "internal"),
        start_ns=span.start_time_unix_nano,
        end_ns=span.end_time_unix_nano or None,
        status=STATUS.get(status.code, "unset"),
        status_message=_text(status.message) or None,
        attributes=_pb_attributes(span.attributes),
        events=[
            {
                "name": _text(event.name),
                "time_unix_nano": event.time_unix_nano,
                "attributes": _pb_attributes(event.attributes),
            }
            for event in span.events
        ],
        resource_json=resource_json,
        scope=scope,
        links=[
            {
                "trace_id": link.trace_id.hex(),
                "span_id": link.span_id.hex(),
                "attributes": _pb_attributes(link.attributes),
            }
            for link in span.links
        ],
    )


_SCALARS = frozenset({"bool_value", "int_value", "double_value"})


def _pb_attributes(pairs: Iterable[Any]) -> dict[str, Any]:
    attributes: dict[str, Any] = {}
    for kv in pairs:  # the common shapes inline: this runs for every attribute received
        value = kv.value
        which = value.WhichOneof("value")
        key = kv.key if type(kv.key) is str else _text(kv.key)
        if which == "string_value" and type(value.string_value) is str:
            attributes[key] = value.string_value
        elif which in _SCALARS:
            attributes[key] = getattr(value, which)
        else:
            attributes[key] = _pb_value(value, 0)
    return attributes


def _pb_value(value: Any, depth: int) -> Any:
    which = value.WhichOneof("value")
    if which == "string_value":
        return _text(value.string_value)
    if which is None:
        return None
    if which == "array_value":
        if depth >= MAX_DEPTH:
            return "…[baton: nested too deep]"
        return [_pb_value(item, depth + 1) for item in value.array_value.values]
    if which == "kvlist_value":
        if depth >= MAX_DEPTH:
            return "…[baton: nested too deep]"
        return {_text(kv.key): _pb_value(kv.value, depth + 1) for kv in value.kvlist_value.values}
    if which == "bytes_value":
        return base64.b64encode(value.bytes_value).decode("ascii")
    return getattr(value, which)


def _text(value: str | bytes) -> str:
    return value if type(value) is str else value.decode("utf-8", "replace")  # type: ignore[union-attr]
