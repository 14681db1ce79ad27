"""Stores are private to their owner: files 0600, folders 0700; another user's folder is refused."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pyarrow as pa
import pytest
from click.testing import CliRunner
from spanmaker import SpanMaker, ping_pong_run

from tracer.capture.exporting import export_spans
from tracer.capture.spanrows import SpanRows
from tracer.otlp.spool import Spool
from tracer.store import Store, StoreError
from tracer.store.sanitize import Limits
from tui.cli import main


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def _permissive_umask() -> object:
    previous = os.umask(0o022)  # what most users have: new files readable by everyone
    yield
    os.umask(previous)


def record(store: Store) -> None:
    maker = SpanMaker(store)
    ping_pong_run(maker, [("Triage", "Billing")], "c1")
    maker.close()


def test_the_store_its_segments_spool_and_exports_are_the_owners_only(tmp_path: Path) -> None:
    store = Store(tmp_path / "store.duckdb")
    record(store)
    segment = store.write_segment(store_table(store))
    assert mode(store.incoming) == 0o700
    assert mode(segment) == 0o600
    store.absorb()
    assert mode(store.path) == 0o600
    spool = Spool(store, Limits())
    spool.start()
    spool.stop()
    assert mode(spool.directory) == 0o700
    for fmt, name in (("otlp-json", "out.jsonl"), ("parquet", "out.parquet")):
        export_spans(store, tmp_path / name, fmt)
        assert mode(tmp_path / name) == 0o600, fmt


def test_an_existing_store_readable_by_others_is_tightened_when_written(tmp_path: Path) -> None:
    store = Store(tmp_path / "store.duckdb")
    record(store)
    os.chmod(store.path, 0o644)
    store.write_segment(store_table(store))
    store.absorb()
    assert mode(store.path) == 0o600


def store_table(store: Store) -> pa.Table:
    """One more span, as a recorder would write it."""
    rows = SpanRows()
    rows.add(
        trace_id="5b8efff798038103d269b633813fc60c",
        span_id="00000000000000aa",
        parent_span_id=None,
        name="extra",
        kind="internal",
        start_ns=1_700_000_000_000_000_000,
        end_ns=1_700_000_000_000_001_000,
    )
    return rows.to_arrow()


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0,
    reason="giving a folder to another user needs root",
)
def test_an_incoming_folder_another_user_owns_is_refused(tmp_path: Path) -> None:
    store = Store(tmp_path / "store.duckdb")
    record(store)
    planted = store.write_segment(store_table(store))
    os.chown(store.incoming, 65534, 65534)
    with pytest.raises(StoreError, match=r"belongs to another user .*will not read spans from it"):
        store.absorb()
    assert planted.exists()  # refused, not absorbed
    result = CliRunner().invoke(main, ["traces", "--store", str(store.path)])
    assert result.exit_code == 1
    assert "belongs to another user" in result.stderr
