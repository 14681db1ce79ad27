"""Helpers for driving the TUI in tests: wait on conditions, read what widgets show."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from textual.pilot import Pilot
from textual.widget import Widget
from textual.worker import WorkerFailed

from tracer.store import Store
from tui.app import BatonApp
from tui.source import StoreSource

WAIT_SECONDS = 20.0  # generous: CI machines are slow and shared; passing tests never wait it out


async def settle(pilot: Pilot[None]) -> None:
    """Let running workers finish and the messages they posted be handled. A worker
    superseded by a newer one (``exclusive``) is fine; one that crashed fails the test."""
    outcomes = await asyncio.gather(
        *(worker.wait() for worker in list(pilot.app.workers)), return_exceptions=True
    )
    for outcome in outcomes:
        if isinstance(outcome, WorkerFailed):
            raise outcome
    await pilot.pause()


async def wait_for(
    pilot: Pilot[None], condition: Callable[[], object], what: str | Callable[[], str] = ""
) -> None:
    """Run the app until ``condition()`` holds (workers, timers and messages included);
    ``what`` (or what it returns, for the state at the time) names it if it never does."""
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            described = what() if callable(what) else what
            raise AssertionError(f"gave up waiting for {described or condition}")
        await settle(pilot)
        await pilot.pause(0.01)


def make_app(store: Store, open_id: str | None = None, **options: object) -> BatonApp:
    """The app as ``baton tui`` builds it, without the live-follow poll unless asked."""
    options.setdefault("follow_interval", None)
    return BatonApp(StoreSource(store), open_id, **options)  # type: ignore[arg-type]


def shown_text(widget: Widget) -> str:
    """The text a widget draws, line by line, as the user sees it."""
    lines = (
        "".join(segment.text for segment in widget.render_line(y))
        for y in range(widget.size.height)
    )
    return "\n".join(line.rstrip() for line in lines)
