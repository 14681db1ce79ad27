"""One bad value never costs a batch: every span acknowledged is stored, through every path."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from collector_process import CollectorProcess, post, start_collector
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

import tracer
from tracer.store import Store

TRACE = "5b8efff798038103d269b633813fc60c"
#: Legal OpenTelemetry values no dialect expects: a list where a name belongs, token counts
#: no 64-bit column holds.
HOSTILE_ATTRIBUTES: tuple[dict[str, Any], ...] = (
    {"gen_ai.operation.name": ["chat", "execute_tool"]},
    {"gen_ai.operation.name": "chat", "gen_ai.usage.input_tokens": math.inf},
    {"gen_ai.operation.name": "chat", "gen_ai.usage.output_tokens": 1e300},
    {"gen_ai.operation.name": "chat", "gen_ai.usage.output_tokens": -math.inf},
    {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": ["a", "b"]},
)


def span_ids(count: int) -> list[str]:
    return [f"{n + 1:016x}" for n in range(count)]


def test_setup_stores_every_span_of_a_batch_with_hostile_values(store: Store) -> None:
    provider = tracer.setup(store)
    otel = provider.get_tracer("app")
    start = 1_700_000_000_000_000_000
    for n in range(20):
        span = otel.start_span(f"span {n}", start_time=start + n * 1000)
        span.set_attributes(HOSTILE_ATTRIBUTES[n % len(HOSTILE_ATTRIBUTES)])
        span.end(end_time=start + 10**30 if n == 3 else start + n * 1000 + 500)
    assert provider.force_flush()
    tracer.shutdown()
    rows = store.query(
        "SELECT name, op, input_tokens, output_tokens, end_time IS NULL FROM spans ORDER BY start_time"
    ).rows
    assert [row[0] for row in rows] == [f"span {n}" for n in range(20)]
    assert {row[2] for row in rows} == {None} and {row[3] for row in rows} == {None}
    assert [n for n, row in enumerate(rows) if row[4]] == [3]  # the end no column holds
    ops = [row[1] for row in rows]
    assert ops[1] == "chat" and ops[0] == "other"  # the list op name is kept as text
    stored = json.loads(
        str(store.query("SELECT attributes FROM spans WHERE name = 'span 0'").rows[0][0])
    )
    assert stored["gen_ai.operation.name"] == ["chat", "execute_tool"]


def test_a_span_whose_start_no_store_can_hold_is_reported_not_the_batch(store: Store) -> None:
    provider = tracer.setup(store)
    otel = provider.get_tracer("app")
    for n in range(20):
        start = 10**30 if n == 7 else 1_700_000_000_000_000_000 + n
        otel.start_span(f"span {n}", start_time=start).end(end_time=start + 1)
    assert provider.force_flush() is False  # one span could not be stored: said so
    tracer.shutdown()
    assert store.query("SELECT count(*) FROM spans").rows == [(19,)]


def json_body(count: int) -> tuple[bytes, int]:
    """``count`` spans, each with a hostile value; two have times no store holds."""
    spans = []
    rejected = 0
    for n, span_id in enumerate(span_ids(count)):
        attrs = HOSTILE_ATTRIBUTES[n % len(HOSTILE_ATTRIBUTES)]
        start: Any = "1700000000000000000"
        if n == 5:
            start, rejected = 1e30, rejected + 1
        elif n == 6:
            start, rejected = str(2**64 + 5) + "000000", rejected + 1
        spans.append(
            {
                "traceId": TRACE,
                "spanId": span_id,
                "name": f"span {n}",
                "startTimeUnixNano": start,
                "endTimeUnixNano": "99999999999999999999999999"
                if n == 8
                else "1700000001000000000",
                "attributes": [{"key": k, "value": otlp_value(v)} for k, v in attrs.items()],
            }
        )
    body = {"resourceSpans": [{"scopeSpans": [{"scope": {"name": "s"}, "spans": spans}]}]}
    return json.dumps(body).encode(), rejected


def otlp_value(value: Any) -> dict[str, Any]:
    if isinstance(value, list):
        return {"arrayValue": {"values": [otlp_value(v) for v in value]}}
    if isinstance(value, float):
        return {
            "doubleValue": value if math.isfinite(value) else str(value).replace("inf", "Infinity")
        }
    return {"stringValue": value}


def protobuf_body(count: int) -> bytes:
    request = ExportTraceServiceRequest()
    scope = request.resource_spans.add().scope_spans.add()
    for n, span_id in enumerate(span_ids(count)):
        span = scope.spans.add()
        span.trace_id = bytes.fromhex(TRACE)
        span.span_id = bytes.fromhex(span_id)
        span.name = f"span {n}"
        span.start_time_unix_nano = 1_700_000_000_000_000_000 if n != 4 else 2**64 - 1
        span.end_time_unix_nano = 1_700_000_001_000_000_000
        for key, value in HOSTILE_ATTRIBUTES[n % len(HOSTILE_ATTRIBUTES)].items():
            kv = span.attributes.add()
            kv.key = key
            if isinstance(value, list):
                for item in value:
                    kv.value.array_value.values.add().string_value = item
            elif isinstance(value, float):
                kv.value.double_value = value
            else:
                kv.value.string_value = value
        big = span.attributes.add()
        big.key = "gen_ai.usage.input_tokens"
        big.value.int_value = 2**63 - 1
    return request.SerializeToString()


@pytest.fixture
def collector(tmp_path: Path) -> Any:
    running = start_collector(tmp_path / "collected.duckdb")
    yield running
    if running.process.poll() is None:
        running.process.kill()
        running.process.wait()


def test_collect_json_acknowledges_and_stores_every_storable_span(
    collector: CollectorProcess,
) -> None:
    body, rejected = json_body(20)
    answer = post(collector.url, body, {"Content-Type": "application/json"})
    assert answer.status_code == 200, answer.content
    partial = answer.json()["partialSuccess"]
    assert partial["rejectedSpans"] == str(rejected)
    assert "start time out of range" in partial["errorMessage"]
    code, _, err = collector.stop()
    assert code == 0 and "Traceback" not in err
    assert collector.store.query("SELECT count(*) FROM spans").rows == [(20 - rejected,)]
    assert collector.store.pending_segments() == []


def test_collect_protobuf_stores_every_acknowledged_span(collector: CollectorProcess) -> None:
    answer = post(collector.url, protobuf_body(20), {"Content-Type": "application/x-protobuf"})
    assert answer.status_code == 200
    code, _, err = collector.stop()
    assert code == 0 and "Traceback" not in err
    assert collector.store.query("SELECT count(*) FROM spans").rows == [(20,)]
    assert not (collector.store.incoming / "corrupt").exists()


HOSTILE_TEXT = st.text(
    alphabet=st.characters(codec="utf-8", categories=("L", "N", "P", "S", "Cc", "Zs")), max_size=40
)
OTLP_VALUES = st.recursive(
    st.one_of(
        HOSTILE_TEXT.map(lambda t: {"stringValue": t}),
        st.integers(min_value=-(2**63), max_value=2**63 - 1).map(lambda n: {"intValue": str(n)}),
        st.sampled_from(["Infinity", "-Infinity", "NaN", 1e300, -1e300, 0.5]).map(
            lambda d: {"doubleValue": d}
        ),
        st.booleans().map(lambda b: {"boolValue": b}),
        st.just({}),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4).map(lambda v: {"arrayValue": {"values": v}}),
        st.lists(st.tuples(HOSTILE_TEXT, inner), max_size=4).map(
            lambda kv: {"kvlistValue": {"values": [{"key": k, "value": v} for k, v in kv]}}
        ),
    ),
    max_leaves=10,
)
KEYS = st.sampled_from(
    [
        "gen_ai.operation.name",
        "gen_ai.usage.input_tokens",
        "gen_ai.usage.output_tokens",
        "gen_ai.agent.name",
        "gen_ai.tool.name",
        "gen_ai.tool.call.arguments",
        "gen_ai.conversation.id",
        "openinference.span.kind",
        "llm.token_count.prompt",
        "gen_ai.transfer.target.name",
        "api_key",
        "x",
    ]
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    spans=st.lists(
        st.tuples(
            st.lists(st.tuples(KEYS, OTLP_VALUES), max_size=6),
            st.sampled_from(["1700000000000000000", 1e30, "99999999999999999999999", 5, "x"]),
            HOSTILE_TEXT,
        ),
        min_size=1,
        max_size=8,
    )
)
def test_hostile_otlp_values_cost_at_most_their_span(
    tmp_path_factory: pytest.TempPathFactory, spans: list[Any]
) -> None:
    """Whatever the values, every span the decoder accepts is stored; only spans whose start
    no store can hold are rejected, and they are counted."""
    from tracer.capture.spanrows import SpanRows
    from tracer.otlp.decoded import Decoded
    from tracer.otlp.json_body import decode_json

    store = Store(tmp_path_factory.mktemp("fuzz") / "s.duckdb")
    document = {
        "resourceSpans": [
            {
                "scopeSpans": [
                    {
                        "spans": [
                            {
                                "traceId": TRACE,
                                "spanId": f"{n + 1:016x}",
                                "name": name,
                                "startTimeUnixNano": start,
                                "attributes": [{"key": k, "value": v} for k, v in attrs],
                            }
                            for n, (attrs, start, name) in enumerate(spans)
                        ]
                    }
                ]
            }
        ]
    }
    decoded = Decoded(SpanRows())
    decode_json(json.dumps(document).encode(), decoded)
    valid_start = sum(1 for _, start, _ in spans if start in ("1700000000000000000", 5))
    assert decoded.accepted == valid_start
    assert decoded.accepted + decoded.rejected == len(spans)
    store.ingest(decoded.rows.to_arrow())
    assert store.query("SELECT count(*) FROM spans").rows == [(decoded.accepted,)]
