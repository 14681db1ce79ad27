"""The replay screen, driven by its pilot over real stores: stepping, playing, loops,
errors, search, folds, nested agent-tool turns, details, bad ids, missing content, and a
conversation that grows while it is open."""

from __future__ import annotations

from pathlib import Path

import pytest
from spanmaker import SpanMaker, ping_pong_run
from textual.pilot import Pilot
from textual.widgets import Collapsible, Input, Static
from tui_helpers import make_app, settle, shown_text, wait_for
from tui_sample import LOOPING, NO_CONTENT, TWO_RUNS

from replay.model import Step, ToolCall
from tracer.store import Store
from tui.app import BatonApp
from tui.screens.conversations import ConversationsScreen
from tui.screens.replay import SPEEDS, ReplayScreen
from tui.screens.search import SearchScreen
from tui.widgets.agent_graph import AgentGraphView
from tui.widgets.message_blocks import ToolCallBlock
from tui.widgets.messages import MessageView
from tui.widgets.span_details import SpanDetails
from tui.widgets.timeline import Timeline, cell_width

pytestmark = pytest.mark.usefixtures("utc")

LOOPING_TRACE = f"{0x40:032x}"


def replay_of(app: BatonApp) -> ReplayScreen:
    screen = app.screen
    assert isinstance(screen, ReplayScreen), screen
    return screen


async def opened(pilot: Pilot[None], app: BatonApp) -> ReplayScreen:
    """Wait until the replay screen has loaded (or failed to) and drawn its first turn."""

    def drawn() -> bool:
        screen = app.screen
        if not isinstance(screen, ReplayScreen):
            return False
        if screen.conversation is None and screen.error is None:
            return False
        return any(w.size.height for w in screen.query_one(MessageView).query(Static))

    await wait_for(pilot, drawn, "the conversation on screen")
    return replay_of(app)


def banner(screen: ReplayScreen) -> str:
    return shown_text(screen.query_one("#banner", Static))


def message_text(screen: ReplayScreen) -> str:
    """Everything the message panel shows, folded parts excluded."""
    return "\n".join(shown_text(w) for w in screen.query_one(MessageView).query(Static))


async def until_shown(pilot: Pilot[None], screen: ReplayScreen, text: str) -> str:
    """Wait for the message panel (redrawn on each step) to show ``text``; returns it all."""
    await wait_for(pilot, lambda: text in message_text(screen), f"{text!r} in the messages")
    return message_text(screen)


async def test_steps_through_turns_with_the_active_agent_shown_everywhere(
    sample_store: Store,
) -> None:
    app = make_app(sample_store, LOOPING)
    async with app.run_test(size=(110, 36)) as pilot:
        screen = await opened(pilot, app)
        conversation = screen.conversation
        assert conversation is not None and len(conversation.steps) == 8
        assert screen.index == 1
        timeline = screen.query_one(Timeline)
        assert [m.agent for m in timeline.marks] == [
            "Triage",
            "Billing",
            "Triage",
            "Billing",
            "Triage",
            "Refunds",
            "Refunds",
            "Refunds",
        ]
        assert [m.hands_off for m in timeline.marks] == [True] * 5 + [False] * 3
        assert [m.in_loop for m in timeline.marks] == [True] * 4 + [False] * 4
        assert [m.failed for m in timeline.marks] == [False] * 5 + [True, False, False]
        graph = screen.query_one(AgentGraphView)
        assert graph.active == "Triage"
        assert [(e.source, e.target, e.count) for e in graph.counts.edges] == [
            ("Triage", "Billing", 1)
        ]
        assert graph.layout_graph.agents == ("Triage", "Billing", "Refunds", "Researcher")
        text = message_text(screen)
        assert "I was charged twice for order A-1017" in text
        assert "Triage  ━━ transfer ━━▶  Billing" in text
        details = screen.query_one(SpanDetails)
        assert isinstance(details.selected, Step) and details.selected.index == 1

        await pilot.press("right", "right")
        assert screen.index == 3 and timeline.current == 3 and graph.active == "Triage"
        counts = {(e.source, e.target): e.count for e in graph.counts.edges}
        assert counts == {("Triage", "Billing"): 2, ("Billing", "Triage"): 1}
        await pilot.press("left")
        assert screen.index == 2 and graph.active == "Billing"
        await pilot.press("end")
        assert screen.index == 8 and graph.active == "Refunds"
        await until_shown(pilot, screen, "reaches your card in 3–5 days")
        await pilot.press("right")  # past the end: stays
        assert screen.index == 8
        await pilot.press("home", "left")
        assert screen.index == 1
        assert "turn 1 of 8" in str(screen.query_one("#timeline-box").border_title)


