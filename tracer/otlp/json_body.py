"""Decoding OTLP/JSON trace export requests: lowerCamelCase keys (snake_case accepted
too, as proto3's JSON mapping allows), hex trace and span ids (base64 accepted), 64-bit
integers as strings or numbers, enums as numbers or names."""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Mapping
from typing import Any

from tracer.otlp.decoded import KINDS, MAX_DEPTH, STATUS, Decoded, MalformedRequest


def decode_json(body: bytes, decoded: Decoded) -> None:
    """Decode an OTLP/JSON request body into ``decoded``; raises MalformedRequest."""
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
    links = []
    given = _get(span, "links")
    for link in given if isinstance(given, list) else ():
        if isinstance(link, dict):
            links.append(
                {
                    "trace_id": _json_id(_get(link, "traceId", "trace_id"), 16),
                    "span_id": _json_id(_get(link, "spanId", "span_id"), 8),
                    "attributes": _json_attributes(link.get("attributes")),
                }
            )
    message = status.get("message")
    problem = decoded.rows.add(
        trace_id=trace_id,
        span_id=span_id,
        parent_span_id=_json_id(_get(span, "parentSpanId", "parent_span_id"), 8),
        name=str(span.get("name") or ""),
        kind=KINDS.get(_enum(span.get("kind"), "SPAN_KIND_"), "internal"),
        start_ns=start,
        end_ns=end or None,
        status=STATUS.get(_enum(status.get("code"), "STATUS_CODE_"), "unset"),
        status_message=str(message) if message else None,
        attributes=_json_attributes(span.get("attributes")),
        events=events,
        resource_json=resource_json,
        scope=scope,
        links=links,
    )
    if problem is None:
        decoded.accepted += 1
    else:
        decoded.reject(problem)


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
    if depth >= MAX_DEPTH:
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
