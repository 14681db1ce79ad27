"""What a step (and opening) costs the app, counted on real objects: reads of the store,
the collector's state, panels made only when shown. The look is the snapshots' and
``test_tui_replay``'s; these hold the work behind it down."""

from __future__ import annotations

import datetime as dt
import gc
import threading
from collections.abc import Sequence

import pytest
from textual.pilot import Pilot
from tui_helpers import settle, wait_for
from tui_sample import LOOPING

import replay
from replay.model import Conversation
from replay.spans import SpanRecord
from tracer.store import Store
from tui.app import BatonApp
from tui.lanes import lane_agents, lane_columns
from tui.screens.conversations import ConversationsScreen
from tui.screens.replay import ReplayScreen
from tui.source import ListQuery, StoreSource
from tui.span_cache import stretch_around
from tui.widgets.conversation_table import ConversationTable
from tui.widgets.lanes import AgentLanes
from tui.widgets.message_blocks import ToolCallBlock
from tui.widgets.span_details import SpanDetails

pytestmark = pytest.mark.usefixtures("utc")


class CountingSource(StoreSource):
    """The real source over the real store, counting the span reads asked of it."""

    def __init__(self, store: Store) -> None:
        super().__init__(store)
        self.span_reads: list[str] = []
        self.conversation_reads: list[str] = []  # the thread each read ran on

    def conversation_at(
        self, conversation_or_trace_id: str
    ) -> tuple[Conversation, tuple[int, int]]:
        self.conversation_reads.append(threading.current_thread().name)
        return super().conversation_at(conversation_or_trace_id)

    def span(self, trace_id: str, span_id: str) -> SpanRecord:
        self.span_reads.append(span_id)
        return super().span(trace_id, span_id)

    def spans(
        self, trace_ids: Sequence[str], started_from: dt.datetime, started_to: dt.datetime
    ) -> dict[tuple[str, str], SpanRecord]:
        self.span_reads.append("stretch")
        return super().spans(trace_ids, started_from, started_to)


async def opened(pilot: Pilot[None], app: BatonApp) -> ReplayScreen:
    def shown() -> bool:
        screen = app.screen
        return (
            isinstance(screen, ReplayScreen)
            and screen.index == 1
            and screen.query_one(SpanDetails).record is not None
        )

    await wait_for(pilot, shown, "the first turn with its span's record")
    screen = app.screen
    assert isinstance(screen, ReplayScreen)
    return screen


async def test_stepping_back_and_forth_reads_the_store_once(sample_store: Store) -> None:
    source = CountingSource(sample_store)
    app = BatonApp(source, LOOPING, follow_interval=None)
    async with app.run_test(size=(110, 36)) as pilot:
        screen = await opened(pilot, app)
        assert screen.conversation is not None
        steps = screen.conversation.steps
        assert len(steps) == 8
        details = screen.query_one(SpanDetails)
        for key, index in [("right", 2), ("right", 3), ("left", 2), ("end", 8), ("home", 1)]:
            await pilot.press(key)
            await settle(pilot)
            step = steps[index - 1]
            assert (screen.index, details.selected) == (index, step)
            # The whole stored record, at once: no "loading…" while it is read again.
            assert details.record == replay.span_record(sample_store, step.trace_id, step.span_id)
        # A tool call's span was read with its turn's too.
        with_calls = next(step for step in steps if step.tool_calls)
        while screen.index < with_calls.index:
            await pilot.press("right")
        await settle(pilot)
        block = screen.query(ToolCallBlock).first()
        block.focus()
        await settle(pilot)
        assert details.selected == block.call == with_calls.tool_calls[0]
        assert details.record == replay.span_record(
            sample_store, with_calls.trace_id, block.call.span_id
        )
        assert source.span_reads == ["stretch"]
        # Read once, started with the app rather than after its screens were made.
        assert source.conversation_reads == ["baton-read-ahead"]


async def test_a_turn_outside_the_stretch_read_reads_the_next(sample_store: Store) -> None:
    conversation = replay.load_conversation(sample_store, LOOPING)
    stretch = stretch_around(conversation, 1, around=2)
    records = replay.span_records(
        sample_store, stretch.trace_ids, stretch.started_from, stretch.started_to
    )
    steps = conversation.steps
    # Turns 1-3, their tool calls with them; turn 5 is not in it (4 starts the window's end).
    for step in steps[:3]:
        wanted = [step.span_id, *(call.span_id for call in step.tool_calls)]
        for span_id in wanted:
            key = (step.trace_id, span_id)
            assert records[key] == replay.span_record(sample_store, *key)
    assert (steps[4].trace_id, steps[4].span_id) not in records


