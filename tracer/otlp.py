"""Decoding OTLP trace export requests (protobuf or OTLP/JSON) into span rows.

Pure functions with no server in them, so the receiver (``baton collect``), file
import and the fuzz tests share them. A request that cannot be read at all raises
``MalformedRequest`` (the receiver answers 400); a span that cannot be stored (no valid
trace or span id, no start time) is counted as rejected and the rest are kept.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTracePartialSuccess,
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from tracer.otlp_lenient import request_class
from tracer.spanrows import SpanRows

PROTOBUF = "application/x-protobuf"
JSON = "application/json"
_PROTOBUF_TYPES = frozenset({PROTOBUF, "application/protobuf", "application/vnd.google.protobuf"})
_KINDS = {0: "internal", 1: "internal", 2: "server", 3: "client", 4: "producer", 5: "consumer"}
_STATUS = {0: "unset", 1: "ok", 2: "error"}
_MAX_DEPTH = 32


class MalformedRequest(ValueError):
    """The body is not an OTLP trace export request; the message says why."""


class UnsupportedContentType(ValueError):
    """Neither protobuf nor JSON."""


@dataclass
class Decoded:
    """What one request held: the rows to store and what could not be stored."""

    rows: SpanRows
    accepted: int = 0
    rejected: int = 0
    problems: list[str] = field(default_factory=list)

    def reject(self, problem: str) -> None:
        self.rejected += 1
        if len(self.problems) < 5 and problem not in self.problems:
            self.problems.append(problem)

    @property
    def error_message(self) -> str:
        return "; ".join(self.problems)


def media_type(content_type: str | None) -> str:
    """``protobuf`` or ``json`` for a Content-Type header; raises UnsupportedContentType."""
    base = (content_type or "").split(";", 1)[0].strip().lower()
    if base in _PROTOBUF_TYPES:
        return "protobuf"
    if base == JSON or base.endswith("+json"):
        return "json"
    raise UnsupportedContentType(
        f"unsupported content type {content_type!r}: send {PROTOBUF} or {JSON}"
    )


def decode(body: bytes, kind: str, rows: SpanRows | None = None) -> Decoded:
    """Decode an ``ExportTraceServiceRequest`` body (``kind`` from ``media_type``)."""
    decoded = Decoded(rows if rows is not None else SpanRows())
    if kind == "protobuf":
        _decode_protobuf(body, decoded)
    else:
        _decode_json(body, decoded)
    return decoded


def response_body(decoded: Decoded | None, kind: str) -> bytes:
    """The ``ExportTraceServiceResponse`` for a request, in the request's encoding."""
    rejected = decoded.rejected if decoded is not None else 0
    message = decoded.error_message if decoded is not None else ""
    if kind == "protobuf":
        response = ExportTraceServiceResponse()
        if rejected:
            response.partial_success.CopyFrom(
                ExportTracePartialSuccess(rejected_spans=rejected, error_message=message)
            )
        serialized: bytes = response.SerializeToString()
        return serialized
    body: dict[str, Any] = {}
    if rejected:
        body["partialSuccess"] = {"rejectedSpans": str(rejected), "errorMessage": message}
    return json.dumps(body).encode()


def error_body(message: str, kind: str | None) -> tuple[bytes, str]:
    """A ``google.rpc.Status`` for an error response, protobuf or JSON, and its type."""
    if kind == "protobuf":
        text = message.encode()
        # Status{code=3 (INVALID_ARGUMENT), message}: written by hand, it is two fields.
        return b"\x08\x03\x12" + _varint(len(text)) + text, PROTOBUF
    return json.dumps({"code": 3, "message": message}).encode(), JSON


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        bits = value & 0x7F
        value >>= 7
        if value:
            out.append(bits | 0x80)
        else:
            out.append(bits)
            return bytes(out)


# -- protobuf -----------------------------------------------------------------------------


