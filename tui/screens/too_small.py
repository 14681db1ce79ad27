"""Shown instead of everything else while the terminal is too small to be useful."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Center, Middle
from textual.screen import Screen
from textual.widgets import Static

MIN_WIDTH = 60
MIN_HEIGHT = 16


class TooSmallScreen(Screen[None]):
    """Says how big the terminal needs to be; goes away by itself once it is."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("q", "app.quit", "Quit")]

    def compose(self) -> ComposeResult:
        with Middle(), Center():
            yield Static(id="too-small")

    def on_mount(self) -> None:
        self._describe()

    def on_resize(self) -> None:
        self._describe()

    def _describe(self) -> None:
        width, height = self.app.size
        self.query_one("#too-small", Static).update(
            f"The terminal is {width}×{height}; baton needs at least "
            f"{MIN_WIDTH}×{MIN_HEIGHT}.\nMake the window larger, or press q to quit."
        )
