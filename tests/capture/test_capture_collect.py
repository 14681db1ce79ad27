"""``baton collect`` as a user runs it: a real process on a loopback port, fed by the
standard OTLP exporter and by raw HTTP for everything a misbehaving client sends."""

from __future__ import annotations

import gzip
import json
import signal
from pathlib import Path

import pytest
from collector_process import CollectorProcess, get, post, start_collector
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

PROTOBUF = {"Content-Type": "application/x-protobuf"}
JSON = {"Content-Type": "application/json"}
TRACE = "5b8efff798038103d269b633813fc60c"


def json_span(span_id: str, name: str, trace_id: str = TRACE, **extra: object) -> dict[str, object]:
    return {
        "traceId": trace_id,
        "spanId": span_id,
        "name": name,
        "kind": 1,
        "startTimeUnixNano": "1700000000000000000",
        "endTimeUnixNano": "1700000001000000000",
        **extra,
    }


def json_request(*spans: dict[str, object], scope: str = "raw-http") -> bytes:
    return json.dumps(
        {
            "resourceSpans": [
                {
                    "resource": {
                        "attributes": [{"key": "service.name", "value": {"stringValue": "raw"}}]
                    },
                    "scopeSpans": [{"scope": {"name": scope}, "spans": list(spans)}],
                }
            ]
        }
    ).encode()


def protobuf_request(name: str, span_id: bytes, attribute: str = "fine") -> bytes:
    request = ExportTraceServiceRequest()
    span = request.resource_spans.add().scope_spans.add().spans.add()
    span.trace_id = bytes.fromhex(TRACE)
    span.span_id = span_id
    span.name = name
    span.start_time_unix_nano = 1_700_000_000_000_000_000
    span.end_time_unix_nano = 1_700_000_000_500_000_000
    kv = span.attributes.add()
    kv.key = "note"
    kv.value.string_value = attribute
    return request.SerializeToString()


def test_the_standard_exporter_records_spans_with_resource_and_scope(
    collector: CollectorProcess,
) -> None:
    provider = TracerProvider(resource=Resource.create({"service.name": "checkout"}))
    provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=collector.url)))
    tracer = provider.get_tracer("shop.instrumentation")
    with tracer.start_as_current_span("invoke_agent Cashier") as span:
        span.set_attributes(
            {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "Cashier"}
        )
        with tracer.start_as_current_span("execute_tool charge") as tool:
            tool.set_attributes(
                {
                    "gen_ai.operation.name": "execute_tool",
                    "gen_ai.tool.name": "charge",
                    "gen_ai.tool.call.arguments": '{"cents": 4200}',
                    "http.request.header.authorization": "Bearer sk-live-should-not-be-kept",
                }
            )
    provider.shutdown()
    code, out, _ = collector.stop()

    assert code == 0
    assert "2 spans from 2 requests" in out
    rows = collector.store.query(
        "SELECT name, scope, resource->>'service.name', agent_name, op FROM spans "
        "ORDER BY start_time"
    ).rows
    assert rows == [
        ("invoke_agent Cashier", "shop.instrumentation", "checkout", "Cashier", "agent"),
        ("execute_tool charge", "shop.instrumentation", "checkout", "Cashier", "tool"),
    ]
    attributes = collector.store.query("SELECT attributes::VARCHAR FROM spans").rows
    assert not any("sk-live" in row[0] for row in attributes)
    assert collector.store.pending_segments() == []  # absorbed at exit