async def test_loops_are_announced_and_l_jumps_to_them(sample_store: Store) -> None:
    app = make_app(sample_store, LOOPING)
    async with app.run_test(size=(110, 36)) as pilot:
        screen = await opened(pilot, app)
        assert "⟲ Triage ⇄ Billing ×4 · turns 1–4" in banner(screen)
        title = shown_text(screen.query_one("#replay-title", Static))
        assert "⟲ 1 loop" in title and "✗ 1 error" in title
        await pilot.press("end", "l")  # after the last loop: back round to the first
        assert screen.index == 1
        await pilot.press("right", "right", "right", "right")
        assert screen.index == 5 and "⟲" not in banner(screen)


async def test_e_jumps_to_the_next_error_and_shows_where(sample_store: Store) -> None:
    app = make_app(sample_store, LOOPING)
    async with app.run_test(size=(110, 36)) as pilot:
        screen = await opened(pilot, app)
        await pilot.press("e")
        assert screen.index == 6
        assert "✗ TimeoutError in execute_tool refund_charge" in banner(screen)
        failed = [b for b in screen.query(ToolCallBlock) if b.call.status == "error"]
        assert [b.call.name for b in failed] == ["refund_charge"]
        assert failed[0].has_class("-error")
        await pilot.press("e")  # the only error: stays there
        assert screen.index == 6


async def test_space_plays_to_the_end_at_the_chosen_speed(sample_store: Store) -> None:
    app = make_app(sample_store, LOOPING)
    async with app.run_test(size=(110, 36)) as pilot:
        screen = await opened(pilot, app)
        for _ in range(len(SPEEDS)):
            await pilot.press("plus")
        assert screen.speed == len(SPEEDS) - 1  # fastest, and no further
        await pilot.press("minus")
        assert screen.speed == len(SPEEDS) - 2  # four turns a second: slow enough to watch
        visited: list[int] = []
        screen.watch(screen, "index", lambda index: visited.append(index), init=False)
        await pilot.press("space")
        assert screen.playing and "▶ playing" in banner(screen)
        await wait_for(pilot, lambda: not screen.playing, "playing to the end")
        assert visited == [2, 3, 4, 5, 6, 7, 8]  # one turn at a time, then it stops
        visited.clear()
        for _ in range(len(SPEEDS)):  # slowest, so the replay cannot end before we look
            await pilot.press("minus")
        await pilot.press("space")  # at the end, play starts over from the first turn
        assert screen.playing and visited == [1]
        await pilot.press("space")
        assert not screen.playing
        stopped_at = screen.index
        for _ in range(len(SPEEDS)):
            await pilot.press("plus")
        await pilot.pause(SPEEDS[screen.speed] * 3)
        assert not screen.playing and screen.index == stopped_at  # paused means paused


async def test_search_finds_turns_and_n_repeats(sample_store: Store) -> None:
    app = make_app(sample_store, LOOPING)
    async with app.run_test(size=(110, 36)) as pilot:
        screen = await opened(pilot, app)
        await pilot.press("slash")
        assert isinstance(app.screen, SearchScreen)
        await pilot.press(*"duplicate", "enter")
        await wait_for(pilot, lambda: screen.index == 6, "the first match")
        assert screen.search_term == "duplicate"
        assert screen.search_matches == (6, 8)
        assert banner(screen).endswith("/duplicate  match 1 of 2 turns  n next · N previous")
        await until_shown(pilot, screen, "ch_2 is the duplicate")  # the agent-tool's answer
        await pilot.press("n")  # turn 7 only repeats the history that mentions it: skipped
        await wait_for(pilot, lambda: screen.index == 8, "the next match")
        await until_shown(pilot, screen, "I refunded the duplicate charge")
        await pilot.press("N")
        await wait_for(pilot, lambda: screen.index == 6, "the previous match")
        await pilot.press("home", "slash", "ctrl+u", *"ch_6", "enter")  # ctrl+u: clear
        await wait_for(pilot, lambda: screen.search_term == "ch_6" and screen.index == 6)
        # Only in the long result of lookup_charges: its fold opens to show it.
        await until_shown(pilot, screen, '"id": "ch_6"')
        await pilot.press("slash")
        search_box = app.screen.query_one(Input)
        assert search_box.value == "ch_6"  # the last search, ready to edit
        search_box.value = "no such words"
        await pilot.press("enter")
        await settle(pilot)
        assert screen.index == 6  # nothing found: stay
        assert any("No turn mentions" in str(n.message) for n in app._notifications)
        # The failed term is forgotten: no highlight of the old one, n does not repeat it...
        assert screen.search_term is None and screen.search_matches == ()
        assert "/" not in banner(screen) and "ch_6" not in banner(screen)
        await pilot.press("slash")
        # ...but the prompt offers it again, to fix the typo.
        assert app.screen.query_one(Input).value == "no such words"
        await pilot.press("escape")
        assert app.screen is screen and screen.search_term is None


