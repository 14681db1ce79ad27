"""The timeline: one cell per turn in the colour of the agent holding the conversation.

Three lines: a pointer over the current turn (and ``┃`` over the first turn of each run,
``╎`` of each user message within a run), the turns (``›`` marks a turn that handed
control to another agent), and a bar under turns that belong to a loop with ``✗`` where
something failed. Long conversations show the window around the current turn, so drawing
costs the same for ten turns or ten thousand.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual import events
from textual.app import RenderResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

from replay.model import Conversation
from replay.steps import Lazy, outlines
from tui.palette import AgentColors
from tui.scrub import boundaries, boundary

#: Over the first turn of a run (┃) or of a user message within a run (╎).
BOUNDARY_GLYPHS = {"run": "┃", "user": "╎"}


@dataclass(frozen=True, slots=True)
class TurnMark:
    """What the timeline shows of one turn."""

    agent: str | None
    hands_off: bool
    in_loop: bool
    failed: bool
    boundary: str = ""  # "run" or "user" when a new run or user message starts here


def turn_marks(conversation: Conversation) -> list[TurnMark]:
    """One mark per top-level step, in order."""
    looping, failing = _looping(conversation), _failing(conversation)
    # Outlines, not steps: a long conversation's steps are made only as they are shown.
    return [
        TurnMark(
            step.agent,
            step.handoff is not None,
            step.step_index in looping,
            step.step_index in failing or step.failed,
            boundary,
        )
        for step, boundary in zip(
            outlines(conversation.steps), boundaries(conversation), strict=True
        )
    ]


def lazy_turn_marks(conversation: Conversation) -> Lazy[TurnMark]:
    """``turn_marks``, each mark made when first read: the timeline draws the window
    around the current turn, so opening a 10,000-turn conversation makes the hundred
    or so marks in view, not 10,000."""
    steps = outlines(conversation.steps)
    looping, failing = _looping(conversation), _failing(conversation)

    def mark(position: int) -> TurnMark:
        step = steps[position]
        return TurnMark(
            step.agent,
            step.handoff is not None,
            step.step_index in looping,
            step.step_index in failing or step.failed,
            boundary(steps, position),
        )

    return Lazy([None] * len(steps), mark)


def _looping(conversation: Conversation) -> set[int]:
    """The steps inside a loop."""
    looping: set[int] = set()
    for found in conversation.loops:
        if found.first_step is not None and found.last_step is not None:
            looping.update(range(found.first_step, found.last_step + 1))
    return looping


def _failing(conversation: Conversation) -> set[int]:
    """The steps an error belongs to."""
    return {error.turn for error in conversation.errors if error.turn is not None}


def cell_width(turns: int, width: int) -> int:
    """As wide as room allows, from eight cells per turn down to one."""
    for cell in (8, 7, 6, 5, 4, 3, 2):
        if turns * cell <= width:
            return cell
    return 1


def window_start(turns: int, visible: int, current: int) -> int:
    """The first turn (0-based) shown so that turn ``current`` (0-based) is in view, a third
    of the way in, while the window stays inside the conversation."""
    if turns <= visible:
        return 0
    return max(0, min(current - visible // 3, turns - visible))


class Timeline(Widget, can_focus=True):
    """The turns of a conversation; the screen sets ``marks``, ``colors`` and ``current``.
    It has focus when the replay opens: ← → (the screen's keys) step along it."""

    DEFAULT_CSS = """
    Timeline { height: 3; }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "timeline--pointer",
        "timeline--loop",
        "timeline--error",
        "timeline--boundary",
    }

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left", "screen.step(-1)", "Step", key_display="←→"),
        Binding("right", "screen.step(1)", "", show=False),  # shown with ←
        Binding("pageup", "screen.page(-1)", "Page of turns", key_display="PgUp/PgDn"),
        Binding("pagedown", "screen.page(1)", "", show=False),
    ]

    marks: reactive[Sequence[TurnMark]] = reactive((), layout=False)  # lazy_turn_marks
    current: reactive[int] = reactive(1)  # Step.index, 1-based

    class StepClicked(Message):
        """The user clicked a turn."""

        def __init__(self, index: int) -> None:
            super().__init__()
            self.index = index

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.agent_colors = AgentColors()

    def _layout(self) -> tuple[int, int, int]:
        width = max(1, self.content_size.width)
        cell = cell_width(len(self.marks), width)
        visible = max(1, width // cell)
        start = window_start(len(self.marks), visible, self.current - 1)
        return cell, visible, start

    def render(self) -> RenderResult:
        if not self.marks:
            return Text("no turns recorded", style="dim")
        cell, visible, start = self._layout()
        shown = self.marks[start : start + visible]
        pointer_style = self.get_component_rich_style("timeline--pointer")
        loop_style = self.get_component_rich_style("timeline--loop")
        error_style = self.get_component_rich_style("timeline--error")
        boundary_style = self.get_component_rich_style("timeline--boundary")

        # Cells of one style in a row go in as one span: a line of 120 cells converts
        # to a handful of styled spans for the terminal, not 120.
        pointer_runs, turns_runs, bars_runs = _Runs(), _Runs(), _Runs()
        current_style = Style(reverse=True, bold=True)
        for offset, mark in enumerate(shown):
            index = start + offset + 1
            is_current = index == self.current
            if is_current or not mark.boundary:
                pointer_runs.add(_centred("▼" if is_current else "", cell), pointer_style)
            else:  # where a run or a user message starts
                edge = BOUNDARY_GLYPHS[mark.boundary]
                pointer_runs.add(edge + " " * (cell - 1), boundary_style)
            style = self.agent_colors.block(mark.agent)
            if is_current:
                style = style + current_style
            turns_runs.add(_cell_label(index, mark.hands_off, cell), style)
            bar = "━" * cell if mark.in_loop else " " * cell
            if mark.failed:
                turns_bar = "✗" + bar[1:]
                bars_runs.add(turns_bar[:1], error_style)
                bars_runs.add(turns_bar[1:], loop_style)
            else:
                bars_runs.add(bar, loop_style)
        pointer, turns, bars = pointer_runs.text(), turns_runs.text(), bars_runs.text()
        if start > 0:
            pointer = Text("◀", pointer_style) + pointer[1:]
        if start + visible < len(self.marks):
            pointer = pointer[: max(0, len(pointer) - 1)] + Text("▶", pointer_style)
        return Text("\n").join([pointer, turns, bars])

    def page_size(self) -> int:
        """How many turns the timeline shows at once."""
        return self._layout()[1]

    def on_click(self, event: events.Click) -> None:
        if not self.marks:
            return
        cell, _, start = self._layout()
        index = start + event.x // cell + 1
        if 1 <= index <= len(self.marks):
            self.post_message(self.StepClicked(index))


def _centred(char: str, cell: int) -> str:
    return char.center(cell) if char else " " * cell


def _cell_label(index: int, hands_off: bool, cell: int) -> str:
    mark = "›" if hands_off else " "
    if cell == 1:
        return mark
    number = str(index)
    if len(number) <= cell - 1:
        return number.rjust(cell - 1) + mark
    return " " * (cell - 1) + mark


class _Runs:
    """A line of text built cell by cell, each run of one style kept as one span."""

    def __init__(self) -> None:
        self._parts: list[tuple[str, Style]] = []

    def add(self, text: str, style: Style) -> None:
        if self._parts and self._parts[-1][1] == style:
            self._parts[-1] = (self._parts[-1][0] + text, style)
        else:
            self._parts.append((text, style))

    def text(self) -> Text:
        line = Text()
        for text, style in self._parts:
            line.append(text, style)
        return line
