"""Several processes record into one store while others read it; a recorder is killed.
No span is lost or duplicated, no reader sees a lock error, and the store always opens."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from tracer.store import Store

RECORDER = str(Path(__file__).parent / "procs" / "recorder.py")
SPANS_PER_RUN = 6


def start_recorder(
    store: Store, name: str, runs: int, absorb_interval: float
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, RECORDER, str(store.path), name, str(runs), str(absorb_interval)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def baton(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui", *args], capture_output=True, text=True, timeout=120
    )


def test_concurrent_recorders_and_readers_lose_and_duplicate_nothing(store: Store) -> None:
    runs = 3000
    recorders = [start_recorder(store, f"rec{i}", runs, absorb_interval=0.2) for i in range(3)]
    reads_while_recording = 0
    while any(r.poll() is None for r in recorders):
        if reads_while_recording % 4 == 1:  # the real command line, as a user runs it
            result = baton(
                "sql",
                "--store",
                str(store.path),
                "--format",
                "csv",
                "SELECT count(*) FROM handoffs",
            )
            assert result.returncode == 0, result.stderr
            assert result.stderr == ""
        else:  # and a reader in this process, as the TUI reads
            Store(store.path).query("SELECT count(*) FROM conversations")
        reads_while_recording += 1
    for recorder in recorders:
        out, err = recorder.communicate(timeout=60)
        assert recorder.returncode == 0, err
        assert out.strip().endswith("done")
        assert "lock" not in err.lower()
    assert reads_while_recording >= 3

    expected = 3 * runs * SPANS_PER_RUN
    assert store.query("SELECT count(*), count(DISTINCT (trace_id, span_id)) FROM spans").rows == [
        (expected, expected)
    ]
    assert store.query("SELECT count(*) FROM handoffs").rows == [(3 * runs,)]
    assert store.query("SELECT count(*) FROM conversations").rows == [(3 * runs,)]
    # Once the recorders have stopped, everything is in the DuckDB file itself.
    assert store.pending_segments() == []


def test_a_recorder_killed_mid_run_leaves_every_flushed_span_and_a_store_that_opens(
    store: Store,
) -> None:
    survivor = start_recorder(store, "survivor", 30, absorb_interval=0.01)
    victim = start_recorder(store, "victim", 100_000, absorb_interval=0.01)
    assert victim.stdout is not None
    flushed = 0
    while flushed < 300:
        line = victim.stdout.readline()
        assert line, victim.stderr.read() if victim.stderr else "recorder died"
        flushed = int(line.split()[1])
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait(timeout=30)
    _, survivor_err = survivor.communicate(timeout=120)
    assert survivor.returncode == 0, survivor_err

    counts = dict(
        store.query(
            "SELECT resource->>'$.\"service.name\"' AS recorder, count(*) FROM spans GROUP BY 1"
        ).rows
    )
    assert counts["survivor"] == 30 * SPANS_PER_RUN
    assert counts["victim"] >= flushed
    duplicates = store.query(
        "SELECT count(*) FROM (SELECT trace_id, span_id FROM spans GROUP BY ALL HAVING count(*) > 1)"
    ).rows
    assert duplicates == [(0,)]
    status = baton("store", "status", "--store", str(store.path))
    assert status.returncode == 0, status.stderr
    assert "schema version" in status.stdout
