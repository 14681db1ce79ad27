"""AutoGen started outside any span: one run, many traces related only by span links,
written on one end. Whatever order and batches the traces arrive in, they are one
conversation, and a ping-pong spread over them is a loop (turns and handoffs stay
numbered per trace, as the store's contract says)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import test_producers as checks
from fixture_store import FIXTURES, load, truth

from tracer.capture.importing import import_files
from tracer.store import Store

NAMES = ["autogen-swarm_unwrapped", "autogen-pingpong_unwrapped"]


def in_batches(name: str, tmp_path: Path, *, reverse: bool, size: int = 7) -> Store:
    """The fixture's export requests imported ``size`` at a time (each batch holds spans
    of several traces, and a trace's spans span batches), latest first if ``reverse``."""
    lines = (FIXTURES / f"{name}.otlp.jsonl").read_text().splitlines()
    if reverse:
        lines.reverse()
    store = Store(tmp_path / "batches.duckdb")
    for n in range(0, len(lines), size):
        path = tmp_path / f"{n}.otlp.jsonl"
        path.write_text("".join(line + "\n" for line in lines[n : n + size]))
        problems: list[str] = []
        import_files(store, [path], report=problems.append)
        assert problems == []
    return store


def membership(store: Store) -> list[tuple[Any, ...]]:
    """Each conversation's traces (the conversation named by its earliest trace)."""
    return [
        tuple(row)
        for row in store.query(
            "SELECT conversation_id, list(DISTINCT trace_id ORDER BY trace_id) FROM spans "
            "GROUP BY conversation_id ORDER BY conversation_id"
        ).rows
    ]


@pytest.mark.parametrize("reverse", [False, True], ids=["in_order", "latest_first"])
@pytest.mark.parametrize("name", NAMES)
def test_linked_traces_join_whatever_arrives_first(
    name: str, reverse: bool, tmp_path: Path
) -> None:
    store = in_batches(name, tmp_path, reverse=reverse)
    assert membership(store) == membership(load(name, tmp_path))
    run = store.query(
        "SELECT DISTINCT conversation_id FROM spans WHERE op IN ('chat', 'handoff')"
    ).rows
    assert len(run) == 1
    recorded = checks.recording(name, store, truth(name))
    checks.test_every_model_call_is_a_turn_of_the_agent_it_was_for(recorded)
    checks.test_handoffs_are_the_frameworks_own_in_order(recorded)
    checks.test_loops_are_the_ping_pongs_of_the_run(recorded)
    checks.test_the_replay_highlights_the_loops_the_view_lists(recorded)


def test_a_loop_over_traces_names_its_first_and_last_handoff(tmp_path: Path) -> None:
    store = load("autogen-pingpong_unwrapped", tmp_path)
    handoffs = store.query('SELECT trace_id, seq, turn FROM handoffs ORDER BY "at", span_id').rows
    assert len({trace for trace, _, _ in handoffs}) == 3  # one per agent turn
    loops = store.query(
        "SELECT agents, handoffs, trace_id, first_seq, last_seq, first_turn, last_turn FROM loops"
    ).rows
    first, last = handoffs[0], handoffs[-1]
    assert [tuple(r) for r in loops] == [
        (["triage", "billing"], 3, first[0], first[1], last[1], first[2], last[2])
    ]
