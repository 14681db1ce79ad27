"""What ``baton collect`` receives from these producers is protobuf: each recorded export
request, encoded as the exporters sent it, decodes to exactly the rows its OTLP/JSON does
(links included)."""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

import pytest
from fixture_store import FIXTURES
from google.protobuf.json_format import ParseDict
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from tracer.capture.spanrows import SpanRows
from tracer.otlp.decoded import Decoded
from tracer.otlp.json_body import decode_json
from tracer.otlp.protobuf import decode_protobuf

_IDS = ("traceId", "spanId", "parentSpanId")


def _base64_ids(node: Any) -> Any:
    # OTLP/JSON has hex ids; protobuf's JSON mapping wants base64 for bytes.
    if isinstance(node, dict):
        return {
            k: base64.b64encode(bytes.fromhex(v)).decode()
            if k in _IDS and isinstance(v, str)
            else _base64_ids(v)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_base64_ids(item) for item in node]
    return node


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.otlp.jsonl")), ids=lambda p: p.name)
def test_protobuf_and_json_decode_alike(path: Any) -> None:
    for line in path.read_text().splitlines():
        document = json.loads(line)
        request = ParseDict(_base64_ids(copy.deepcopy(document)), ExportTraceServiceRequest())
        from_json, from_protobuf = Decoded(rows=SpanRows()), Decoded(rows=SpanRows())
        decode_json(line.encode(), from_json)
        decode_protobuf(request.SerializeToString(), from_protobuf)
        assert from_protobuf.rows.to_arrow().to_pylist() == from_json.rows.to_arrow().to_pylist()
