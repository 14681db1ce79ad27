"""The TUI shows what the SDK did, on real Agents SDK runs recorded by the live processor:
a guardrail on the turn it checked with its agent's run folded under it, the header
counting nested turns as the list does, and a handoff's reason, input filter and the
warning for an ignored second handoff."""

from __future__ import annotations

import pytest
from sdk_scenarios import GUARDRAIL_PASSES, INPUT_FILTER, TWO_HANDOFFS, Scenario
from test_sdk_fidelity import play
from textual.widgets import Collapsible, Static
from tui_helpers import make_app, shown_text, wait_for

from tracer.store import Store
from tui.app import BatonApp
from tui.screens.replay import ReplayScreen
from tui.widgets.messages import MessageView

pytestmark = pytest.mark.usefixtures("sdk_processors", "utc")


async def shown(
    store: Store, scenario: Scenario, *, step: int = 1, expect: str = ""
) -> tuple[str, list[str], str]:
    """Turn ``step``'s message panel text (once it shows ``expect``), its fold titles,
    and the header."""
    await play(scenario, "tracer.agents_sdk", "responses", False, store)
    app: BatonApp = make_app(store, "conv-fidelity")
    async with app.run_test(size=(120, 40)) as pilot:

        def drawn() -> bool:
            screen = app.screen
            return (
                isinstance(screen, ReplayScreen)
                and screen.conversation is not None
                and any(w.size.height for w in screen.query_one(MessageView).query(Static))
            )

        await wait_for(pilot, drawn, "the conversation on screen")
        screen = app.screen
        assert isinstance(screen, ReplayScreen)
        view = screen.query_one(MessageView)
        for _ in range(step - 1):
            await pilot.press("right")

        def text_now() -> str:
            return "\n".join(shown_text(w) for w in view.query(Static))

        await wait_for(pilot, lambda: expect in text_now(), f"{expect!r} on screen")
        text = text_now()
        titles = [str(c.title) for c in view.query(Collapsible)]
        return text, titles, shown_text(screen.query_one("#replay-title", Static))


async def test_a_guardrail_shows_on_the_turn_it_checked(store: Store) -> None:
    _, titles, header = await shown(store, GUARDRAIL_PASSES)
    assert "input guardrail harm passed · 1 turn by Judge" in titles
    assert "2 turns (1 at the top level)" in header


async def test_a_handoff_shows_its_reason_and_input_filter(store: Store) -> None:
    text, _, _ = await shown(store, INPUT_FILTER, step=2, expect="transfer")
    lines = [line.strip() for line in text.splitlines()]
    assert 'why: {"reason": "premium export bug"}' in lines
    assert (
        "input filter remove_all_tools removed function_call account (a1), "
        "function_call_output (a1), function_call transfer_to_expert (h1), "
        "function_call_output (h1)"
    ) in " ".join(lines)


async def test_an_ignored_second_handoff_is_a_warning(store: Store) -> None:
    text, _, header = await shown(store, TWO_HANDOFFS)
    assert "⚠ Multiple handoffs requested" in [line.strip() for line in text.splitlines()]
    assert "error" not in header