async def test_search_finds_system_prompts_under_earlier_context(sample_store: Store) -> None:
    app = make_app(sample_store, LOOPING)
    async with app.run_test(size=(110, 36)) as pilot:
        screen = await opened(pilot, app)
        conversation = screen.conversation
        assert conversation is not None
        # Triage's instructions are new to each turn Triage takes over (from Billing).
        steps = conversation.steps
        fresh_triage = tuple(
            s.index
            for s in steps
            if s.agent == "Triage" and (s.index == 1 or steps[s.index - 2].agent != "Triage")
        )
        assert fresh_triage == (1, 3, 5)
        await pilot.press("slash", *"route billing", "enter")
        await wait_for(pilot, lambda: screen.index == 3, "the next turn sent the prompt")
        assert screen.search_matches == fresh_triage
        # The prompt is shown under "earlier context": that fold opens to show it.
        await until_shown(pilot, screen, "Route billing questions to Billing")
        assert "match 2 of 3 turns" in banner(screen)


async def test_tool_results_fold_and_agents_as_tools_open_into_their_turns(
    sample_store: Store,
) -> None:
    app = make_app(sample_store, LOOPING)
    async with app.run_test(size=(110, 36)) as pilot:
        screen = await opened(pilot, app)
        await pilot.press("e")  # turn 6: three tool calls, one an agent
        calls = list(screen.query(ToolCallBlock))
        assert [c.call.name for c in calls] == ["lookup_charges", "ask_researcher", "refund_charge"]
        lookup, research, _ = calls
        long_result = lookup.query_one(Collapsible)
        assert long_result.collapsed and "result · 41 lines" in long_result.title
        nested = research.query_one(Collapsible)
        assert research.call.is_agent and nested.collapsed
        assert "1 turn by Researcher" in nested.title
        await pilot.press("x")  # unfold everything
        assert not long_result.collapsed and not nested.collapsed
        await until_shown(pilot, screen, "ch_2 is the duplicate")
        await pilot.press("x")
        assert long_result.collapsed and nested.collapsed

        details = screen.query_one(SpanDetails)
        research.focus()
        await pilot.pause()
        assert isinstance(details.selected, ToolCall) and details.selected.agent == "Researcher"
        assert "agent as tool: Researcher" in shown_text(details)
        # The tool call's stored attributes follow, read off the UI thread.
        await wait_for(pilot, lambda: details.record is not None, "the tool call's attributes")
        assert details.record is not None and details.record.span_id == research.call.span_id
        assert "gen_ai.transfer.target.name Researcher" in shown_text(details)
        await pilot.press("right")  # a new turn shows its own span again
        assert isinstance(details.selected, Step) and details.selected.index == 7
        await wait_for(pilot, lambda: details.settled, "the turn's attributes")
        assert "gen_ai.operation.name chat" in shown_text(details)


async def test_timeline_click_goes_to_that_turn(sample_store: Store) -> None:
    app = make_app(sample_store, LOOPING)
    async with app.run_test(size=(110, 36)) as pilot:
        screen = await opened(pilot, app)
        timeline = screen.query_one(Timeline)
        cell = cell_width(len(timeline.marks), timeline.content_size.width)
        await pilot.click(Timeline, offset=(cell * 4 + 1, 1))  # the fifth turn
        assert screen.index == 5


