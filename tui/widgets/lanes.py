"""The lane view of the replay: one row per agent, turns as columns (``tui.lanes``
draws it), with a legend; ``v`` on the replay screen switches it with the timeline."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import events
from textual.app import RenderResult
from textual.binding import Binding, BindingType
from textual.reactive import reactive
from textual.widget import Widget

from tui.lanes import LEGEND, LaneColumn, draw_lanes, label_width, visible_turns
from tui.palette import AgentColors
from tui.widgets.timeline import Timeline, window_start


class AgentLanes(Widget, can_focus=True):
    """The screen sets ``columns``, ``agents``, ``agent_colors`` and ``current``."""

    DEFAULT_CSS = """
    AgentLanes { height: auto; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left", "screen.step(-1)", "Step", key_display="←→"),
        Binding("right", "screen.step(1)", "", show=False),  # shown with ←
        Binding("pageup", "screen.page(-1)", "Page of turns", key_display="PgUp/PgDn"),
        Binding("pagedown", "screen.page(1)", "", show=False),
    ]

    columns: reactive[tuple[LaneColumn, ...]] = reactive((), layout=True)
    agents: reactive[tuple[str, ...]] = reactive((), layout=True)
    current: reactive[int] = reactive(1)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.agent_colors = AgentColors()

    def _window(self) -> tuple[int, int]:
        visible = visible_turns(max(1, self.content_size.width), self.agents)
        return window_start(len(self.columns), visible, self.current - 1), visible

    def render(self) -> RenderResult:
        if not self.columns:
            return Text("no turns recorded", style="dim")
        start, visible = self._window()
        lines = draw_lanes(
            self.columns,
            self.agents,
            current=self.current,
            start=start,
            visible=visible,
            colors=self.agent_colors,
        )
        before = f"◀ {start} earlier" if start else ""
        after = len(self.columns) - start - visible
        more = f"{after} later ▶" if after > 0 else ""
        legend = Text(LEGEND, style="dim", no_wrap=True, overflow="ellipsis")
        if before or more:
            legend = Text(f"{before}  {more}  ".lstrip(), style="bold") + legend
        return Text("\n", no_wrap=True).join([*lines, legend])

    def get_content_height(self, container: object, viewport: object, width: int) -> int:
        return len(self.agents) + 2 if self.columns else 1

    def page_size(self) -> int:
        """How many turns the lanes show at once."""
        return self._window()[1]

    def on_click(self, event: events.Click) -> None:
        if not self.columns:
            return
        start, _ = self._window()
        offset = (event.x - label_width(self.agents)) // 3
        index = start + offset + 1
        if offset >= 0 and 1 <= index <= len(self.columns):
            self.post_message(Timeline.StepClicked(index))