def test_bad_input_gets_a_clear_answer_and_every_valid_span_is_kept(
    collector: CollectorProcess,
) -> None:
    url = collector.url
    valid = protobuf_request("valid protobuf", b"\x01" * 8)
    answers = {
        "truncated protobuf": post(url, valid[:-7], headers=PROTOBUF),
        "json that is not otlp": post(url, b'{"hello": "world"}', headers=JSON),
        "not json at all": post(url, b"{nope", headers=JSON),
        "unknown content type": post(url, b"x", headers={"Content-Type": "text/csv"}),
        "unknown encoding": post(url, valid, headers={**PROTOBUF, "Content-Encoding": "br"}),
        "gzip that is not gzip": post(
            url, b"not gzip", headers={**PROTOBUF, "Content-Encoding": "gzip"}
        ),
    }
    bad_utf8 = protobuf_request("bad utf-8", b"\x02" * 8, "ok").replace(b"ok", b"o\xff")
    answers["invalid utf-8 in an attribute"] = post(url, bad_utf8, headers=PROTOBUF)
    answers["invalid utf-8 in json"] = post(
        url,
        json_request(json_span("0303030303030303", "caf\xe9")).replace(b"caf\\u00e9", b"caf\xe9"),
        headers=JSON,
    )
    mixed = json_request(
        json_span("0404040404040404", "kept next to a bad one"),
        json_span("0505050505050505", "no trace id", trace_id=""),
        json_span("0606060606060606", "zero trace id", trace_id="0" * 32),
    )
    answers["a span with no trace id"] = post(url, mixed, headers=JSON)
    answers["still serving"] = post(url, valid, headers=PROTOBUF)

    status = {what: answer.status_code for what, answer in answers.items()}
    assert status == {
        "truncated protobuf": 400,
        "json that is not otlp": 400,
        "not json at all": 400,
        "unknown content type": 415,
        "unknown encoding": 415,
        "gzip that is not gzip": 400,
        "invalid utf-8 in an attribute": 200,
        "invalid utf-8 in json": 200,
        "a span with no trace id": 200,
        "still serving": 200,
    }
    assert "resourceSpans" in answers["json that is not otlp"].json()["message"]
    assert "text/csv" in answers["unknown content type"].json()["message"]
    partial = answers["a span with no trace id"].json()["partialSuccess"]
    assert partial["rejectedSpans"] == "2"
    assert "trace id" in partial["errorMessage"]
    ok = ExportTraceServiceResponse.FromString(answers["still serving"].content)
    assert not ok.HasField("partial_success")

    code, _, _ = collector.stop()
    assert code == 0
    names = collector.store.query("SELECT name, attributes->>'note' FROM spans ORDER BY name").rows
    assert names == [
        ("bad utf-8", "o\ufffd"),
        ("caf\ufffd", None),
        ("kept next to a bad one", None),
        ("valid protobuf", "fine"),
    ]


def test_a_body_over_the_limit_is_413_compressed_or_not(collector: CollectorProcess) -> None:
    big = b"\x00" * (50 * 1024 * 1024)
    plain = post(collector.url, big, headers=PROTOBUF)
    bomb = post(
        collector.url,
        gzip.compress(big),
        headers={**PROTOBUF, "Content-Encoding": "gzip"},
    )
    after = post(collector.url, protobuf_request("after", b"\x07" * 8), headers=PROTOBUF)
    assert (plain.status_code, bomb.status_code, after.status_code) == (413, 413, 200)
    assert b"--max-body" in plain.content
    code, _, _ = collector.stop()
    assert code == 0
    assert collector.store.query("SELECT name FROM spans").rows == [("after",)]


def test_max_body_is_configurable(tmp_path: Path) -> None:
    collector = start_collector(tmp_path / "small.duckdb", "--max-body", "1KiB")
    try:
        body = json_request(*(json_span(f"{i + 1:016x}", "x" * 50) for i in range(40)))
        assert len(body) > 1024
        assert post(collector.url, body, headers=JSON).status_code == 413
    finally:
        collector.stop()


def test_a_bearer_token_is_required_when_set(tmp_path: Path) -> None:
    collector = start_collector(tmp_path / "guarded.duckdb", "--token", "s3cret-token")
    try:
        body = json_request(json_span("0101010101010101", "guarded"))
        missing = post(collector.url, body, headers=JSON)
        wrong = post(collector.url, body, headers={**JSON, "Authorization": "Bearer nope"})
        right = post(
            collector.url,
            body,
            headers={**JSON, "Authorization": "Bearer s3cret-token"},
        )
        assert (missing.status_code, wrong.status_code, right.status_code) == (401, 401, 200)
        assert missing.headers["www-authenticate"] == "Bearer"
        provider = TracerProvider()
        exporter = OTLPSpanExporter(
            endpoint=collector.url, headers={"Authorization": "Bearer s3cret-token"}
        )
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        with provider.get_tracer("app").start_as_current_span("from the exporter"):
            pass
        provider.shutdown()
    finally:
        code, _, _ = collector.stop()
    assert code == 0
    names = collector.store.query("SELECT name FROM spans ORDER BY name").rows
    assert names == [("from the exporter",), ("guarded",)]


