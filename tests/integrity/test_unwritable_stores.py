"""A store that cannot be written (read-only, another user's, a full disk) is still read,
and what could not be done is said with its real cause."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from filesystems import fill, remount_read_only, small_filesystem
from spanmaker import SpanMaker, ping_pong_run

import tracer
from tracer.capture.spanrows import SpanRows
from tracer.store import Store

HOPS = [("Triage", "Billing"), ("Billing", "Triage")]


def record(store: Store, conversation: str) -> None:
    maker = SpanMaker(store)
    ping_pong_run(maker, HOPS, conversation)
    maker.close()


def spans_in(store: Store) -> int:
    return int(store.query("SELECT count(*) FROM spans").rows[0][0])


def pending_segment(store: Store) -> Path:
    """A segment waiting in incoming (written by a recorder, not absorbed yet)."""
    rows = SpanRows()
    rows.add(
        trace_id="5b8efff798038103d269b633813fc60c",
        span_id="00000000000000aa",
        parent_span_id=None,
        name="late span",
        kind="internal",
        start_ns=1_700_000_000_000_000_000,
        end_ns=1_700_000_000_000_001_000,
    )
    return store.write_segment(rows.to_arrow())


def baton(*args: str, user: str | None = None) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "tui", *args]
    if user is not None:
        command = ["setpriv", "--reuid", user, "--regid", user, "--clear-groups", *command]
        # (numeric ids: the name of nobody's group differs between distributions)
    return subprocess.run(command, capture_output=True, text=True, timeout=120, cwd="/")


def test_a_store_on_a_read_only_file_system_is_read(tmp_path: Path) -> None:
    with small_filesystem(tmp_path / "ro", "16m") as mount:
        store = Store(mount / "store.duckdb")
        record(store, "c1")
        stored = spans_in(store)
        pending_segment(store)
        remount_read_only(mount)
        result = baton("sql", "--store", str(store.path), "select count(*) as n from spans")
        assert result.returncode == 0, result.stderr
        assert result.stdout.splitlines()[2].strip() == str(stored)
        assert "1 pending segment" in result.stderr and "could not be absorbed" in result.stderr
        assert "cannot be written here" in result.stderr and "Traceback" not in result.stderr
        status = baton("store", "status", "--store", str(store.path))
        assert status.returncode == 0 and "1 segments" in status.stdout


@pytest.mark.skipif(os.geteuid() != 0, reason="reading as another user needs root to switch")
def test_another_users_store_readable_to_us_is_read(tmp_path: Path) -> None:
    if baton("--version", user="65534").returncode != 0:
        pytest.skip("another user cannot run this Python (its installation is private)")
    shared = Path("/tmp") / f"baton-shared-{os.getpid()}"
    shared.mkdir(mode=0o755, exist_ok=True)
    try:
        store = Store(shared / "store.duckdb")
        record(store, "c1")
        stored = spans_in(store)
        pending_segment(store)
        # Its owner chose to share it: readable by others, writable by the owner only.
        for path in (store.path, store.incoming, *store.pending_segments()):
            os.chmod(path, 0o755 if path.is_dir() else 0o644)
        result = baton(
            "sql", "--store", str(store.path), "select count(*) as n from spans", user="65534"
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.splitlines()[2].strip() == str(stored)
        assert "could not be absorbed" in result.stderr
    finally:
        subprocess.run(["rm", "-rf", str(shared)], check=False)


def test_a_full_disk_is_named_as_the_cause(tmp_path: Path) -> None:
    with small_filesystem(tmp_path / "full", "12m") as mount:
        store = Store(mount / "store.duckdb")
        record(store, "c1")
        stored = spans_in(store)
        pending_segment(store)
        fill(mount)
        result = baton("sql", "--store", str(store.path), "select count(*) as n from spans")
        assert result.returncode == 0, result.stderr
        assert result.stdout.splitlines()[2].strip() == str(stored)
        assert (
            "No space left on device" in result.stderr or "no space left" in result.stderr.lower()
        )
        assert "the disk is full: free space" in result.stderr
        assert "no transaction is active" not in result.stderr


def test_a_recorder_on_a_full_disk_says_its_spans_are_lost(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with small_filesystem(tmp_path / "full", "12m") as mount:
        store = Store(mount / "store.duckdb")
        record(store, "c1")
        fill(mount)
        provider = tracer.setup(store)
        provider.get_tracer("app").start_span("lost").end()
        assert provider.force_flush() is False
        tracer.shutdown()
        assert "they are not recorded" in caplog.text
        assert "move into the store" not in caplog.text
