"""The keyboard everywhere (issue #15): focus moves between the panels with Tab, Shift-Tab
and a key per panel, every panel scrolls from the keyboard, the footer shows the focused
panel's keys, and the command palette (ctrl+p) offers every action."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from textual.binding import Binding
from textual.command import CommandPalette
from textual.widgets import Footer, Input
from textual.widgets._footer import FooterKey
from tui_helpers import make_app, shown_text, wait_for
from tui_sample import LOOPING

from tracer.store import Store
from tui.app import BatonApp
from tui.screens.conversations import ConversationsScreen
from tui.screens.replay import ReplayScreen
from tui.widgets.conversation_table import ConversationTable
from tui.widgets.span_details import SpanDetails

pytestmark = pytest.mark.usefixtures("utc")

PANELS = ("timeline", "messages", "graph", "details-box")


async def replay_ready(pilot: object, app: BatonApp) -> ReplayScreen:
    def ready() -> bool:
        screen = app.screen
        return (
            isinstance(screen, ReplayScreen)
            and screen.step is not None
            and screen.query_one(SpanDetails).settled
        )

    await wait_for(pilot, ready, "the conversation with its span details")  # type: ignore[arg-type]
    screen = app.screen
    assert isinstance(screen, ReplayScreen)
    return screen


def panel_of(app: BatonApp) -> str | None:
    """The panel holding the focus (a tool call or fold inside the messages counts as
    the messages)."""
    focused = app.focused
    for node in (focused, *(focused.ancestors if focused else ())):
        if getattr(node, "id", None) in PANELS:
            return str(node.id)
    return None


def footer(app: BatonApp) -> str:
    keys = app.screen.query_one(Footer).query(FooterKey)
    return " ".join(" ".join(shown_text(key).split()) for key in keys)


async def test_tab_and_shift_tab_walk_the_panels(sample_store: Store) -> None:
    app = make_app(sample_store, LOOPING)
    async with app.run_test(size=(110, 36)) as pilot:
        await replay_ready(pilot, app)
        assert panel_of(app) == "timeline"  # ← → step from the start
        visited = [panel_of(app)]
        for _ in range(12):
            await pilot.press("tab")
            if panel_of(app) != visited[-1]:
                visited.append(panel_of(app))
        # Round and round, each panel in turn (tool calls and folds inside the messages).
        assert visited[:5] == [*PANELS, "timeline"]
        await pilot.press("t")
        back = [panel_of(app)]
        for _ in range(12):
            await pilot.press("shift+tab")
            if panel_of(app) != back[-1]:
                back.append(panel_of(app))
        assert back[:5] == ["timeline", *reversed(PANELS)]


async def test_a_key_per_panel_and_the_footer_shows_its_keys(sample_store: Store) -> None:
    app = make_app(sample_store, LOOPING)
    async with app.run_test(size=(110, 36)) as pilot:
        screen = await replay_ready(pilot, app)
        await wait_for(pilot, lambda: "←→ Step" in footer(app), lambda: footer(app))
        assert "↑↓ Scroll" not in footer(app)
        for key, panel in (("m", "messages"), ("g", "graph"), ("d", "details-box")):
            await pilot.press(key)
            assert panel_of(app) == panel
        # The footer follows the focus on its next refresh.
        await wait_for(pilot, lambda: "↑↓ Scroll" in footer(app), lambda: footer(app))
        assert "PgUp/PgDn Page" in footer(app)
        assert "←→ Step" not in footer(app)
        await pilot.press("t")
        await wait_for(pilot, lambda: "←→ Step" in footer(app), lambda: footer(app))
        assert panel_of(app) == "timeline"
        # ← → step whichever panel has focus.
        await pilot.press("d", "right")
        assert screen.index == 2 and panel_of(app) == "details-box"


async def test_the_details_panel_scrolls_from_the_keyboard_at_80x24(sample_store: Store) -> None:
    app = make_app(sample_store, LOOPING)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await replay_ready(pilot, app)
        box = screen.query_one("#details-box")
        assert box.max_scroll_y > 0  # more than the panel holds
        await pilot.press("d", "down", "down")
        assert box.scroll_y == 2
        await pilot.press("pagedown")
        assert box.scroll_y == min(2 + box.scrollable_content_region.height, box.max_scroll_y)
        await pilot.press("up")
        assert box.scroll_y == min(2 + box.scrollable_content_region.height, box.max_scroll_y) - 1
        messages = screen.query_one("#messages")
        await pilot.press("m", "pagedown")
        assert messages.scroll_y > 0 or messages.max_scroll_y == 0


def described(bindings: Sequence[object]) -> set[str]:
    return {b.description for b in bindings if isinstance(b, Binding) and b.description}


@pytest.mark.parametrize("screen_type", [ConversationsScreen, ReplayScreen])
async def test_the_command_palette_offers_every_action(
    sample_store: Store, screen_type: type[ConversationsScreen | ReplayScreen]
) -> None:
    app = make_app(sample_store, LOOPING if screen_type is ReplayScreen else None)
    async with app.run_test(size=(110, 36)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, screen_type))
        titles = {command.title for command in app.get_system_commands(app.screen)}
        assert described(screen_type.BINDINGS) - titles == set()
        assert described(BatonApp.BINDINGS) - titles == set()


async def test_an_action_run_from_the_palette(sample_store: Store) -> None:
    app = make_app(sample_store, LOOPING)
    async with app.run_test(size=(110, 36)) as pilot:
        screen = await replay_ready(pilot, app)
        failing = [i + 1 for i, mark in enumerate(screen.marks) if mark.failed]
        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette), "the palette")
        await pilot.press(*"next error")
        await wait_for(
            pilot,
            lambda: "Next error" in shown_text(app.screen),
            "the command in the palette",
        )
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen.index == failing[0], "the first error")
        assert app.screen is screen


async def test_the_list_tabs_between_filter_and_table(sample_store: Store) -> None:
    app = make_app(sample_store)
    async with app.run_test(size=(110, 36)) as pilot:
        await wait_for(pilot, lambda: app.screen.query_one(ConversationTable).row_count > 0)
        assert isinstance(app.focused, ConversationTable)
        await pilot.press("shift+tab")
        assert isinstance(app.focused, Input)
        await pilot.press("tab")
        assert isinstance(app.focused, ConversationTable)
