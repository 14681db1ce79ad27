"""``baton collect`` bounds DuckDB's memory while it absorbs: without a limit DuckDB's
buffer cache may take 80% of RAM and grows with the burst."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

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


# The child absorbs what the parent wrote, as the receiver does, and prints its resident
# memory's high-water mark before and after (KiB): imports are in the first figure.
_ABSORB_IN_A_PROCESS = """
import resource, sys
import tracer.store.ingest
from tracer.otlp.receiver import Collector
from tracer.store import Store
collector = Collector(Store(sys.argv[1]))
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
added = collector.absorb().spans_added
print("absorbed", added, before, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def absorb_peak_mb(store: Path, segments: int, table: pa.Table) -> float:
    """Write ``segments`` copies of ``table`` (each its own trace and span ids) into
    ``store``'s incoming folder; the absorb's peak resident memory above the child's
    imports, in MB."""
    writer = Store(store)
    for k in range(segments):
        prefix = pa.scalar(f"{k:04x}")
        ids = {
            "trace_id": pc.binary_join_element_wise(
                prefix, pc.utf8_slice_codeunits(table["trace_id"], 4), ""
            ),
            "span_id": pc.binary_join_element_wise(
                prefix, pc.utf8_slice_codeunits(table["span_id"], 4), ""
            ),
            "parent_span_id": pc.binary_join_element_wise(
                prefix, pc.utf8_slice_codeunits(table["parent_span_id"], 4), ""
            ),
        }
        copy = table
        for name, column in ids.items():
            copy = copy.set_column(copy.schema.get_field_index(name), name, column)
        writer.write_segment(copy)
    done = subprocess.run(
        [sys.executable, "-c", _ABSORB_IN_A_PROCESS, str(store)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    last = done.stdout.split("absorbed")[-1]  # after any progress the store printed
    added, before, after = (int(word) for word in last.split())
    assert added == segments * table.num_rows
    return (after - before) / 1024


def test_the_absorbs_peak_memory_does_not_grow_with_the_burst(tmp_path: Path) -> None:
    # Segments as the spool writes them from 8 MB of bodies of 4 KB each: 2,000 spans.
    table = spans(2_000, "b" * 4_000)
    one = absorb_peak_mb(tmp_path / "one.duckdb", 1, table)
    many = absorb_peak_mb(tmp_path / "many.duckdb", 25, table)
    # 25x the spans (200 MB of bodies). An absorb took segments until it held 50k spans,
    # whatever their size: all 25 at once, and the peak grew by 428 MB (now: 100 MB).
    assert many - one < 250, (one, many)


def test_the_absorbs_peak_is_flat_once_duckdbs_memory_limit_is_reached(tmp_path: Path) -> None:
    # Spool-sized segments of small spans: 30 (210k spans) vs 60 (420k). DuckDB's buffer
    # pool (the blocks the inserts, the anti-join and the refresh read and write) fills up
    # to ABSORB_MEMORY_LIMIT as an absorb proceeds and no further; what an absorb holds
    # besides it does not grow with the spans: +176 then +180 MB at 128MB (6 segments:
    # +45 to +101, the pool still filling). Without a limit: +204 then +218.
    table = spans(7_000, "b" * 300)
    fewer = absorb_peak_mb(tmp_path / "fewer.duckdb", 30, table)
    more = absorb_peak_mb(tmp_path / "more.duckdb", 60, table)
    assert more - fewer < 25, (fewer, more)
    assert more < 200, (fewer, more)  # 128 MB of pool + the absorb's own ~50-70 MB
