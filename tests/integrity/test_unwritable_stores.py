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


def recorded_with_a_pending_segment(path: Path) -> tuple[Store, int]:
    """A store holding a run, and one more segment not absorbed yet; and its span count."""
    store = Store(path)
    record(store, "c1")
    stored = spans_in(store)
    pending_segment(store)
    return store, stored


def read_as_it_is(store: Store, stored: int, user: str | None = None) -> str:
    """``baton sql`` reads the spans the file holds, and says something was left out;
    returns what it said on stderr."""
    result = baton("sql", "--store", str(store.path), "select count(*) as n from spans", user=user)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[2].strip() == str(stored)
    assert "1 pending segment" in result.stderr and "could not be absorbed" in result.stderr
    assert "Traceback" not in result.stderr
    return result.stderr


def test_a_store_on_a_read_only_file_system_is_read(tmp_path: Path) -> None:
    with small_filesystem(tmp_path / "ro", "16m") as mount:
        store, stored = recorded_with_a_pending_segment(mount / "store.duckdb")
        remount_read_only(mount)
        assert "cannot be written here" in read_as_it_is(store, stored)
        status = baton("store", "status", "--store", str(store.path))
        assert status.returncode == 0 and "1 segments" in status.stdout


@pytest.mark.skipif(os.geteuid() != 0, reason="reading as another user needs root to switch")
def test_another_users_store_readable_to_us_is_read(tmp_path: Path) -> None:
    if baton("--version", user="65534").returncode != 0:
        pytest.skip("another user cannot run this Python (its installation is private)")
    shared = Path("/tmp") / f"baton-shared-{os.getpid()}"
    shared.mkdir(mode=0o755, exist_ok=True)
    try:
        store, stored = recorded_with_a_pending_segment(shared / "store.duckdb")
        # Its owner chose to share it: readable by others, writable by the owner only.
        for path in (store.path, store.incoming, *store.pending_segments()):
            os.chmod(path, 0o755 if path.is_dir() else 0o644)
        assert "cannot be written here" in read_as_it_is(store, stored, user="65534")
    finally:
        subprocess.run(["rm", "-rf", str(shared)], check=False)


def test_a_full_disk_is_named_as_the_cause(tmp_path: Path) -> None:
    with small_filesystem(tmp_path / "full", "12m") as mount:
        store, stored = recorded_with_a_pending_segment(mount / "store.duckdb")
        fill(mount)
        said = read_as_it_is(store, stored)
        assert "No space left on device" in said
        assert "the disk is full: free space" in said
        assert "no transaction is active" not in said


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
