"""The TUI's pure parts: the filter language, the timeline's window, the graph drawing,
search, which input messages are new in a turn, and short paths."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from replay.model import AgentEdge, AgentGraph, Message, MessagePart, Step, ToolCall
from tui.graph_drawing import draw_graph, edge_lines, place_agents
from tui.palette import AGENT_COLORS, AgentColors, preferred_slot
from tui.search import find_step
from tui.source import ListQuery, short_path
from tui.turns import split_input
from tui.widgets.conversation_table import COLUMNS, FIXED_WIDTH, flexible_widths
from tui.widgets.timeline import cell_width, window_start


def test_filter_words() -> None:
    query = ListQuery.parse(
        "refund agent:Billing is:loop  Is:Errors", sort="n_turns", descending=False
    )
    assert query == ListQuery("refund", "Billing", True, True, "n_turns", False)
    assert ListQuery.parse("  ").filtered is False
    assert ListQuery.parse("agent:").text == "agent:"  # no name: plain text


@given(st.integers(1, 20_000), st.integers(1, 300), st.data())
def test_the_current_turn_is_always_in_the_timeline_window(
    turns: int, width: int, data: st.DataObject
) -> None:
    current = data.draw(st.integers(0, turns - 1))
    cell = cell_width(turns, width)
    visible = max(1, width // cell)
    start = window_start(turns, visible, current)
    assert start <= current < start + visible
    assert start >= 0 and (start + visible <= turns or start == 0)


def test_agents_keep_their_store_colour_in_every_conversation() -> None:
    order = ("Triage", "Billing", "Refunds", "Technical", "Manager")
    first = AgentColors(["Triage", "Billing", "Refunds"], order)
    second = AgentColors(["Manager", "Refunds", "Billing"], order)
    assert [first.color(a) for a in ("Triage", "Billing", "Refunds")] == list(AGENT_COLORS[:3])
    assert [second.color(a) for a in ("Manager", "Refunds", "Billing")] == [
        AGENT_COLORS[4],
        AGENT_COLORS[2],
        AGENT_COLORS[1],
    ]
    # Past the palette: the colour its name hashes to, unless the conversation took it.
    many = tuple(f"agent{n}" for n in range(len(AGENT_COLORS)))
    slot = preferred_slot("Latecomer")
    others = [a for a in many if a != many[slot]][:2]  # two agents not on its colour
    late = AgentColors([*others, "Latecomer"], many)
    assert late.color("Latecomer") == AGENT_COLORS[slot]
    clash = AgentColors([many[slot], "Latecomer"], many)  # its colour is taken: the next
    assert clash.color("Latecomer") == AGENT_COLORS[(slot + 1) % len(AGENT_COLORS)]
    crowded = AgentColors((*many, "Latecomer"), many)
    assert crowded.color("Latecomer") in AGENT_COLORS  # the palette is full: it wraps round
    assert len({first.color(a) for a in ("Triage", "Billing", "Refunds")}) == 3


GRAPH = AgentGraph(
    agents=("Triage", "Billing", "Refunds", "Researcher"),
    edges=(
        AgentEdge("Triage", "Billing", "handoff", 4),
        AgentEdge("Billing", "Triage", "handoff", 3),
        AgentEdge("Triage", "Refunds", "handoff", 1),
        AgentEdge("Refunds", "Researcher", "agent_tool", 2),
    ),
)


def test_graph_drawing_places_every_agent_and_labels_every_edge() -> None:
    lines = [
        line.plain
        for line in draw_graph(
            GRAPH, GRAPH, colors=AgentColors(GRAPH.agents), active="Billing", width=40, height=12
        )
    ]
    assert len(lines) == 12 and all(len(line) == 40 for line in lines)
    drawing = "\n".join(lines)
    for agent in GRAPH.agents:
        assert f" {agent} " in drawing
    # Each direction's count sits near its source, its arrow pointing at the target:
    # Triage (left) → Billing (top) goes up and right, the way back down and left.
    for label in ("4↗", "3↙", "1→", "2↙"):
        assert label in drawing, label
    assert any("⠀" < ch <= "⣿" for ch in drawing)  # braille lines between them
    placed = {p.agent: p for p in place_agents(GRAPH.agents, 40, 12)}
    assert placed["Triage"].x < placed["Refunds"].x and placed["Billing"].y < placed["Researcher"].y


def test_graph_falls_back_to_a_list_when_there_is_no_room() -> None:
    lines = [
        line.plain
        for line in draw_graph(GRAPH, GRAPH, colors=AgentColors(), active=None, width=12, height=3)
    ]
    assert lines == [line.plain for line in edge_lines(GRAPH, AgentColors(), None)]
    assert lines[0] == "Triage → Billing ×4" and lines[3] == "Refunds ⇢ Researcher ×2"


def test_graph_counts_only_what_happened_so_far() -> None:
    so_far = AgentGraph(
        agents=("Triage", "Billing"), edges=(AgentEdge("Triage", "Billing", "handoff", 1),)
    )
    drawing = "\n".join(
        line.plain
        for line in draw_graph(
            GRAPH, so_far, colors=AgentColors(), active="Billing", width=40, height=12
        )
    )
    assert "1" in drawing and "4" not in drawing and "3" not in drawing


def test_find_step_wraps_round_both_ways() -> None:
    texts = ["alpha", "beta refund", "gamma", "refund delta"]
    assert find_step(texts, "REFUND", 1) == 2
    assert find_step(texts, "refund", 2) == 4
    assert find_step(texts, "refund", 4) == 2
    assert find_step(texts, "refund", 2, backwards=True) == 4
    assert find_step(texts, "nothing", 1) is None


def _step(
    index: int, *, output: tuple[Message, ...] = (), calls: tuple[ToolCall, ...] = ()
) -> Step:
    from replay.content import StepContent

    return Step(
        index,
        index,
        "t",
        f"s{index}",
        "A",
        "m",
        dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        1.0,
        1,
        1,
        "ok",
        tool_calls=calls,
        content=StepContent(input=(), output=output),
    )


def test_new_input_is_what_came_after_the_last_answer() -> None:
    system = Message("system", (MessagePart("text", "be nice"),))
    question = Message("user", (MessagePart("text", "hi"),))
    asked = Message(
        "assistant",
        (
            MessagePart("tool_call", name="lookup", call_id="c1"),
            MessagePart("tool_call", name="transfer_to_b", call_id="c2"),
        ),
    )
    result = Message("tool", (MessagePart("tool_call_response", "42", call_id="c1"),))
    transfer = Message(
        "tool", (MessagePart("tool_call_response", '{"assistant": "B"}', call_id="c2"),)
    )
    follow_up = Message("user", (MessagePart("text", "and?"),))
    previous = _step(1, output=(asked,))
    context, fresh = split_input([system, question, asked, result, transfer, follow_up], previous)
    assert context == [system, question, asked]
    assert fresh == [follow_up]  # results of the previous turn's calls show under it
    context, fresh = split_input([system, question], None)
    assert (context, fresh) == ([system], [question])


def test_short_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert short_path(tmp_path / "a" / "store.duckdb") == "a/store.duckdb"
    assert (
        short_path(Path.home() / "x.duckdb").startswith(("~/", "x.duckdb"))
        or Path.home() == tmp_path
    )
    assert short_path(Path("/elsewhere/s.duckdb")) in ("/elsewhere/s.duckdb",)


def test_the_list_columns_fit_the_terminal() -> None:
    agents, ids = flexible_widths(80, longest_id=36)
    assert ids >= 10 and agents >= 10
    padding = 2 * len(COLUMNS)
    assert FIXED_WIDTH + padding + agents + ids + 1 <= 80  # 1: the scrollbar
    agents, ids = flexible_widths(200, longest_id=20)
    assert ids == 20 and agents > 60
