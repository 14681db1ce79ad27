"""Papercuts a new user found in the TUI (issue #15), one test each, on the demo's own
sample runs (recorded by baton's runner and the Agents SDK) and the fixed sample store."""

from __future__ import annotations

import pytest
from textual.widgets import Static
from tui_helpers import make_app, shown_text, wait_for
from tui_sample import LOOPING

from replay import load_conversation
from sample_traces import trace_files
from tracer.capture.importing import import_files
from tracer.store import Store
from tui.screens.replay import SPEEDS, ReplayScreen
from tui.screens.too_small import TooSmallScreen
from tui.widgets.conversation_table import ConversationTable
from tui.widgets.messages import MessageView

pytestmark = pytest.mark.usefixtures("utc")


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """What ``baton demo`` loads: the committed sample traces."""
    store = Store(tmp_path_factory.mktemp("demo") / "demo.duckdb")
    import_files(store, trace_files(), report=lambda problem: None)
    return store


async def replay_open(pilot: object, app: object) -> ReplayScreen:
    def ready() -> bool:
        screen = app.screen  # type: ignore[attr-defined]
        return isinstance(screen, ReplayScreen) and screen.step is not None

    await wait_for(pilot, ready, "the conversation on screen")  # type: ignore[arg-type]
    return app.screen  # type: ignore[attr-defined,no-any-return]


def words(text: str) -> str:
    return " ".join(text.split())


async def test_the_too_small_message_wraps_instead_of_being_cut(sample_store: Store) -> None:
    app = make_app(sample_store)
    async with app.run_test(size=(30, 10)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, TooSmallScreen))
        shown = words(shown_text(app.screen.query_one("#too-small")))
        assert shown == (
            "The terminal is 30×10; baton needs at least 60×16. "
            "Make the window larger, or press q to quit."
        )


@pytest.mark.parametrize("conversation_id", ["manager-specialists", "hybrid-dispute"])
async def test_the_list_and_the_replay_header_count_the_same_turns(
    demo_store: Store, conversation_id: str
) -> None:
    """Agents called as tools take turns of their own: the list (the ``turns`` view)
    counts them, and so does the header, saying how many are at the top level."""
    chat_spans = demo_store.query(
        "SELECT count(*) FROM spans WHERE op = 'chat' AND conversation_id = ?",
        [conversation_id],
    ).rows[0][0]
    top_level = len(load_conversation(demo_store, conversation_id).steps)
    assert top_level < chat_spans
    app = make_app(demo_store)
    async with app.run_test(size=(120, 30)) as pilot:
        table = app.screen.query_one(ConversationTable)
        await wait_for(pilot, lambda: conversation_id in table.ids, "the list")
        row = table.rows_shown[table.ids.index(conversation_id)]
        listed = table.get_row_at(table.ids.index(conversation_id))[3].plain
        assert int(listed) == row.n_turns == chat_spans
        table.move_cursor(row=table.ids.index(conversation_id))
        await pilot.press("enter")
        screen = await replay_open(pilot, app)
        title = shown_text(screen.query_one("#replay-title", Static))
        assert f"{chat_spans} turns ({top_level} at the top level)" in title


async def test_an_error_type_is_said_once(demo_store: Store) -> None:
    conversation = load_conversation(demo_store, "ping-pong")
    error = conversation.errors[0]
    assert error.kind == "HandoffLoopError"
    assert error.message is not None and error.message.startswith("HandoffLoopError: ")
    app = make_app(demo_store, "ping-pong")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await replay_open(pilot, app)
        screen.index = error.turn or 1
        detail = error.message.removeprefix("HandoffLoopError: ")

        def shown() -> str:
            return words(
                "\n".join(shown_text(w) for w in screen.query_one(MessageView).query(Static))
            )

        await wait_for(pilot, lambda: "✗ HandoffLoopError" in shown(), "the error")
        assert f"✗ HandoffLoopError: {words(detail)[:40]}" in shown()
        assert "HandoffLoopError: HandoffLoopError" not in shown()


async def test_wording_of_counts(sample_store: Store) -> None:
    app = make_app(sample_store, LOOPING)
    async with app.run_test(size=(110, 36)) as pilot:
        screen = await replay_open(pilot, app)
        screen.speed = SPEEDS.index(1.0)
        await pilot.press("space")
        banner = shown_text(screen.query_one("#banner", Static))
        assert "▶ playing · 1 turn/s" in banner
        await pilot.press("space")
