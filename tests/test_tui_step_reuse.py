"""A step refills the message panel's widgets rather than mounting new ones (#16), and shows
exactly what a turn built afresh would; with a block focused, the turn is still built
afresh, so the focus moves on as it always did. Counted on the real widgets."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import pytest
from test_tui_keyboard import replay_ready
from textual.widget import Widget
from textual.widgets import Collapsible, Static
from tui_helpers import make_app, settle, wait_for
from tui_sample import LOOPING

from tracer.store import Store
from tui.screens.replay import ReplayScreen
from tui.widgets.message_blocks import Highlighter, ToolCallBlock, turn_blocks, turn_header
from tui.widgets.messages import MessageView

pytestmark = pytest.mark.usefixtures("utc")


def described(widget: Widget, parts: Sequence[Widget] | None = None) -> tuple[object, ...]:
    """What a block draws: its kind, classes, inline styles, text, and its parts'."""
    text = widget.content.markup if isinstance(widget, Static) else None  # type: ignore[union-attr]
    extra: tuple[object, ...] = ()
    if isinstance(widget, ToolCallBlock):
        kids = widget.parts if parts is None else parts
        extra = (widget.call, tuple(described(kid) for kid in kids))
    elif isinstance(widget, Collapsible):
        extra = (widget.title, widget.collapsed, getattr(widget, "messages", None))
    return (
        type(widget).__name__,
        sorted(widget.classes - {"-collapsed"}),
        widget.styles.inline.get_rules(),
        text,
        *extra,
    )


def on_screen(view: MessageView) -> list[tuple[object, ...]]:
    return [
        described(w, list(w.children) if isinstance(w, ToolCallBlock) else None)
        for w in view.children
        if w.display  # not the spares kept hidden
    ]


def made_afresh(screen: ReplayScreen) -> list[tuple[object, ...]]:
    """The turn's blocks as ``MessageView.show`` builds them, never mounted."""
    assert screen.conversation is not None and screen.step is not None
    step, i = screen.step, screen.index
    previous = screen.conversation.steps[i - 2] if i > 1 else None
    colors = screen.agent_colors
    blocks = [
        Static(turn_header(step, colors, nested=False), classes="turn-header"),
        *turn_blocks(step, previous, colors, Highlighter(None)),
    ]
    return [described(block) for block in blocks]


def kinds(shown: list[tuple[object, ...]]) -> list[object]:
    """Each block's kind and classes, and its parts' for a tool call."""
    return [
        (d[0], d[1], [k[:2] for k in cast("tuple[tuple[object, ...], ...]", d[5])])
        if d[0] == "ToolCallBlock"
        else d[:2]
        for d in shown
    ]


async def test_a_step_refills_the_shown_blocks(sample_store: Store) -> None:
    app = make_app(sample_store, LOOPING)
    async with app.run_test(size=(110, 36)) as pilot:
        screen = await replay_ready(pilot, app)
        # Each turn's blocks are compared with ones made with the colours now.
        await wait_for(pilot, lambda: screen.colours_final, "the agents' colours")
        view = screen.query_one(MessageView)
        assert screen.conversation is not None
        total = len(screen.conversation.steps)
        walked = [*range(2, total + 1), *range(total - 1, 0, -1)]
        same_shape = 0
        for index in walked:
            before = list(view.walk_children())
            shape_before = kinds(on_screen(view))
            await pilot.press("right" if index > screen.index else "left")
            await settle(pilot)
            assert screen.index == index
            # Exactly what building the turn afresh shows.
            assert on_screen(view) == made_afresh(screen)
            if kinds(on_screen(view)) == shape_before:
                same_shape += 1
                # Not one widget mounted or removed: the same objects, refilled.
                after = list(view.walk_children())
                assert len(after) == len(before)
                assert all(a is b for a, b in zip(after, before, strict=True))
        assert same_shape > 0


async def test_a_focused_block_still_hands_the_focus_on(sample_store: Store) -> None:
    app = make_app(sample_store, LOOPING)
    async with app.run_test(size=(110, 36)) as pilot:
        screen = await replay_ready(pilot, app)
        assert screen.conversation is not None
        with_calls = next(step for step in screen.conversation.steps if step.tool_calls)
        while screen.index < with_calls.index:
            await pilot.press("right")
        await settle(pilot)
        view = screen.query_one(MessageView)
        block = view.query(ToolCallBlock).first()
        block.focus()
        await settle(pilot)
        old = list(view.walk_children())
        await pilot.press("right")
        await settle(pilot)
        assert screen.index == with_calls.index + 1
        # Removed, as before: the focus went back to the panel, not to nothing.
        assert not any(a is b for a in view.walk_children() for b in old)
        assert screen.focused is view
        assert on_screen(view) == made_afresh(screen)