def _decode_protobuf(body: bytes, decoded: Decoded) -> None:
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
        kind=_KINDS.get(span.kind, "internal"),
        start_ns=span.start_time_unix_nano,
        end_ns=span.end_time_unix_nano or None,
        status=_STATUS.get(status.code, "unset"),
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
        if depth >= _MAX_DEPTH:
            return "…[baton: nested too deep]"
        return [_pb_value(item, depth + 1) for item in value.array_value.values]
    if which == "kvlist_value":
        if depth >= _MAX_DEPTH:
            return "…[baton: nested too deep]"
        return {_text(kv.key): _pb_value(kv.value, depth + 1) for kv in value.kvlist_value.values}
    if which == "bytes_value":
        return base64.b64encode(value.bytes_value).decode("ascii")
    return getattr(value, which)


def _text(value: str | bytes) -> str:
    return value if type(value) is str else value.decode("utf-8", "replace")  # type: ignore[union-attr]


# -- JSON ---------------------------------------------------------------------------------


def _decode_json(body: bytes, decoded: Decoded) -> None:
    try:
        document = json.loads(body.decode("utf-8", "replace"))
    except (ValueError, RecursionError) as exc:
        raise MalformedRequest(f"the body is not JSON ({exc})") from exc
    decode_json_document(document, decoded)


def decode_json_document(document: Any, decoded: Decoded) -> None:
    """Decode an already-parsed OTLP/JSON ``ExportTraceServiceRequest``."""
    if not isinstance(document, dict):
        raise MalformedRequest("the body is JSON but not an OTLP trace request (not an object)")
    resource_spans = _get(document, "resourceSpans", "resource_spans")
    if resource_spans is None:
        if document:
            keys = ", ".join(sorted(map(str, document))[:5])
            raise MalformedRequest(
                f"the body is JSON but not an OTLP trace request (no resourceSpans; has {keys})"
            )
        return
    if not isinstance(resource_spans, list):
        raise MalformedRequest("resourceSpans must be a list")
    rows = decoded.rows
    for entry in resource_spans:
        if not isinstance(entry, dict):
            raise MalformedRequest("each resourceSpans entry must be an object")
        resource = _get(entry, "resource") or {}
        resource_attrs = _json_attributes(
            resource.get("attributes") if isinstance(resource, dict) else None
        )
        resource_json = rows.resource_json(resource_attrs)
        scopes = _get(entry, "scopeSpans", "scope_spans", "instrumentationLibrarySpans")
        for scope_spans in _list(scopes, "scopeSpans"):
            scope_info = _get(scope_spans, "scope", "instrumentationLibrary") or {}
            scope = scope_info.get("name") if isinstance(scope_info, dict) else None
            for span in _list(_get(scope_spans, "spans"), "spans"):
                _json_span(
                    span,
                    scope if isinstance(scope, str) and scope else None,
                    resource_json,
                    decoded,
                )


def _json_span(span: Any, scope: str | None, resource_json: str, decoded: Decoded) -> None:
    if not isinstance(span, dict):
        decoded.reject("a span that is not a JSON object")
        return
    trace_id = _json_id(_get(span, "traceId", "trace_id"), 16)
    span_id = _json_id(_get(span, "spanId", "span_id"), 8)
    if trace_id is None:
        decoded.reject("span without a valid trace id (32 hex digits)")
        return
    if span_id is None:
        decoded.reject("span without a valid span id (16 hex digits)")
        return
    start = _json_int(_get(span, "startTimeUnixNano", "start_time_unix_nano"))
    if not start or start < 0:
        decoded.reject("span without a start time")
        return
    end = _json_int(_get(span, "endTimeUnixNano", "end_time_unix_nano"))
    status = _get(span, "status")
    status = status if isinstance(status, dict) else {}
    events = []
    for event in _get(span, "events") or []:
        if isinstance(event, dict):
            events.append(
                {
                    "name": str(event.get("name") or ""),
                    "time_unix_nano": _json_int(_get(event, "timeUnixNano", "time_unix_nano")),
                    "attributes": _json_attributes(event.get("attributes")),
                }
            )
    message = status.get("message")
    decoded.rows.add(
        trace_id=trace_id,
        span_id=span_id,
        parent_span_id=_json_id(_get(span, "parentSpanId", "parent_span_id"), 8),
        name=str(span.get("name") or ""),
        kind=_KINDS.get(_enum(span.get("kind"), "SPAN_KIND_"), "internal"),
        start_ns=start,
        end_ns=end or None,
        status=_STATUS.get(_enum(status.get("code"), "STATUS_CODE_"), "unset"),
        status_message=str(message) if message else None,
        attributes=_json_attributes(span.get("attributes")),
        events=events,
        resource_json=resource_json,
        scope=scope,
    )
    decoded.accepted += 1


