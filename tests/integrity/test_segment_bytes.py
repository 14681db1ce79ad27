"""A segment file holds exactly Arrow's IPC file of its table, however it is written.

The write is buffered (``tracer.store.segments.write_segment``: one system call, not one
per column buffer); the file must stay the bytes Arrow's own writer makes, so segments of
every baton version read alike."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from tracer.capture.spanrows import SpanRows
from tracer.store import segments


def _table(count: int) -> pa.Table:
    rows = SpanRows()
    for index in range(count):
        rows.add(
            trace_id=f"{index // 7:032x}",
            span_id=f"{index + 1:016x}",
            parent_span_id=None,
            name=f"chat {index}",
            kind="client",
            start_ns=1_700_000_000_000_000_000 + index,
            end_ns=1_700_000_000_000_000_000 + index + 1000,
            attributes={"gen_ai.operation.name": "chat", "note": "x" * (index % 300)},
        )
    return rows.to_arrow()


def test_a_segment_is_arrows_own_ipc_file_of_its_table(tmp_path: Path) -> None:
    for count in (0, 1, 700, 5000):  # 5000 spans: more than the write buffer holds
        table = _table(count)
        path = segments.write_segment(tmp_path / "incoming", table)
        sink = pa.BufferOutputStream()
        with pa.ipc.new_file(sink, table.schema) as out:
            out.write_table(table)
        assert path.read_bytes() == sink.getvalue().to_pybytes()
        back = segments.read_segment(path)
        assert back.equals(table, check_metadata=True)
        assert not list(path.parent.glob("*.tmp"))
