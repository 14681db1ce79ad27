"""The conversations screen, driven by its pilot over real stores: listing, filtering as
you type, sorting, paging, opening, the empty store, and a store another process locks."""

from __future__ import annotations

import gc
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from spanmaker import SpanMaker, ping_pong_run
from textual.message import Message
from textual.widgets import ContentSwitcher, Input, Static
from tui_helpers import make_app, settle, shown_text, wait_for
from tui_sample import LOOPING, NO_CONTENT, SIMPLE, TWO_RUNS, build_many

from tracer.store import Store
from tui.app import BatonApp
from tui.messages import OpenConversation
from tui.screens.conversations import MORE_SIZE, PAGE_SIZE, ConversationsScreen
from tui.screens.replay import ReplayScreen
from tui.source import ListQuery, Page, StoreSource
from tui.widgets.conversation_table import ConversationTable
from tui.widgets.empty_store import EmptyStore

pytestmark = pytest.mark.usefixtures("utc")

NEWEST_FIRST = [LOOPING, SIMPLE, NO_CONTENT, TWO_RUNS]


def table_of(app: object) -> ConversationTable:
    return app.screen.query_one(ConversationTable)  # type: ignore[attr-defined,no-any-return]


async def test_lists_conversations_newest_first_and_enter_opens_one(sample_store: Store) -> None:
    posted: list[Message] = []
    app = make_app(sample_store)
    async with app.run_test(size=(100, 30), message_hook=posted.append) as pilot:
        await wait_for(pilot, lambda: table_of(app).row_count == 4, "the first page")
        screen = app.screen
        assert isinstance(screen, ConversationsScreen)
        assert table_of(app).ids == NEWEST_FIRST
        assert screen.total == 4
        marks = table_of(app).get_row_at(0)[0].plain
        assert marks == "⟲✗"  # the looping conversation has a loop and an error
        assert table_of(app).get_row_at(1)[0].plain.strip() == ""
        status = shown_text(screen.query_one("#list-status", Static))
        assert "4 of 4 conversations" in status

        await pilot.press("down", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ReplayScreen), "the replay screen")
        # A message is seen once per node it bubbles through: count each message once.
        opened = {id(m): m.conversation_id for m in posted if isinstance(m, OpenConversation)}
        assert list(opened.values()) == [SIMPLE]
        assert sum(isinstance(s, ReplayScreen) for s in app.screen_stack) == 1
        assert app.screen.conversation_id == SIMPLE  # type: ignore[attr-defined]

        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, ConversationsScreen))


async def test_filter_as_you_type(sample_store: Store) -> None:
    app = make_app(sample_store)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: table_of(app).row_count == 4)
        await pilot.press("slash")
        assert isinstance(app.focused, Input)
        await pilot.press("down", "down", "up")  # arrows move the list from the filter box
        assert table_of(app).cursor_row == 1 and isinstance(app.focused, Input)
        await pilot.press(*"researcher")  # an agent name, matched as text
        await wait_for(pilot, lambda: table_of(app).ids == [LOOPING], "text filter")

        filter_box = app.screen.query_one("#filter", Input)
        await pilot.press("backspace", "r")  # still typing: the same filter again
        await pilot.press("escape")  # back to the list; the filter stays
        assert isinstance(app.focused, ConversationTable)
        assert filter_box.value == "researcher"
        filter_box.value = "agent:Sales"
        await wait_for(pilot, lambda: table_of(app).ids == [SIMPLE], "agent filter")

        filter_box.value = ""
        await wait_for(pilot, lambda: table_of(app).row_count == 4)
        await pilot.press("l")  # only loops
        assert filter_box.value == "is:loop"
        await wait_for(pilot, lambda: table_of(app).ids == [LOOPING], "only loops")
        await pilot.press("l", "e")  # loops off, errors on
        assert filter_box.value == "is:error"
        await wait_for(pilot, lambda: table_of(app).ids == [LOOPING], "only errors")

        filter_box.value = "no-such-thing"
        await wait_for(pilot, lambda: table_of(app).row_count == 0, "no match")
        status = shown_text(app.screen.query_one("#list-status", Static))
        assert "No conversation matches the filter" in status
        # A filter that matches nothing is not an empty store.
        assert app.screen.query_one(ContentSwitcher).current == "table"


