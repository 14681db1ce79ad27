"""An OTLP/HTTP trace export request as the receiver and file import see it: its media
type, its body decoded into span rows (protobuf or OTLP/JSON), and the answer.

Pure functions with no server in them, so the receiver (``baton collect``), file import
and the fuzz tests share them. A request that cannot be read at all raises
``MalformedRequest`` (the receiver answers 400); a span that cannot be stored (no valid
trace or span id, no start time) is counted as rejected and the rest are kept.
"""

from __future__ import annotations

import json
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTracePartialSuccess,
    ExportTraceServiceResponse,
)

from tracer.capture.spanrows import SpanRows
from tracer.otlp.decoded import Decoded, UnsupportedContentType
from tracer.otlp.json_body import decode_json
from tracer.otlp.protobuf import decode_protobuf

PROTOBUF = "application/x-protobuf"
JSON = "application/json"
_PROTOBUF_TYPES = frozenset({PROTOBUF, "application/protobuf", "application/vnd.google.protobuf"})


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
        decode_protobuf(body, decoded)
    else:
        decode_json(body, decoded)
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
