"""Scrubbing long runs (issue #15): go to turn N, page through turns, jump to the next or
previous user message, run and handoff, and the run and user-message boundaries marked on
the timeline. On the demo's recorded runs."""

from __future__ import annotations

import pytest
from textual.pilot import Pilot
from tui_helpers import make_app, shown_text, wait_for

from replay import load_conversation
from sample_traces import trace_files
from tracer.capture.importing import import_files
from tracer.store import Store
from tui.app import BatonApp
from tui.screens.goto import GotoScreen
from tui.screens.replay import ReplayScreen
from tui.widgets.lanes import AgentLanes
from tui.widgets.timeline import Timeline, cell_width

pytestmark = pytest.mark.usefixtures("utc")


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    store = Store(tmp_path_factory.mktemp("demo") / "demo.duckdb")
    import_files(store, trace_files(), report=lambda problem: None)
    return store


async def opened(pilot: Pilot[None], app: BatonApp) -> ReplayScreen:
    await wait_for(
        pilot,
        lambda: isinstance(app.screen, ReplayScreen) and app.screen.step is not None,
        "the conversation",
    )
    screen = app.screen
    assert isinstance(screen, ReplayScreen)
    return screen


def on_top(app: BatonApp) -> object:
    return app.screen


async def test_go_to_turn_n(demo_store: Store) -> None:
    app = make_app(demo_store, "long-conversation")
    async with app.run_test(size=(110, 36)) as pilot:
        screen = await opened(pilot, app)
        count = len(screen.conversation.steps) if screen.conversation else 0
        assert count == 219
        await pilot.press("colon")
        assert isinstance(app.screen, GotoScreen)
        await pilot.press(*"150", "enter")
        await wait_for(pilot, lambda: screen.index == 150, "turn 150")
        assert on_top(app) is screen
        assert "turn 150 of 219" in str(screen.query_one("#timeline-box").border_title)
        await pilot.press("colon", *"999", "enter")  # past the end: says so, stays open
        assert isinstance(app.screen, GotoScreen)
        assert any("There are turns 1 to 219." in str(n.message) for n in app._notifications)
        await pilot.press("escape")
        assert on_top(app) is screen and screen.index == 150


async def test_page_through_turns_a_timeline_at_a_time(demo_store: Store) -> None:
    app = make_app(demo_store, "long-conversation")
    async with app.run_test(size=(110, 36)) as pilot:
        screen = await opened(pilot, app)
        timeline = screen.query_one(Timeline)
        page = timeline.page_size()
        assert 1 < page < 219
        await pilot.press("pagedown")  # the timeline has focus
        assert screen.index == 1 + page
        await pilot.press("pagedown", "pageup")
        assert screen.index == 1 + page
        await pilot.press("v", "pagedown")  # the lanes page by what they show
        assert screen.index == min(219, 1 + page + screen.query_one(AgentLanes).page_size())


@pytest.mark.parametrize(
    ("conversation_id", "key", "kind"),
    [
        ("three-messages", "r", "run"),
        ("three-messages", "u", "user"),
        ("support-triage", "h", "handoff"),
        ("long-conversation", "h", "handoff"),
    ],
)
async def test_jump_to_the_next_and_previous(
    demo_store: Store, conversation_id: str, key: str, kind: str
) -> None:
    conversation = load_conversation(demo_store, conversation_id)
    steps = conversation.steps
    if kind == "run":
        expected = [next(s.index for s in steps if s.trace_id == t) for t in conversation.trace_ids]
    elif kind == "user":
        expected = [turn.first_step for turn in conversation.user_turns]
    else:
        expected = [s.index for s in steps if s.handoff is not None]
    assert len(expected) >= 2
    app = make_app(demo_store, conversation_id)
    async with app.run_test(size=(110, 36)) as pilot:
        screen = await opened(pilot, app)
        visited = [screen.index]
        for _ in range(len(expected)):
            await pilot.press(key)
            visited.append(screen.index)
        forward = [t for t in expected if t > 1]
        # Forward through every target, then round to the first.
        assert visited[1 : len(forward) + 1] == forward
        assert visited[len(forward) + 1 :] == [expected[0]][: len(visited) - len(forward) - 1]
        await pilot.press("end", key.upper())
        assert screen.index == max(t for t in expected if t < len(steps))


async def test_the_timeline_marks_where_runs_start(demo_store: Store) -> None:
    conversation = load_conversation(demo_store, "three-messages")
    starts = [
        next(s.index for s in conversation.steps if s.trace_id == t) for t in conversation.trace_ids
    ]
    app = make_app(demo_store, "three-messages")
    async with app.run_test(size=(110, 36)) as pilot:
        screen = await opened(pilot, app)
        timeline = screen.query_one(Timeline)
        pointer = shown_text(timeline).splitlines()[0]
        cell = cell_width(len(conversation.steps), timeline.content_size.width)
        marked = [i // cell + 1 for i, ch in enumerate(pointer) if ch == "┃"]
        assert marked == starts[1:]  # the first run starts with the conversation
        assert pointer.index("▼") // cell + 1 == screen.index == 1
