"""A tool call or transfer belongs to the latest model call started at or before it; when
model calls start at the same instant, to the last of them in span-id order (the order
``turns`` numbers them in). Before, the ASOF join chose among the tied model calls, and
DuckDB may pick any of several rows with equal keys: the same spans could be stored with
different turns from one absorb to the next."""

from __future__ import annotations

import random
from pathlib import Path

import pyarrow as pa
import pytest
from test_derived_facts import views_and_references

from tracer.capture.spanrows import SpanRows
from tracer.store import Store

EPOCH_NS = 1_700_000_000_000_000_000
TRACES = 400


def _span(
    rows: SpanRows,
    trace_id: str,
    span_id: int,
    parent: int | None,
    op: str,
    at: int,
    **extra: object,
) -> None:
    rows.add(
        trace_id=trace_id,
        span_id=f"{span_id:016x}",
        parent_span_id=None if parent is None else f"{parent:016x}",
        name=op,
        kind="internal",
        start_ns=at,
        end_ns=at + 1_000_000,
        attributes={"gen_ai.operation.name": op, **extra},
    )


def tied_runs() -> pa.Table:
    """Per trace an agent span with three model calls started at one instant, then a tool
    call and a transfer under the same agent, and a tool call under another agent."""
    rows = SpanRows()
    transfer = {
        "gen_ai.tool.name": "transfer_to_billing",
        "gen_ai.transfer.mode": "pass_control",
        "gen_ai.transfer.target.name": "Billing",
    }
    for number in range(TRACES):
        trace_id, start = f"{number + 1:032x}", EPOCH_NS + number * 10_000_000
        _span(rows, trace_id, 1, None, "invoke_agent", start, **{"gen_ai.agent.name": "Triage"})
        _span(rows, trace_id, 2, None, "invoke_agent", start, **{"gen_ai.agent.name": "Billing"})
        for chat in (0x10, 0x12, 0x11):  # one instant; span-id order is 0x10, 0x11, 0x12
            _span(rows, trace_id, chat, 1, "chat", start + 1000, **{"gen_ai.request.model": "m"})
        _span(
            rows, trace_id, 0x20, 1, "execute_tool", start + 2000, **{"gen_ai.tool.name": "lookup"}
        )
        _span(rows, trace_id, 0x21, 1, "execute_tool", start + 3000, **transfer)
        _span(
            rows, trace_id, 0x30, 2, "execute_tool", start + 4000, **{"gen_ai.tool.name": "refund"}
        )
    return rows.to_arrow()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_call_after_tied_model_calls_belongs_to_the_last_of_them(
    tmp_path: Path, seed: int
) -> None:
    table = tied_runs()
    order = list(range(table.num_rows))
    random.Random(seed).shuffle(order)
    shuffled = table.take(order)
    store = Store(tmp_path / "store.duckdb")
    for start in range(0, shuffled.num_rows, 700):
        store.write_segment(shuffled.slice(start, 700))
    tools = store.query("SELECT tool_name, turn, count(*) FROM tool_calls GROUP BY ALL ORDER BY 1")
    assert tools.rows == [("lookup", 3, TRACES), ("refund", 3, TRACES)]
    handoffs = store.query("SELECT turn, count(*) FROM handoffs GROUP BY ALL")
    assert handoffs.rows == [(3, TRACES)]
    turns = store.query("SELECT span_id, turn, count(*) FROM turns GROUP BY ALL ORDER BY 1")
    assert turns.rows == [
        ("0000000000000010", 1, TRACES),
        ("0000000000000011", 2, TRACES),
        ("0000000000000012", 3, TRACES),
    ]
    for name, ours, reference in views_and_references(store):
        assert ours == reference, name