def _get(mapping: Any, *keys: str) -> Any:
    if not isinstance(mapping, dict):
        return None
    for key in keys:
        if key in mapping:
            return mapping[key]
    return None


def _list(value: Any, what: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise MalformedRequest(f"{what} must be a list")
    return value


def _json_id(value: Any, size: int) -> str | None:
    """A hex id of ``size`` bytes (base64 accepted too, as protobuf's JSON mapping has it)."""
    if not isinstance(value, str) or not value:
        return None
    text = value.lower()
    if len(text) == size * 2:
        try:
            raw = bytes.fromhex(text)
        except ValueError:
            raw = b""
    else:
        try:
            raw = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raw = b""
    if len(raw) != size or not any(raw):
        return None
    return raw.hex()


def _json_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return int(value)
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return None
    return None


def _enum(value: Any, prefix: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        names = {
            "UNSPECIFIED": 0,
            "UNSET": 0,
            "INTERNAL": 1,
            "OK": 1,
            "SERVER": 2,
            "ERROR": 2,
            "CLIENT": 3,
            "PRODUCER": 4,
            "CONSUMER": 5,
        }
        return names.get(value.upper().removeprefix(prefix), 0)
    return 0


def _json_attributes(pairs: Any) -> dict[str, Any]:
    if not isinstance(pairs, list):
        return {}
    attributes: dict[str, Any] = {}
    for pair in pairs:
        if isinstance(pair, dict) and isinstance(pair.get("key"), str):
            attributes[pair["key"]] = _json_value(pair.get("value"), 0)
    return attributes


def _json_value(value: Any, depth: int) -> Any:
    if not isinstance(value, dict):
        return None
    if "stringValue" in value or "string_value" in value:
        text = _get(value, "stringValue", "string_value")
        return text if isinstance(text, str) else str(text)
    if "boolValue" in value or "bool_value" in value:
        return bool(_get(value, "boolValue", "bool_value"))
    if "intValue" in value or "int_value" in value:
        return _json_int(_get(value, "intValue", "int_value"))
    if "doubleValue" in value or "double_value" in value:
        number = _get(value, "doubleValue", "double_value")
        try:
            return float(number)
        except (TypeError, ValueError):
            return None
    if "bytesValue" in value or "bytes_value" in value:
        data = _get(value, "bytesValue", "bytes_value")
        return data if isinstance(data, str) else None
    if depth >= _MAX_DEPTH:
        return "…[baton: nested too deep]"
    array = _get(value, "arrayValue", "array_value")
    if isinstance(array, dict):
        items = array.get("values")
        return [_json_value(v, depth + 1) for v in items] if isinstance(items, list) else []
    kvlist = _get(value, "kvlistValue", "kvlist_value")
    if isinstance(kvlist, dict):
        result: dict[str, Any] = {}
        for pair in kvlist.get("values") or []:
            if isinstance(pair, dict) and isinstance(pair.get("key"), str):
                result[pair["key"]] = _json_value(pair.get("value"), depth + 1)
        return result
    return None


def is_otlp_json(document: Mapping[str, Any]) -> bool:
    """Whether a parsed JSON object looks like an OTLP trace export request."""
    return "resourceSpans" in document or "resource_spans" in document
