"""Fuzzing the receiver's decoding: whatever arrives, ``decode`` either returns rows that
make a valid Arrow batch or raises ``MalformedRequest`` (the receiver's 400)."""

from __future__ import annotations

import json
import math
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from tracer.capture.spanrows import SpanRows
from tracer.otlp.decoded import Decoded, MalformedRequest
from tracer.otlp.json_body import decode_json_document
from tracer.otlp.request import decode

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def decodes_or_refuses(body: bytes, kind: str) -> Decoded | None:
    try:
        decoded = decode(body, kind)
    except MalformedRequest as exc:
        assert str(exc)
        return None
    table = decoded.rows.to_arrow()
    assert table.num_rows == decoded.accepted
    return decoded


def valid_request(names: list[str]) -> bytes:
    request = ExportTraceServiceRequest()
    spans = request.resource_spans.add().scope_spans.add()
    for index, name in enumerate(names, start=1):
        span = spans.spans.add()
        span.trace_id = bytes(range(1, 17))
        span.span_id = index.to_bytes(8, "big")
        span.name = name
        span.start_time_unix_nano = 1_700_000_000_000_000_000 + index
        kv = span.attributes.add()
        kv.key = "gen_ai.operation.name"
        kv.value.string_value = "chat"
    return request.SerializeToString()


@FUZZ
@given(st.binary(max_size=2048))
def test_any_bytes_as_protobuf(body: bytes) -> None:
    decodes_or_refuses(body, "protobuf")


@FUZZ
@given(st.binary(max_size=2048))
def test_any_bytes_as_json(body: bytes) -> None:
    decodes_or_refuses(body, "json")


@FUZZ
@given(
    st.lists(st.text(max_size=20), min_size=1, max_size=5),
    st.data(),
)
def test_damaged_protobuf_requests(names: list[str], data: st.DataObject) -> None:
    body = bytearray(valid_request(names))
    cut = data.draw(st.integers(0, len(body)))
    flips = data.draw(st.lists(st.tuples(st.integers(0, len(body) - 1), st.integers(0, 255))))
    for position, value in flips:
        body[position] = value
    decodes_or_refuses(bytes(body[:cut] if data.draw(st.booleans()) else body), "protobuf")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(
        st.sampled_from(
            ["traceId", "spanId", "name", "startTimeUnixNano", "attributes", "key", "value",
             "stringValue", "intValue", "arrayValue", "kvlistValue", "values", "spans",
             "scopeSpans", "resource", "status", "code", "events", "x"]
        ),
        inner,
        max_size=5,
    ),
    max_leaves=30,
)  # fmt: skip


@FUZZ
@given(json_values)
def test_otlp_shaped_json_of_any_content(value: Any) -> None:
    document = {"resourceSpans": [{"scopeSpans": [{"spans": [value, value]}]}]}
    body = json.dumps(document).encode()
    decodes_or_refuses(body, "json")
    decodes_or_refuses(json.dumps({"resourceSpans": value}).encode(), "json")


attribute_values = (
    st.text(max_size=30)
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.lists(st.text(max_size=10), max_size=4)
)
attribute_keys = st.text("abcdefghij._", min_size=1, max_size=12)


@FUZZ
@given(st.dictionaries(attribute_keys, attribute_values, max_size=8))
def test_attributes_survive_protobuf_and_json_alike(attributes: dict[str, Any]) -> None:
    request = ExportTraceServiceRequest()
    span = request.resource_spans.add().scope_spans.add().spans.add()
    span.trace_id = b"\x01" * 16
    span.span_id = b"\x02" * 8
    span.name = "s"
    span.start_time_unix_nano = 1
    json_attributes = []
    for key, value in attributes.items():
        kv = span.attributes.add()
        kv.key = key
        if isinstance(value, bool):
            kv.value.bool_value = value
            json_value: dict[str, Any] = {"boolValue": value}
        elif isinstance(value, int):
            kv.value.int_value = value
            json_value = {"intValue": str(value)}
        elif isinstance(value, float):
            kv.value.double_value = value
            json_value = {"doubleValue": value}
        elif isinstance(value, str):
            kv.value.string_value = value
            json_value = {"stringValue": value}
        else:
            kv.value.array_value.SetInParent()  # an empty list is still a list
            for item in value:
                kv.value.array_value.values.add().string_value = item
            json_value = {"arrayValue": {"values": [{"stringValue": v} for v in value]}}
        json_attributes.append({"key": key, "value": json_value})

    from_protobuf = decode(request.SerializeToString(), "protobuf").rows.to_arrow()
    decoded = Decoded(SpanRows())
    decode_json_document(
        {
            "resourceSpans": [
                {
                    "scopeSpans": [
                        {
                            "spans": [
                                {
                                    "traceId": "01" * 16,
                                    "spanId": "02" * 8,
                                    "name": "s",
                                    "startTimeUnixNano": "1",
                                    "attributes": json_attributes,
                                }
                            ]
                        }
                    ]
                }
            ]
        },
        decoded,
    )
    from_json = decoded.rows.to_arrow()
    stored = json.loads(from_protobuf.column("attributes")[0].as_py())
    assert stored == json.loads(from_json.column("attributes")[0].as_py())
    for key, value in attributes.items():
        if isinstance(value, float):
            assert math.isclose(stored[key], value) or stored[key] == value
        else:
            assert stored[key] == value
