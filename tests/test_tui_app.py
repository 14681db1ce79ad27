"""App-wide behaviour: the help lists every key, the too-small terminal, themes, and the
``baton tui`` command."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from textual.binding import Binding
from tui_helpers import make_app, shown_text, wait_for
from tui_sample import LOOPING

from tracer.store import Store
from tui.app import BatonApp
from tui.cli import main
from tui.screens.conversations import ConversationsScreen
from tui.screens.help import HelpScreen
from tui.screens.replay import ReplayScreen
from tui.screens.too_small import TooSmallScreen

pytestmark = pytest.mark.usefixtures("utc")


def described(bindings: list[object]) -> list[Binding]:
    return [b for b in bindings if isinstance(b, Binding) and b.description]


@pytest.mark.parametrize("screen_type", [ConversationsScreen, ReplayScreen])
async def test_help_lists_every_key_of_the_screen_and_the_app(
    sample_store: Store, screen_type: type
) -> None:
    app = make_app(sample_store, LOOPING if screen_type is ReplayScreen else None)
    async with app.run_test(size=(100, 50)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, screen_type))
        underneath = app.screen
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        rows = app.screen.key_rows()
        listed = {description for _, _, description in rows}
        for binding in described(type(underneath).BINDINGS) + described(BatonApp.BINDINGS):
            assert binding.description in listed
        text = shown_text(app.screen.query_one("#help-keys"))
        assert "Next loop" in text or "Only loops" in text
        await pilot.press("question_mark")  # ? again (or esc, or q) closes it
        assert app.screen is underneath


async def test_too_small_terminal_says_so_until_it_grows(sample_store: Store) -> None:
    app = make_app(sample_store)
    async with app.run_test(size=(50, 12)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, TooSmallScreen)
        assert "50×12" in shown_text(app.screen.query_one("#too-small"))
        await pilot.press("question_mark")  # nothing opens over it
        assert isinstance(app.screen, TooSmallScreen)
        await pilot.resize_terminal(80, 24)
        await wait_for(pilot, lambda: isinstance(app.screen, ConversationsScreen))
        assert not any(isinstance(s, TooSmallScreen) for s in app.screen_stack)
        await pilot.resize_terminal(59, 24)
        await wait_for(pilot, lambda: isinstance(app.screen, TooSmallScreen))
        await pilot.press("q")
    assert app.return_code == 0


async def test_ctrl_t_switches_between_dark_and_light(sample_store: Store) -> None:
    app = make_app(sample_store, theme="light")
    async with app.run_test(size=(80, 24)) as pilot:
        assert app.theme == "textual-light"
        await pilot.press("ctrl+t")
        assert app.theme == "textual-dark"


async def test_narrow_terminals_drop_the_side_panels(sample_store: Store) -> None:
    app = make_app(sample_store, LOOPING)
    async with app.run_test(size=(70, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, ReplayScreen))
        assert not app.screen.query_one("#side").display
        await pilot.resize_terminal(100, 30)
        await pilot.pause()
        assert app.screen.query_one("#side").display


def test_baton_tui_is_a_command() -> None:
    result = CliRunner().invoke(main, ["tui", "--help"])
    assert result.exit_code == 0
    assert "CONVERSATION_OR_TRACE_ID" in result.output and "--store" in result.output
    result = CliRunner().invoke(main, ["tui", "--theme", "sepia"])
    assert result.exit_code == 2 and "sepia" in result.output
