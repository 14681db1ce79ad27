"""What opening a conversation costs the UI thread, counted on real objects: workers
described without the conversation's repr, the loading indicator only for a load that
takes a while. The look is the snapshots'; these hold the work behind it down."""

from __future__ import annotations

import gc
import threading
import time

import pytest
from textual.widgets import LoadingIndicator
from tui_helpers import WAIT_SECONDS, wait_for
from tui_sample import LOOPING

from replay.model import Conversation
from tracer.store import Store
from tui.app import BatonApp
from tui.screens.replay import ReplayScreen
from tui.source import StoreSource
from tui.widgets.messages import MessageView
from tui.widgets.span_details import SpanDetails

pytestmark = pytest.mark.usefixtures("utc")


class HeldSource(StoreSource):
    """The real source over the real store; the conversation's read waits for ``go``."""

    def __init__(self, store: Store) -> None:
        super().__init__(store)
        self.go = threading.Event()

    def conversation_at(
        self, conversation_or_trace_id: str
    ) -> tuple[Conversation, tuple[int, int]]:
        self.go.wait(60)
        return super().conversation_at(conversation_or_trace_id)


async def test_no_worker_is_described_by_the_conversations_repr(sample_store: Store) -> None:
    """Textual describes a worker by the repr of its arguments unless told; a 10,000-turn
    conversation's repr took 100 ms of the UI thread right after the first turn drew."""
    app = BatonApp(StoreSource(sample_store), LOOPING, follow_interval=None)
    async with app.run_test(size=(110, 36)) as pilot:
        await wait_for(
            pilot,
            lambda: (
                isinstance(app.screen, ReplayScreen)
                and app.screen.cost is not None
                and app.screen.query_one(SpanDetails).record is not None
            ),
            "the first turn, priced",
        )
        screen = app.screen
        assert isinstance(screen, ReplayScreen) and screen.conversation is not None
        worker = screen.price(screen.conversation)  # as the screen starts it after a load
        assert worker.description == "price"
        await worker.wait()


async def test_a_slow_load_shows_the_loading_indicator_until_the_turn(
    sample_store: Store,
) -> None:
    source = HeldSource(sample_store)
    app = BatonApp(source, LOOPING, follow_interval=None)
    async with app.run_test(size=(110, 36)) as pilot:

        def spinning() -> bool:
            screen = app.screen
            return isinstance(screen, ReplayScreen) and bool(
                screen.query_one(MessageView).query(LoadingIndicator)
            )

        # Not ``wait_for``: it waits for workers, and the read is held until ``go``.
        deadline = time.monotonic() + WAIT_SECONDS
        while not spinning() and time.monotonic() < deadline:
            await pilot.pause(0.02)
        assert spinning(), "the loading indicator while the read is held"
        source.go.set()
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, ReplayScreen) and app.screen.index == 1,
            "the first turn",
        )
        assert not app.screen.query_one(MessageView).query(LoadingIndicator)


async def test_steps_made_after_opening_are_frozen_with_the_rest(sample_store: Store) -> None:
    """Pricing reads every step, making those not read yet; they join the frozen
    conversation, out of the collector's walks while stepping (``test_tui_step_cost``)."""
    app = BatonApp(StoreSource(sample_store), LOOPING, follow_interval=None)
    async with app.run_test(size=(110, 36)) as pilot:
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, ReplayScreen) and app.screen.cost is not None,
            "the conversation priced",
        )
        screen = app.screen
        assert isinstance(screen, ReplayScreen) and screen.conversation is not None
        steps = list(screen.conversation.steps)
        assert len(steps) > 2
        tracked = {id(found) for found in gc.get_objects()}
        assert [step.index for step in steps if id(step) in tracked] == []
