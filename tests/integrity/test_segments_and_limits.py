"""A segment never poisons the store; arrays and whole spans are held to the limits; a
lock held elsewhere is named."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pytest

from tracer.capture.spanrows import SpanRows
from tracer.store import Store, StoreBusyError
from tracer.store.sanitize import Limits

TRACE = "5b8efff798038103d269b633813fc60c"


def batch(first: int, count: int, attributes: dict[str, object] | None = None) -> pa.Table:
    rows = SpanRows()
    for n in range(first, first + count):
        rows.add(
            trace_id=TRACE,
            span_id=f"{n:016x}",
            parent_span_id=None,
            name=f"span {n}",
            kind="internal",
            start_ns=1_700_000_000_000_000_000 + n,
            end_ns=1_700_000_000_000_000_000 + n + 10,
            attributes=attributes,
        )
    return rows.to_arrow()


def test_a_segment_of_another_shape_beside_normal_ones_is_read(store: Store) -> None:
    store.write_segment(batch(1, 5))
    older = batch(10, 5).drop_columns(["redacted", "model"])  # as another baton version wrote
    store.write_segment(older)
    odd = batch(20, 5)
    odd = odd.set_column(odd.column_names.index("duration_ms"), "duration_ms", pa.array(["x"] * 5))
    store.write_segment(
        odd.append_column("extra", pa.array([1] * 5))
    )  # a column of another type, one more
    store.write_segment(batch(30, 5))
    assert store.query("SELECT count(*) FROM spans").rows == [(20,)]
    assert store.query(
        "SELECT count(*) FROM spans WHERE span_id >= ? AND span_id < ?",
        [f"{20:016x}", f"{25:016x}"],
    ).rows == [(5,)]
    assert store.pending_segments() == []
    assert not (store.incoming / "corrupt").exists()


def test_only_a_segment_that_cannot_be_read_is_set_aside_and_named(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    store.write_segment(batch(1, 5))
    broken = store.write_segment(batch(10, 5))
    broken.write_bytes(broken.read_bytes()[:100])  # cut short
    store.write_segment(batch(20, 5))
    assert store.query("SELECT count(*) FROM spans").rows == [(10,)]
    assert (store.incoming / "corrupt" / broken.name).exists()
    assert broken.name in caplog.text and "unreadable" in caplog.text


def test_arrays_and_whole_spans_are_held_to_the_limits(store: Store) -> None:
    limits = Limits(max_value_chars=1000)
    rows = SpanRows(limits)
    rows.add(
        trace_id=TRACE,
        span_id=f"{1:016x}",
        parent_span_id=None,
        name="big",
        kind="internal",
        start_ns=1_700_000_000_000_000_000,
        end_ns=1_700_000_000_000_000_010,
        attributes={
            "array": ["x" * 100] * 100_000,  # 10 MB in one array
            **{f"many.{n}": "y" * 999 for n in range(100)},  # each under the limit, 100 kB together
        },
    )
    store.ingest(rows.to_arrow())
    attributes = json.loads(str(store.query("SELECT attributes FROM spans").rows[0][0]))
    assert len(json.dumps(attributes)) < limits.max_span_chars + 10_000
    assert len(json.dumps(attributes["array"])) < 1200
    dropped = [key for key, value in attributes.items() if "[baton: dropped" in str(value)]
    assert 0 < len(dropped) < 100  # as many as it takes, no more


def test_a_lock_held_by_another_program_is_named_with_its_pid(store: Store, tmp_path: Path) -> None:
    store.absorb()
    holder_script = tmp_path / "notebook_holder.py"
    holder_script.write_text(
        "import duckdb, sys, time\n"
        f"con = duckdb.connect({str(store.path)!r})\n"
        "print('holding', flush=True)\n"
        "time.sleep(60)\n"
    )
    holder = subprocess.Popen(
        [sys.executable, str(holder_script)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        store.write_segment(batch(1, 1))
        with pytest.raises(StoreBusyError) as caught:
            Store(store.path, lock_timeout=0.2).absorb()
        message = str(caught.value)
        assert f"PID {holder.pid}" in message and "notebook_holder.py" in message
    finally:
        holder.kill()
        holder.wait()
    time.sleep(0)


def test_an_array_is_cut_where_it_passes_the_limit(store: Store) -> None:
    rows = SpanRows(Limits(max_value_chars=1000))
    rows.add(
        trace_id=TRACE,
        span_id=f"{1:016x}",
        parent_span_id=None,
        name="array",
        kind="internal",
        start_ns=1_700_000_000_000_000_000,
        end_ns=1_700_000_000_000_000_010,
        attributes={"array": ["x" * 100] * 100_000},
    )
    store.ingest(rows.to_arrow())
    stored = json.loads(str(store.query("SELECT attributes FROM spans").rows[0][0]))["array"]
    assert stored == ["x" * 100] * 10 + ["…[baton: truncated 99990 of 100000 items]"]
