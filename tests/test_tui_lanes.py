"""Agent lanes (issue #15): one lane per agent named at its start, turns as columns,
transfers drawn between lanes, agents used as tools on their caller's turn (parallel
calls in one column), readable without colour; each agent's colour the same in every
conversation of a store; legends for the lanes and the graph's edges."""

from __future__ import annotations

import pytest
from textual.pilot import Pilot
from tui_helpers import make_app, shown_text, wait_for

from replay import load_conversation
from replay.model import Conversation
from sample_traces import trace_files
from tracer.capture.importing import import_files
from tracer.store import Store
from tui.app import BatonApp
from tui.lanes import CALLED, CURRENT, EMPTY, LEGEND, TURN, lane_agents, lane_columns
from tui.screens.replay import ReplayScreen
from tui.widgets.agent_graph import AgentGraphView
from tui.widgets.lanes import AgentLanes

pytestmark = pytest.mark.usefixtures("utc")


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """What ``baton demo`` loads: the committed sample traces, recorded by real runs."""
    store = Store(tmp_path_factory.mktemp("demo") / "demo.duckdb")
    import_files(store, trace_files(), report=lambda problem: None)
    return store


async def lanes_of(pilot: Pilot[None], app: BatonApp) -> tuple[ReplayScreen, AgentLanes]:
    def ready() -> bool:
        screen = app.screen
        return isinstance(screen, ReplayScreen) and screen.step is not None and screen.colours_final

    await wait_for(pilot, ready, "the conversation")
    screen = app.screen
    assert isinstance(screen, ReplayScreen)
    await pilot.press("v")
    lanes = screen.query_one(AgentLanes)
    await wait_for(pilot, lambda: lanes.display and lanes.size.height > 0, "the lanes")
    return screen, lanes


def glyph_rows(lanes: AgentLanes, conversation: Conversation) -> dict[str, str]:
    """Each lane's glyphs, one per turn, read off the screen."""
    lines = shown_text(lanes).splitlines()
    width = max(len(agent) for agent in lanes.agents)
    rows = {}
    for agent, line in zip(lanes.agents, lines, strict=False):
        assert line[:width].rstrip() == agent  # the lane is labelled with its agent
        rows[agent] = line[width + 1 :: 3][: len(conversation.steps)]
    return rows


@pytest.mark.parametrize("no_color", [False, True], ids=["colour", "NO_COLOR"])
async def test_a_lane_per_agent_with_its_turns_and_transfers(
    demo_store: Store, monkeypatch: pytest.MonkeyPatch, no_color: bool
) -> None:
    if no_color:
        monkeypatch.setenv("NO_COLOR", "1")
    conversation = load_conversation(demo_store, "support-triage")
    app = make_app(demo_store, "support-triage")
    async with app.run_test(size=(110, 36)) as pilot:
        screen, lanes = await lanes_of(pilot, app)
        assert lanes.agents == conversation.agents == ("Triage", "Billing", "Refunds", "Technical")
        rows = glyph_rows(lanes, conversation)
        for agent, glyphs in rows.items():
            expected = "".join(
                (CURRENT if step.index == screen.index else TURN) if step.agent == agent else EMPTY
                for step in conversation.steps
            )
            assert glyphs == expected, agent
        # Each transfer leaves its sender's lane right of the turn that asked for it.
        lines = dict(zip(lanes.agents, shown_text(lanes).splitlines(), strict=False))
        width = max(len(agent) for agent in lanes.agents)
        for step in conversation.steps:
            if step.handoff is None or step.handoff.to_agent is None:
                continue
            column = width + 1 + 3 * (step.index - 1) + 1
            down = lanes.agents.index(step.handoff.to_agent) > lanes.agents.index(step.agent)
            assert lines[step.agent or ""][column] == ("╮" if down else "╯")
            assert lines[step.handoff.to_agent][column] == ("╰" if down else "╭")
        assert shown_text(lanes).splitlines()[-1] == LEGEND


async def test_agents_called_together_stand_in_their_callers_column(demo_store: Store) -> None:
    conversation = load_conversation(demo_store, "manager-specialists")
    app = make_app(demo_store, "manager-specialists")
    async with app.run_test(size=(110, 36)) as pilot:
        _, lanes = await lanes_of(pilot, app)
        rows = glyph_rows(lanes, conversation)
        for step in conversation.steps:
            called = {call.agent for call in step.tool_calls if call.is_agent}
            in_column = {
                agent for agent, glyphs in rows.items() if glyphs[step.index - 1] == CALLED
            }
            assert in_column == called
        assert len({call.agent for call in conversation.steps[0].tool_calls}) == 3


async def test_an_agent_keeps_its_colour_from_one_conversation_to_the_next(
    demo_store: Store,
) -> None:
    colours: dict[str, dict[str, str]] = {}
    for conversation_id in ("support-triage", "manager-specialists", "hybrid-dispute"):
        app = make_app(demo_store, conversation_id)
        async with app.run_test(size=(110, 36)) as pilot:
            screen, _ = await lanes_of(pilot, app)
            agents = screen.conversation.agents if screen.conversation else ()
            colours[conversation_id] = {a: screen.agent_colors.color(a) for a in agents}
            # Within a conversation, no two agents share a colour.
            assert len(set(colours[conversation_id].values())) == len(agents)
    for name in ("Billing", "Refunds", "Technical", "Triage"):
        seen = {by_agent[name] for by_agent in colours.values() if name in by_agent}
        assert len(seen) == 1, name


async def test_clicking_a_lane_goes_to_that_turn(demo_store: Store) -> None:
    app = make_app(demo_store, "support-triage")
    async with app.run_test(size=(110, 36)) as pilot:
        screen, lanes = await lanes_of(pilot, app)
        width = max(len(agent) for agent in lanes.agents)
        await pilot.click(lanes, offset=(width + 1 + 3 * 4, 2))  # turn 5's column
        await wait_for(pilot, lambda: screen.index == 5, "turn 5")
        await pilot.press("v")
        assert not lanes.display and screen.query_one("#timeline").display


async def test_the_graph_has_a_legend_for_its_edge_styles(demo_store: Store) -> None:
    app = make_app(demo_store, "hybrid-dispute")
    async with app.run_test(size=(110, 36)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, ReplayScreen) and app.screen.step)
        graph = app.screen.query_one(AgentGraphView)
        last = shown_text(graph).splitlines()[-1]
        assert " ".join(last.split()) == "⠒⠒⠒ handoff ⠂⠐⠂ agent as tool n↗ times"


def test_every_agent_of_a_conversation_has_a_lane(demo_store: Store) -> None:
    conversation = load_conversation(demo_store, "ping-pong")
    columns = lane_columns(conversation, set(), set())
    assert len(columns) == len(conversation.steps)
    assert set(lane_agents(conversation, columns)) >= set(conversation.agents)
