"""SVG snapshots of the main screens on the fixed sample store.

Update after a deliberate change with ``pytest tests/test_tui_snapshots.py
--snapshot-update`` and look at the report before committing the new SVGs.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot
from tui_helpers import make_app, wait_for
from tui_sample import LOOPING

from tracer.store import Store
from tui.app import BatonApp
from tui.screens.conversations import ConversationsScreen
from tui.screens.replay import ReplayScreen
from tui.widgets.span_details import SpanDetails

pytestmark = pytest.mark.usefixtures("utc")

Compare = Callable[..., bool]


@pytest.fixture
def in_store_dir(sample_store: Store, monkeypatch: pytest.MonkeyPatch) -> Store:
    """Run from the store's folder, so the title shows a short path that is the same on
    every machine."""
    monkeypatch.chdir(sample_store.path.parent)
    return sample_store


def loaded(app: BatonApp, *keys: str) -> Callable[[Pilot[None]], object]:
    """Before the screenshot: wait until the screen on top has its data, press ``keys``,
    and wait again (for the selected span's attributes too)."""

    def ready() -> bool:
        screen = app.screen
        if isinstance(screen, ReplayScreen):
            if screen.error is not None:
                return True
            return (
                screen.conversation is not None
                and screen.colours_final
                and screen.cost is not None  # priced, so the details show the cost
                and screen.query_one(SpanDetails).settled
            )
        if isinstance(screen, ConversationsScreen):
            return screen.total is not None
        return True

    async def wait(pilot: Pilot[None]) -> None:
        await wait_for(pilot, ready, "data on screen")
        for key in keys:
            await pilot.press(key)
            await wait_for(pilot, ready, f"data on screen after {key}")

    return wait


def test_conversations(snap_compare: Compare, in_store_dir: Store) -> None:
    app = make_app(in_store_dir)
    assert snap_compare(app, terminal_size=(80, 24), run_before=loaded(app))


def test_replay_loop(snap_compare: Compare, in_store_dir: Store) -> None:
    app = make_app(in_store_dir, LOOPING)
    assert snap_compare(app, terminal_size=(110, 34), run_before=loaded(app, "right"))


def test_replay_error_80x24(snap_compare: Compare, in_store_dir: Store) -> None:
    app = make_app(in_store_dir, LOOPING)
    assert snap_compare(app, terminal_size=(80, 24), run_before=loaded(app, "e"))


def test_replay_light(snap_compare: Compare, in_store_dir: Store) -> None:
    app = make_app(in_store_dir, LOOPING, theme="light")
    assert snap_compare(app, terminal_size=(110, 34), run_before=loaded(app, "e", "x"))


def test_replay_lanes(snap_compare: Compare, in_store_dir: Store) -> None:
    app = make_app(in_store_dir, LOOPING)
    assert snap_compare(app, terminal_size=(110, 34), run_before=loaded(app, "v", "e"))


def test_replay_lanes_no_color(
    snap_compare: Compare, in_store_dir: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")  # the lanes read by their names and glyphs alone
    app = make_app(in_store_dir, LOOPING)
    assert snap_compare(app, terminal_size=(110, 34), run_before=loaded(app, "v", "e"))


def test_help(snap_compare: Compare, in_store_dir: Store) -> None:
    app = make_app(in_store_dir, LOOPING)
    assert snap_compare(app, terminal_size=(100, 40), run_before=loaded(app, "question_mark"))


def test_empty_store(
    snap_compare: Compare, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    app = make_app(Store(tmp_path / "new.duckdb"))
    assert snap_compare(app, terminal_size=(80, 24), run_before=loaded(app))


def test_too_small(snap_compare: Compare, in_store_dir: Store) -> None:
    app = make_app(in_store_dir)
    assert snap_compare(app, terminal_size=(50, 12))
