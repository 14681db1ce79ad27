"""Opening a long conversation makes the timeline's marks of the turns in view, not of
every turn (``lazy_turn_marks``), and the marks it shows are ``turn_marks``'s: counted on the
real app over the real store."""

from __future__ import annotations

from pathlib import Path

import pytest
from tui_helpers import wait_for

from replay.steps import Lazy
from tracer.capture.importing import import_files
from tracer.store import Store
from tui.app import BatonApp
from tui.screens.replay import ReplayScreen
from tui.source import StoreSource
from tui.widgets.span_details import SpanDetails
from tui.widgets.timeline import Timeline, turn_marks

ROOT = Path(__file__).resolve().parent.parent
LONG = ROOT / "sample_traces" / "long_conversation.otlp.json"

pytestmark = pytest.mark.usefixtures("utc")


async def test_opening_makes_only_the_marks_in_view(tmp_path: Path) -> None:
    store = Store(tmp_path / "store.duckdb")
    problems: list[str] = []
    import_files(store, [LONG], report=problems.append)
    assert problems == []
    conversation_id = store.query("SELECT conversation_id FROM conversations").rows[0][0]
    app = BatonApp(StoreSource(store), conversation_id, follow_interval=None)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(
            pilot,
            lambda: (
                isinstance(app.screen, ReplayScreen)
                and app.screen.index == 1
                and app.screen.query_one(SpanDetails).record is not None
            ),
            "the first turn",
        )
        screen = app.screen
        assert isinstance(screen, ReplayScreen) and screen.conversation is not None
        timeline = screen.query_one(Timeline)
        marks = screen.marks
        assert isinstance(marks, Lazy) and timeline.marks is marks
        in_view = timeline.page_size()
        assert 40 <= in_view < len(marks)  # the window is a part of the turns
        assert marks.made == in_view
        await pilot.press("right")
        await wait_for(pilot, lambda: screen.index == 2, "the second turn")
        assert marks.made == in_view  # the same window
        assert list(marks) == turn_marks(screen.conversation)
