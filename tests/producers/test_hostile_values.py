"""Hostile input: any attribute of any recorded producer span replaced by a value of the
wrong shape still normalises and reads back (no dialect raises), and OTLP/JSON links of
the wrong shape cost nothing else."""

from __future__ import annotations

from typing import Any

import pytest
from fixture_store import otlp_spans

from tracer.capture.dialects import SpanView, normalise, read_messages
from tracer.capture.spanrows import SpanRows
from tracer.otlp.decoded import Decoded
from tracer.otlp.json_body import decode_json_document

WRONG: list[Any] = [7, -1.5, True, "not json {", "[1, 2]", '{"a": [null]}', [1, "x"], {"k": 3}]


def _spans() -> list[tuple[str, dict[str, Any], str]]:
    """(name, attributes, scope) of one span of each distinct name in every fixture."""
    seen: dict[tuple[str, str], tuple[str, dict[str, Any], str]] = {}
    for name, _kind, attrs, scope in otlp_spans():
        seen.setdefault((scope, name), (name, attrs, scope))
    return list(seen.values())


@pytest.mark.parametrize("wrong", WRONG, ids=repr)
def test_no_dialect_raises_on_a_value_of_the_wrong_shape(wrong: Any) -> None:
    for name, attrs, scope in _spans():
        for key in attrs:
            hostile = {**attrs, key: wrong}
            found = normalise(SpanView(name=name, kind="internal", attributes=hostile, scope=scope))
            read_messages(found.source, hostile)


@pytest.mark.parametrize("links", [5, "x", {"a": 1}, [5, None, {"traceId": 3}]], ids=repr)
def test_links_of_the_wrong_shape_cost_nothing_else(links: Any) -> None:
    span = {
        "traceId": "ab" * 16,
        "spanId": "cd" * 8,
        "name": "s",
        "startTimeUnixNano": "1700000000000000000",
        "links": links,
    }
    decoded = Decoded(rows=SpanRows())
    decode_json_document({"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]}, decoded)
    assert len(decoded.rows) == 1


def test_a_transfer_whose_call_id_is_not_utf8_costs_nothing_else() -> None:
    """A handoff read from a model call's tool calls gets an id derived from its call id;
    a call id holding a lone surrogate once raised there and lost the whole batch."""
    rows = SpanRows()
    calls = "llm.output_messages.0.message.tool_calls.0.tool_call."
    for span_id, call_id in (("a" * 16, "call_\ud800"), ("b" * 16, "call_ok")):
        problem = rows.add(
            trace_id="ab" * 16,
            span_id=span_id,
            parent_span_id=None,
            name="ChatCompletion",
            kind="client",
            start_ns=1_700_000_000_000_000_000,
            end_ns=1_700_000_000_000_001_000,
            attributes={
                "openinference.span.kind": "LLM",
                calls + "function.name": "transfer_to_billing",
                calls + "function.arguments": "{}",
                calls + "id": call_id,
            },
            scope="openinference.instrumentation.openai",
        )
        assert problem is None
    table = rows.to_arrow()
    assert table.column("op").to_pylist() == ["chat", "handoff", "chat", "handoff"]
    assert table.column("to_agent").to_pylist() == [None, "billing", None, "billing"]
    assert table.column("tool_call_id").to_pylist()[1::2] == ["call_?", "call_ok"]
