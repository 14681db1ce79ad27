"""``w``: the waterfall of the current run, full screen, the current turn's spans lit."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, cast

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import ModalScreen
from textual.widgets import Footer, Static
from textual.worker import get_current_worker

from replay.model import Step
from replay.waterfall import SpanTiming
from tui.source import describe_failure
from tui.waterfall import draw_waterfall
from tui.widgets.panel import ScrollPanel

if TYPE_CHECKING:
    from tui.app import BatonApp


def step_span_ids(step: Step) -> set[str]:
    """The spans of a turn: its model call, its tool calls and what ran under them."""
    ids = {step.span_id}
    for call in step.tool_calls:
        ids.add(call.span_id)
        for inner in call.nested:
            ids |= step_span_ids(inner)
    return ids


class WaterfallScreen(ModalScreen[None]):
    """Where the time of ``step``'s run went; Esc, q or w closes."""

    HELP_TITLE = "Waterfall"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,w", "dismiss", "Close", key_display="esc"),
    ]

    def __init__(self, step: Step, title: str) -> None:
        super().__init__()
        self.step = step
        self.title_text = title
        self.timings: tuple[SpanTiming, ...] | None = None

    def compose(self) -> ComposeResult:
        with ScrollPanel(id="waterfall-panel") as panel:
            panel.border_title = self.title_text
            panel.border_subtitle = "esc closes"
            yield Static("Loading…", id="waterfall")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one(ScrollPanel).focus()
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False)
    def load(self) -> None:
        source = cast("BatonApp", self.app).source
        try:
            timings = source.run_timings(self.step.trace_id)
        except Exception as exc:  # shown in the panel: the UI outlives a failed read
            if not get_current_worker().is_cancelled:
                self.app.call_from_thread(
                    self.query_one("#waterfall", Static).update, describe_failure(exc)
                )
            return
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show, timings)

    def _show(self, timings: tuple[SpanTiming, ...]) -> None:
        self.timings = timings
        self._draw()
        lit = step_span_ids(self.step)
        first = next((i for i, t in enumerate(timings) if t.span_id in lit), 0)
        self.call_after_refresh(self.query_one(ScrollPanel).scroll_to, y=max(0, first - 2))

    def on_resize(self) -> None:
        if self.timings is not None:
            self._draw()

    def _draw(self) -> None:
        assert self.timings is not None
        width = self.query_one(ScrollPanel).scrollable_content_region.width or 80
        lines = draw_waterfall(self.timings, width, step_span_ids(self.step))
        self.query_one("#waterfall", Static).update(Text("\n").join(lines))
