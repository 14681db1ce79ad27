"""Swarm's first model call of a run names no agent; a later call of the run does (the
first call's output in its history, with Swarm's ``sender``; its own instructions and
tools). Spans arrive in any order and batch, so the agent must reach the first call
whichever of the two is stored first."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import test_producers as checks
from fixture_store import FIXTURES, truth

from tracer.capture.importing import import_files
from tracer.store import Store

CHECKS = [
    checks.test_every_model_call_is_a_turn_of_the_agent_it_was_for,
    checks.test_handoffs_are_the_frameworks_own_in_order,
    checks.test_loops_are_the_ping_pongs_of_the_run,
]
FIXTURE_NAMES = ["swarm-handback", "swarm-pingpong", "swarm-loop_handback", "swarm-loop_pingpong"]


def one_batch_per_export(name: str, tmp_path: Path, *, reverse: bool) -> Store:
    """The fixture imported one export request (one span) at a time, as a collector
    receives it, in the order recorded or the reverse (the first call last)."""
    lines = (FIXTURES / f"{name}.otlp.jsonl").read_text().splitlines()
    store = Store(tmp_path / "store.duckdb")
    for n, line in enumerate(reversed(lines) if reverse else lines):
        path = tmp_path / f"{n}.otlp.jsonl"
        path.write_text(line + "\n")
        problems: list[str] = []
        import_files(store, [path], report=problems.append)
        assert problems == []
    return store


@pytest.mark.parametrize("reverse", [False, True], ids=["in_order", "first_call_last"])
@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_the_first_call_gets_its_agent_whatever_arrives_first(
    name: str, reverse: bool, tmp_path: Path
) -> None:
    store = one_batch_per_export(name, tmp_path, reverse=reverse)
    recorded = checks.recording(name, store, truth(name))
    for check in CHECKS:
        check(recorded)


def test_the_first_call_is_the_one_inferred(tmp_path: Path) -> None:
    """The fixture's first request names no agent (else there would be nothing to infer)."""
    line = (FIXTURES / "swarm-handback.otlp.jsonl").read_text().splitlines()[0]
    span = json.loads(line)["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    request = next(a for a in span["attributes"] if a["key"] == "input.value")
    messages = json.loads(request["value"]["stringValue"])["messages"]
    assert [m["role"] for m in messages] == ["system", "user"]
    assert all("sender" not in m for m in messages)


def test_a_run_of_one_agent_that_never_returns_stays_unnamed(tmp_path: Path) -> None:
    """A hand-written loop whose first agent hands off and is never called again leaves
    no trace of that agent's name: the call stays without one rather than be guessed."""
    lines = (FIXTURES / "swarm-loop_handback.otlp.jsonl").read_text().splitlines()
    spans = [
        (json.loads(line), json.loads(line)["resourceSpans"][0]["scopeSpans"][0]["spans"][0])
        for line in lines
    ]
    # The hand-back's call (triage again) is left out: triage -> billing, billing's
    # transfer the last thing recorded.
    third = sorted(
        (s for _, s in spans if s["name"] == "ChatCompletion"), key=lambda s: s["startTimeUnixNano"]
    )[2]
    kept = [request for request, span in spans if span is not third]
    path = tmp_path / "cut.otlp.jsonl"
    path.write_text("".join(json.dumps(request) + "\n" for request in kept))
    store = Store(tmp_path / "store.duckdb")
    import_files(store, [path], report=lambda problem: None)
    turns = [tuple(r) for r in store.query("SELECT agent_name FROM turns ORDER BY started_at").rows]
    assert turns == [(None,), ("billing",)]