async def test_sort_by_column_and_reverse(sample_store: Store) -> None:
    app = make_app(sample_store)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: table_of(app).row_count == 4)
        screen = app.screen
        assert isinstance(screen, ConversationsScreen)
        await pilot.press("s")  # next sortable column: duration, longest first
        await wait_for(pilot, lambda: screen.query_state.sort == "duration_ms")
        await wait_for(pilot, lambda: table_of(app).ids[0] == TWO_RUNS, "longest first")
        header = table_of(app).ordered_columns[2].label.plain
        assert header == "Took▼"
        sortable = [c.label.plain for c in table_of(app).ordered_columns if c.label.plain]
        assert sortable[:5] == ["Started↕", "Took▼", "Turn↕", "Hand↕", "Tool↕"]
        await pilot.press("S")
        await wait_for(pilot, lambda: table_of(app).ids[-1] == TWO_RUNS, "shortest first")
        assert not screen.query_state.descending

        # Clicking a header sorts by it (mouse is optional but works).
        table = table_of(app)
        turns_x = sum(c.get_render_width(table) for c in table.ordered_columns[:3]) + 2
        await pilot.click(ConversationTable, offset=(turns_x, 0))  # the Turns header
        await wait_for(pilot, lambda: screen.query_state.sort == "n_turns", "click sort")
        await wait_for(pilot, lambda: table_of(app).ids[0] == LOOPING)


async def test_pages_load_as_the_cursor_nears_the_end(tmp_path: Path) -> None:
    total = PAGE_SIZE + 2 * MORE_SIZE + 60
    store = build_many(Store(tmp_path / "many.duckdb"), total)
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        # A small first page, then a bigger one straight away, in the background...
        await wait_for(pilot, lambda: table_of(app).row_count == PAGE_SIZE + MORE_SIZE, "two pages")
        assert app.screen.total == total  # type: ignore[attr-defined]
        await settle(pilot)
        assert table_of(app).row_count == PAGE_SIZE + MORE_SIZE  # ...and no more until needed
        await pilot.press("end")  # near the end of what is loaded: the next page follows
        await wait_for(
            pilot, lambda: table_of(app).row_count == PAGE_SIZE + 2 * MORE_SIZE, "page three"
        )
        await pilot.press("end")
        await wait_for(pilot, lambda: table_of(app).row_count == total, "the last page")
        ids = table_of(app).ids
        assert ids == [f"bulk-{n:04d}" for n in range(total - 1, -1, -1)]  # newest first, no gaps
        await pilot.press("end")
        await settle(pilot)
        assert table_of(app).row_count == total


async def test_empty_store_shows_how_to_record_and_follows_the_store(tmp_path: Path) -> None:
    store = Store(tmp_path / "fresh.duckdb")  # does not exist yet
    app = make_app(store, follow_interval=0.05)
    async with app.run_test(size=(100, 30)) as pilot:
        empty = app.screen.query_one(EmptyStore)
        await wait_for(pilot, lambda: "No conversations in" in shown_text(empty), "how to record")
        assert app.screen.query_one(ContentSwitcher).current == "empty"
        help_text = shown_text(empty)
        assert "No conversations in" in help_text and "fresh.duckdb" in help_text
        assert "tracer.setup(" in help_text
        assert not store.path.exists()  # looking did not create a store

        maker = SpanMaker(store)  # another recorder, writing segments as it goes
        ping_pong_run(maker, [("Triage", "Billing")], conversation_id="first-run")
        maker.close()
        await wait_for(pilot, lambda: table_of(app).ids == ["first-run"], "the recorded run")
        assert app.screen.query_one(ContentSwitcher).current == "table"


