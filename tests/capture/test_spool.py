"""The receiver's spool on its own: accepted requests become segments, many at a time."""

from __future__ import annotations

from pathlib import Path

from test_capture_collect import protobuf_request

from tracer.otlp.spool import SPOOL_DIR, Spool
from tracer.store import Store
from tracer.store.sanitize import Limits


def test_requests_waiting_in_the_spool_become_one_segment(tmp_path: Path) -> None:
    store = Store(tmp_path / "spooled.duckdb")
    spool_dir = store.incoming / SPOOL_DIR
    spool_dir.mkdir(parents=True)
    names = [f"left {i}" for i in range(20)]
    for i, name in enumerate(names):  # as a killed receiver leaves them
        body = protobuf_request(name, bytes([i + 1]) * 8)
        (spool_dir / f"{i + 1:020d}-1-{i:012x}.pb").write_bytes(body)

    spool = Spool(store, Limits())
    spool.start()
    spool.stop()

    assert len(store.pending_segments()) == 1  # one file, one fsync, for all twenty
    assert list(spool_dir.iterdir()) == []
    assert sorted(store.query("SELECT name FROM spans").rows) == sorted((n,) for n in names)