def test_sigint_stores_everything_and_exits_0(collector: CollectorProcess) -> None:
    spans = [json_span(f"{i + 1:016x}", f"span {i}") for i in range(300)]
    for start in range(0, 300, 100):
        answer = post(collector.url, json_request(*spans[start : start + 100]), headers=JSON)
        assert answer.status_code == 200
    collector.process.send_signal(signal.SIGINT)
    code, out, _ = collector.stop()
    assert code == 0
    assert "300 spans from 3 requests" in out
    # Everything is in the database file itself, not waiting in segments.
    assert collector.store.pending_segments() == []
    import duckdb

    with duckdb.connect(str(collector.store.path), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM spans").fetchone() == (300,)


def test_it_listens_on_loopback_and_says_where_it_stores(collector: CollectorProcess) -> None:
    assert collector.banner[0].startswith("baton collect: listening on http://127.0.0.1:")
    assert str(collector.store.path) in collector.banner[1]
    assert get(collector.endpoint + "/").status_code == 200
    assert get(collector.url).status_code == 405
    collector.stop()


@pytest.mark.parametrize("host", ["0.0.0.0"])
def test_listening_beyond_loopback_without_a_token_warns(tmp_path: Path, host: str) -> None:
    import re
    import subprocess
    import sys

    process = subprocess.Popen(
        [sys.executable, "-m", "tui", "collect", "--store", str(tmp_path / "s.duckdb"),
         "--host", host, "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stdout is not None
    line = process.stdout.readline()
    assert re.match(r"baton collect: listening on http://0\.0\.0\.0:\d+/v1/traces", line)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 0
    assert "without --token" in err


def test_a_killed_receiver_loses_no_acknowledged_span(tmp_path: Path) -> None:
    store_path = tmp_path / "crash.duckdb"
    first = start_collector(store_path)
    for batch in range(5):
        request = ExportTraceServiceRequest()
        spans = request.resource_spans.add().scope_spans.add()
        for index in range(200):
            span = spans.spans.add()
            span.trace_id = bytes.fromhex(TRACE)
            span.span_id = (batch * 1000 + index + 1).to_bytes(8, "big")
            span.name = f"span {batch}-{index}"
            span.start_time_unix_nano = 1_700_000_000_000_000_000 + index
        answer = post(first.url, request.SerializeToString(), headers=PROTOBUF)
        assert answer.status_code == 200
    first.process.kill()  # no chance to convert or absorb anything
    first.process.wait()

    second = start_collector(store_path)
    code, _, _ = second.stop()
    assert code == 0
    assert second.store.query("SELECT count(*) FROM spans").rows == [(1000,)]


def test_a_damaged_spool_file_is_set_aside_and_the_others_converted(tmp_path: Path) -> None:
    store_path = tmp_path / "spooled.duckdb"
    spool = Path(f"{store_path}.incoming") / "otlp-spool"
    spool.mkdir(parents=True)
    (spool / "00000000000000000001-1-aaaaaaaaaaaa.pb").write_bytes(b"\xff\xff not protobuf")
    (spool / "00000000000000000002-1-bbbbbbbbbbbb.pb").write_bytes(
        protobuf_request("left in the spool", b"\x09" * 8)
    )
    collector = start_collector(store_path)
    code, _, err = collector.stop()
    assert code == 0
    assert "00000000000000000001-1-aaaaaaaaaaaa.pb" in err
    assert collector.store.query("SELECT name FROM spans").rows == [("left in the spool",)]
    assert [p.name for p in (spool.parent / "corrupt").iterdir()] == [
        "00000000000000000001-1-aaaaaaaaaaaa.pb"
    ]
    assert list(spool.iterdir()) == []