async def test_opens_by_trace_id_and_multi_run_conversations(sample_store: Store) -> None:
    app = make_app(sample_store, LOOPING_TRACE)
    async with app.run_test(size=(110, 36)) as pilot:
        screen = await opened(pilot, app)
        assert screen.conversation is not None and screen.conversation.conversation_id == LOOPING
    app = make_app(sample_store, TWO_RUNS)
    async with app.run_test(size=(110, 36)) as pilot:
        screen = await opened(pilot, app)
        assert screen.conversation is not None and len(screen.conversation.trace_ids) == 2
        assert "2 runs" in shown_text(screen.query_one("#replay-title", Static))
        await pilot.press("end", "left")  # the second run's first turn: its user message
        assert "run 2 of 2" in str(screen.query_one(MessageView).border_title)
        await until_shown(pilot, screen, "how do I send them back?")
        await pilot.press("right")  # the transfer's tool result is not repeated as a message
        assert "tool" not in await until_shown(pilot, screen, "drop the box")


async def test_unknown_id_says_so_and_esc_goes_to_the_list(sample_store: Store) -> None:
    app = make_app(sample_store, "no-such-conversation")
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await opened(pilot, app)
        assert screen.error is not None and "no-such-conversation" in screen.error
        assert screen.has_class("-failed")
        text = message_text(screen)
        assert "no-such-conversation" in text and "Press Esc" in text
        await pilot.press("right", "space", "l", "e", "slash")  # nothing to do; nothing breaks
        assert app.screen is screen and not screen.playing
        underneath = app.screen_stack[-2]
        assert isinstance(underneath, ConversationsScreen)
        assert underneath.total is None  # the list is not read until it is shown
        await pilot.press("escape")
        assert app.screen is underneath
        await wait_for(pilot, lambda: underneath.total == 4, "the list once shown")


async def test_a_run_recorded_without_content_says_so(sample_store: Store) -> None:
    app = make_app(sample_store, NO_CONTENT)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await opened(pilot, app)
        assert screen.query(".no-content")
        assert "recorded no message content" in message_text(screen)
        await pilot.press("end", "left")  # the turn that called a tool still shows the call
        assert [b.call.name for b in screen.query(ToolCallBlock)] == ["service_status"]
        rows = [line.split() for line in shown_text(screen.query_one(SpanDetails)).splitlines()]
        assert ["content", "not", "recorded"] in rows


async def test_an_open_conversation_follows_its_store(tmp_path: Path) -> None:
    store = Store(tmp_path / "live.duckdb")
    maker = SpanMaker(store)
    ping_pong_run(maker, [("Triage", "Billing")], conversation_id="live-1")
    app = make_app(store, "live-1", follow_interval=0.05)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await opened(pilot, app)
        assert screen.conversation is not None, screen.error
        assert len(screen.conversation.steps) == 2
        await pilot.press("end")
        ping_pong_run(maker, [("Billing", "Refunds")], conversation_id="live-1")  # a second run
        await wait_for(pilot, lambda: len(screen.conversation.steps) == 4, "the new run")  # type: ignore[union-attr]
        assert screen.index == 4  # it was at the end, so it follows the end
        assert screen.conversation is not None and len(screen.conversation.trace_ids) == 2
        await pilot.press("home")
        ping_pong_run(maker, [("Refunds", "Triage")], conversation_id="live-1")
        await wait_for(pilot, lambda: len(screen.conversation.steps) == 6, "the third run")  # type: ignore[union-attr]
        assert screen.index == 1  # reading elsewhere: stays put
    maker.close()


async def test_a_long_history_is_built_only_when_opened_and_capped(tmp_path: Path) -> None:
    from tui_sample import SampleRun

    from tracer.capture.spanrows import SpanRows
    from tui.widgets.message_blocks import MAX_CONTEXT, ContextFold

    rows = SpanRows()
    run = SampleRun(rows, 0x77, 1_773_478_800_000_000_000, "long-history", content=True)
    for n in range(MAX_CONTEXT + 30):
        run.user(f"question {n}")
        run.history.append(
            {"role": "assistant", "parts": [{"type": "text", "content": f"answer {n}"}]}
        )
    run.user("and the last question")
    run.chat(run.agent("Triage"), text="the last answer")
    store = Store(tmp_path / "history.duckdb")
    store.ingest(rows.to_arrow())
    app = make_app(store, "long-history")
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await opened(pilot, app)
        fold = screen.query_one(ContextFold)
        assert fold.title == f"earlier context · {2 * (MAX_CONTEXT + 30)} messages"
        assert not fold.query(".-user")  # nothing built while folded
        await pilot.press("x")
        text = await until_shown(pilot, screen, "earlier messages not shown")
        assert f"… {2 * (MAX_CONTEXT + 30) - MAX_CONTEXT} earlier messages not shown" in text
        assert "and the last question" in text