async def test_the_shown_conversation_is_frozen_out_of_collections(sample_store: Store) -> None:
    app = BatonApp(StoreSource(sample_store), LOOPING, follow_interval=None)
    async with app.run_test(size=(110, 36)) as pilot:
        screen = await opened(pilot, app)
        assert screen.conversation is not None
        step = screen.conversation.steps[0]
        assert gc.get_freeze_count() > 0
        assert all(found is not step for found in gc.get_objects())
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, ReplayScreen))
        await wait_for(pilot, lambda: gc.get_freeze_count() == 0, "the conversation thawed")


async def test_stepping_holds_the_collector_until_a_quiet_moment(sample_store: Store) -> None:
    app = BatonApp(StoreSource(sample_store), LOOPING, follow_interval=None)
    async with app.run_test(size=(110, 36)) as pilot:
        screen = await opened(pilot, app)
        assert gc.isenabled()
        # Whether the collector runs at the moment each step shows its turn.
        collecting: list[bool] = []
        screen.watch(screen, "index", lambda: collecting.append(gc.isenabled()), init=False)
        for key in ("right", "right", "left", "end", "home"):
            await pilot.press(key)
        await wait_for(pilot, gc.isenabled, "the collector back after the steps")
        assert collecting == [False] * 5
    assert gc.isenabled()


async def test_the_lanes_are_made_when_first_shown(sample_store: Store) -> None:
    app = BatonApp(StoreSource(sample_store), LOOPING, follow_interval=None)
    async with app.run_test(size=(110, 36)) as pilot:
        screen = await opened(pilot, app)
        lanes = screen.query_one(AgentLanes)
        assert lanes.columns == ()
        await pilot.press("v")
        await settle(pilot)
        conversation = screen.conversation
        assert conversation is not None
        columns = lane_columns(
            conversation,
            looping={i + 1 for i, mark in enumerate(screen.marks) if mark.in_loop},
            failing={i + 1 for i, mark in enumerate(screen.marks) if mark.failed},
        )
        assert lanes.columns == tuple(columns)
        assert lanes.agents == lane_agents(conversation, columns)


def test_a_conversation_and_its_version_come_from_one_read(sample_store: Store) -> None:
    conversation, version = replay.load_conversation_at(sample_store, LOOPING)
    assert version == replay.store_version(sample_store)
    assert conversation == replay.load_conversation(sample_store, LOOPING)


async def test_the_list_under_a_conversation_opened_directly_is_made_when_shown(
    sample_store: Store,
) -> None:
    source = StoreSource(sample_store)
    app = BatonApp(source, LOOPING, follow_interval=None)
    async with app.run_test(size=(110, 36)) as pilot:
        await opened(pilot, app)
        below = app.screen_stack[-2]
        assert isinstance(below, ConversationsScreen)
        assert list(below.children) == []  # nothing made, styled or laid out yet
        await pilot.press("escape")
        expected = [row.conversation_id for row in source.page(ListQuery(), 0, 100).rows]

        def listed() -> list[str]:
            tables = below.query(ConversationTable)
            return tables.first(ConversationTable).ids if tables and app.screen is below else []

        await wait_for(pilot, lambda: listed() == expected, lambda: f"the list, got {listed()}")
        assert below.query_one(ConversationTable).has_focus


async def test_the_details_ask_for_a_layout_only_when_their_height_changes(
    sample_store: Store,
) -> None:
    app = BatonApp(StoreSource(sample_store), LOOPING, follow_interval=None)
    async with app.run_test(size=(110, 36)) as pilot:
        screen = await opened(pilot, app)
        assert screen.conversation is not None
        details = screen.query_one(SpanDetails)
        last = len(screen.conversation.steps)
        asked = {True: 0, False: 0}
        heights: list[tuple[int, int]] = []
        for index in [*range(2, last + 1), *range(last - 1, 0, -1)]:
            before = details.content_region.height
            screen.index = index  # what → and ← do; the panels are shown at once
            # A layout reflows the whole screen; the details ask for one only for a new height.
            asked[details._layout_required] += 1
            await wait_for(pilot, lambda: details.settled, "the span's record")
            await settle(pilot)
            region = details.content_region
            wanted = details.get_content_height(details.container_size, details.size, region.width)
            assert region.height == wanted, f"turn {index}: {region.height} lines shown of {wanted}"
            heights.append((before, region.height))
        # Steps between turns of equal height asked for none; those that changed it, one.
        assert asked[False] > 0 and asked[True] > 0, (asked, heights)
