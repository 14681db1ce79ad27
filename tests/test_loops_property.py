"""The ``loops`` view and ``tracer.loops.find_loops`` agree on any handoff sequence."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tracer.capture.spanrows import SpanRows
from tracer.loops import Handoff, Loop, LoopSettings, find_loops
from tracer.store import Store

AGENTS = ["A", "B", "C", "D"]
# One step of a run: an agent hands off to a target, maybe after a real tool call.
steps = st.lists(
    st.tuples(st.sampled_from(AGENTS), st.sampled_from(AGENTS), st.booleans()),
    min_size=0,
    max_size=30,
)


def chained(raw: list[tuple[str, str, bool]]) -> list[tuple[str, str, bool]]:
    """Mostly chained handoffs (each from the previous target), as real runs make them,
    with the generator's own `from` kept now and then to exercise broken chains."""
    out: list[tuple[str, str, bool]] = []
    for index, (source, target, tool_before) in enumerate(raw):
        if out and index % 7 != 3:
            source = out[-1][1]
        out.append((source, target, tool_before))
    return out


def record(store: Store, trace_hex: str, hops: list[tuple[str, str, bool]]) -> list[Handoff]:
    rows = SpanRows()
    clock = 1_700_000_000_000_000_000
    counter = 0
    expected: list[Handoff] = []

    def add(name: str, attributes: dict[str, object], parent: str | None) -> str:
        nonlocal clock, counter
        counter += 1
        clock += 1_000_000
        span_id = f"{counter:016x}"
        rows.add(
            trace_id=trace_hex,
            span_id=span_id,
            parent_span_id=parent,
            name=name,
            kind="internal",
            start_ns=clock,
            end_ns=clock + 500_000,
            attributes=attributes,
        )
        return span_id

    for seq, (source, target, tool_before) in enumerate(hops, start=1):
        agent = add(
            f"invoke_agent {source}",
            {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": source},
            None,
        )
        add(
            "chat",
            {"gen_ai.operation.name": "chat", "gen_ai.response.finish_reasons": ["tool_calls"]},
            agent,
        )
        if tool_before:
            add(
                "execute_tool lookup",
                {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "lookup"},
                agent,
            )
        add(
            f"execute_tool transfer_to_{target}",
            {
                "gen_ai.operation.name": "execute_tool",
                "gen_ai.transfer.mode": "pass_control",
                "gen_ai.transfer.target.name": target,
            },
            agent,
        )
        expected.append(Handoff(source, target, seq, turn=seq, broken_before=tool_before))
    store.ingest(rows.to_arrow())
    return expected


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(raw=steps, two_cycle=st.integers(2, 5), repeats=st.integers(1, 3))
def test_view_and_function_find_the_same_loops(
    tmp_path_factory: object, raw: list[tuple[str, str, bool]], two_cycle: int, repeats: int
) -> None:
    hops = chained(raw)
    directory: Path = tmp_path_factory.mktemp("loops")  # type: ignore[attr-defined]
    store = Store(directory / "store.duckdb")
    handoffs = record(store, "ab" * 16, hops)
    with store.write_connection() as con:
        con.execute(
            "UPDATE baton_settings SET value = ? WHERE key = 'loop.two_cycle_handoffs'",
            [str(two_cycle)],
        )
        con.execute(
            "UPDATE baton_settings SET value = ? WHERE key = 'loop.cycle_repeats'", [str(repeats)]
        )
    from_view = [
        Loop(tuple(agents), first, last, count, first_turn, last_turn)
        for agents, first, last, count, first_turn, last_turn in store.query(
            "SELECT agents, first_seq, last_seq, handoffs, first_turn, last_turn FROM loops ORDER BY first_seq"
        ).rows
    ]
    assert from_view == find_loops(handoffs, LoopSettings(two_cycle, repeats))


def test_examples_from_the_design() -> None:
    def hops(*agents: str) -> list[Handoff]:
        return [Handoff(a, b, i) for i, (a, b) in enumerate(pairwise(agents), start=1)]

    assert find_loops(hops("A", "B", "A")) == []  # two handoffs are not yet a loop
    assert find_loops(hops("A", "B", "A", "B")) == [Loop(("A", "B"), 1, 3, 3)]
    assert find_loops(hops("A", "B", "C", "A", "B", "C")) == []  # five handoffs of a 3-cycle
    assert find_loops(hops("A", "B", "C", "A", "B", "C", "A")) == [Loop(("A", "B", "C"), 1, 6, 6)]
    broken = hops("A", "B", "A", "B")
    broken[2] = Handoff("A", "B", 3, broken_before=True)  # a real tool call between
    assert find_loops(broken) == []
    assert Loop(("Triage", "Billing"), 1, 4, 4).describe() == "Triage ⇄ Billing ×4"
