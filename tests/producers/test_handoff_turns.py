"""The turn a handoff belongs to: the model call that asked for it; a hand-back that no
model call asks for (langgraph-supervisor returns to the supervisor when the worker has
answered) belongs to the worker's last turn, the one that ended its run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fixture_store import FIXTURES, load, truth

NAMES = sorted(
    p.name.removesuffix(".truth.json")
    for p in FIXTURES.glob("*.truth.json")
    if truth(p.name.removesuffix(".truth.json"))["framework"].get("handoffs")
)


def expected_turns(known: dict[str, Any]) -> list[int]:
    """Per handoff of the framework's account, in order: the turn of the call that asked
    for it, else (an automatic hand-back from ``a``) the turn of ``a``'s last call before
    the next call of the agent it returns to."""
    server = known["server"]
    turns: list[int] = []
    position = 0
    for source, target in known["framework"]["handoffs"]:
        asked = next(
            (
                i
                for i in range(position, len(server))
                if server[i]["agent"] == source and server[i]["handoff"] == target
            ),
            None,
        )
        if asked is not None:
            turns.append(server[asked]["turn"])
            position = asked + 1
            continue
        resumes = next(
            (i for i in range(position, len(server)) if server[i]["agent"] == target),
            len(server),
        )
        last = max(i for i in range(position, resumes) if server[i]["agent"] == source)
        turns.append(server[last]["turn"])
        position = last + 1
    return turns


@pytest.mark.parametrize("name", NAMES)
def test_each_handoff_belongs_to_the_turn_that_ended_with_it(name: str, tmp_path: Path) -> None:
    store = load(name, tmp_path)
    n_traces = store.query("SELECT count(DISTINCT trace_id) FROM turns").rows[0][0]
    if n_traces != 1:
        pytest.skip("turns are numbered per trace; this run is several (tests below)")
    got = store.query('SELECT turn FROM handoffs ORDER BY "at", span_id').rows
    assert [turn for (turn,) in got] == expected_turns(truth(name))
