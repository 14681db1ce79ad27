"""``baton collect`` bounds DuckDB's memory while it absorbs: without a limit DuckDB's
buffer cache may take 80% of RAM and grows with the burst."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa

from tracer.capture.spanrows import SpanRows
from tracer.otlp.receiver import ABSORB_MEMORY_LIMIT, Collector
from tracer.store import Store


def as_duckdb_reports(limit: str) -> str:
    """``limit`` as DuckDB prints it back (``256MB`` reads ``244.1 MiB``)."""
    con = duckdb.connect()
    con.execute(f"SET memory_limit = '{limit}'")
    return str(con.execute("SELECT current_setting('memory_limit')").fetchone()[0])  # type: ignore[index]


def spans(count: int, body: str) -> pa.Table:
    rows = SpanRows()
    for n in range(1, count + 1):
        rows.add(
            trace_id=f"{n % 97:032x}",
            span_id=f"{n:016x}",
            parent_span_id=None,
            name=f"span {n}",
            kind="internal",
            start_ns=1_700_000_000_000_000_000 + n,
            end_ns=1_700_000_000_000_000_000 + n + 10,
            attributes={"body": body},
        )
    return rows.to_arrow()


def test_the_receivers_absorbs_run_under_a_memory_limit(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.duckdb")
    collector = Collector(store)
    with collector.store.write_connection() as con:
        limit = con.execute("SELECT current_setting('memory_limit')").fetchone()
    assert limit == (as_duckdb_reports(ABSORB_MEMORY_LIMIT),)


def test_an_absorb_of_large_bodies_under_the_limit_stores_them_all(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.duckdb")
    collector = Collector(store)
    # 20k spans of 4 KB bodies: 80 MB of attributes in one absorb's chunk.
    table = spans(20_000, "b" * 4_000)
    store.write_segment(table)
    assert collector.store.absorb().spans_added == 20_000
    stored = store.query("SELECT span_id, attributes->>'body' FROM spans ORDER BY span_id").rows
    assert stored == [(f"{n:016x}", "b" * 4_000) for n in range(1, 20_001)]