LOCKER = """
import duckdb, sys
con = duckdb.connect(sys.argv[1])
print("locked", flush=True)
sys.stdin.read()
"""


async def test_a_store_locked_by_another_program_is_reported_and_retried(
    tmp_path: Path,
) -> None:
    from tui_sample import build_sample_store

    path = tmp_path / "locked.duckdb"
    build_sample_store(Store(path))
    locker = subprocess.Popen(
        [sys.executable, "-c", LOCKER, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert locker.stdout is not None and locker.stdout.readline().strip() == "locked"
        app = make_app(Store(path, lock_timeout=0.2))
        async with app.run_test(size=(100, 30)) as pilot:
            screen = app.screen
            assert isinstance(screen, ConversationsScreen)
            await wait_for(pilot, lambda: screen.error is not None, "the lock error")
            status = shown_text(screen.query_one("#list-status", Static))
            assert "locked" in status and "r retries" in status
            locker.communicate("")  # the other program lets go
            await pilot.press("r")
            await wait_for(pilot, lambda: table_of(app).row_count == 4, "rows after retry")
            assert screen.error is None
    finally:
        if locker.poll() is None:
            locker.kill()
        locker.wait()


async def test_the_list_follows_a_store_being_recorded_into(tmp_path: Path) -> None:
    store = Store(tmp_path / "live.duckdb")
    maker = SpanMaker(store)
    ping_pong_run(maker, [("Triage", "Billing")], conversation_id="older")
    ping_pong_run(maker, [("Triage", "Sales")], conversation_id="old")
    app = make_app(store, follow_interval=0.05)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(
            pilot,
            lambda: table_of(app).ids == ["old", "older"],
            lambda: f"the two runs, not {table_of(app).ids} ({app.screen.error})",  # type: ignore[attr-defined]
        )
        await pilot.press("down")  # the user is looking at "older"
        ping_pong_run(maker, [("Triage", "Refunds")], conversation_id="new")
        await wait_for(pilot, lambda: table_of(app).ids == ["new", "old", "older"], "the new run")
        assert table_of(app).current_id == "older"  # the cursor stays on what it was on
        assert app.screen.total == 3  # type: ignore[attr-defined]
    maker.close()


async def test_the_garbage_collector_waits_while_the_list_scrolls(sample_store: Store) -> None:
    app = make_app(sample_store)
    assert gc.isenabled()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: table_of(app).row_count == 4)
        await pilot.press("down")
        assert not gc.isenabled()  # held while the cursor moves...
        await wait_for(pilot, gc.isenabled, "the collector back after a quiet spell")
        await pilot.press("down", "enter")  # ...and never left off by leaving the screen
        await wait_for(pilot, lambda: isinstance(app.screen, ReplayScreen))
        assert gc.isenabled()


class _PagesRecorded(StoreSource):
    """The real source over the real store, noting which thread asked for each page."""

    def __init__(self, store: Store) -> None:
        super().__init__(store)
        self.pages: list[tuple[str, ListQuery, int, int]] = []

    def page(self, query: ListQuery, offset: int, limit: int) -> Page:
        self.pages.append((threading.current_thread().name, query, offset, limit))
        return super().page(query, offset, limit)


async def test_the_first_page_is_read_while_textual_starts(sample_store: Store) -> None:
    source = _PagesRecorded(sample_store)
    app = BatonApp(source, follow_interval=None)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: table_of(app).row_count == 4, "the first page")
        assert table_of(app).ids == NEWEST_FIRST
        # Read once, on the thread the app started before its screens were made; the
        # list's own first load took that read instead of reading again.
        assert source.pages == [("baton-read-ahead", ListQuery(), 0, PAGE_SIZE)]
        await pilot.press("slash", *"Billing", "enter")  # a later read is the list's own
        await wait_for(pilot, lambda: len(source.pages) == 2, "the filtered page")
        thread, query, _, _ = source.pages[1]
        assert thread != "baton-read-ahead" and query.text == "Billing"
