"""``baton replay --record-to`` and ``--format json`` for runs of baton's runner (#14):
the re-run kept in the store beside the original, compared by ``baton diff``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from replay_runs import Recorded, record_run, support_script, write_agents

import tracer


@pytest.fixture
def recorded(store: tracer.Store, tmp_path: Path) -> Recorded:
    agents = write_agents(tmp_path, "agents_keep")
    return Recorded(store, record_run(store, agents, support_script()), agents)


def baton(*args: str) -> subprocess.CompletedProcess[str]:
    assert "OPENAI_API_KEY" not in os.environ and "OPENAI_BASE_URL" not in os.environ
    return subprocess.run(
        [sys.executable, "-m", "tui", *args], capture_output=True, text=True, timeout=120
    )


def test_record_to_keeps_the_rerun_for_baton_diff(recorded: Recorded) -> None:
    path = str(recorded.store.path)
    done = baton(
        "replay", recorded.trace_id, "--agents", recorded.spec(), "--store", path,
        "--record-to", path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    last = done.stdout.splitlines()[-1]
    rerun_id = last.split()[4]
    assert last == (
        f"Recorded the re-run as {rerun_id} in {path}; "
        f"compare: baton diff {recorded.trace_id} {rerun_id}"
    )
    traces = recorded.store.query("SELECT DISTINCT trace_id FROM spans ORDER BY 1").rows
    assert traces == sorted([(recorded.trace_id,), (rerun_id,)])
    diffed = baton("diff", "--store", path, recorded.trace_id, rerun_id)
    assert diffed.returncode == 0, diffed.stdout + diffed.stderr
    assert diffed.stdout.splitlines()[-1] == "Same path (6 turns)."


def test_format_json_reports_every_turn(recorded: Recorded) -> None:
    done = baton(
        "replay", recorded.trace_id, "--agents", recorded.spec(),
        "--store", str(recorded.store.path), "--format", "json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert (report["trace_id"], report["follows"], report["stopped"]) == (
        recorded.trace_id,
        True,
        None,
    )
    assert report["first_divergence"] is None and report["recorded_to"] is None
    assert [(t["turn"], t["got"]["agent"], t["differences"]) for t in report["turns"]] == [
        (1, "Triage", []),
        (2, "Billing", []),
        (3, "Billing", []),
        (4, "Policy", []),
        (5, "Billing", []),
        (6, "Refunds", []),
    ]
    # The scratch store is gone: the re-run's trace id is reported, the store unchanged.
    assert report["rerun_trace_id"] != recorded.trace_id
    assert recorded.store.query("SELECT count(DISTINCT trace_id) FROM spans").rows == [(1,)]
