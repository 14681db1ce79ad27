"""``/``: a one-line prompt for the text to find in a conversation's messages."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import ModalScreen
from textual.widgets import Input


class SearchScreen(ModalScreen[str | None]):
    """Returns the text to search for, or None when the user backs out with Esc."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, previous: str | None = None) -> None:
        super().__init__()
        self.previous = previous or ""

    def compose(self) -> ComposeResult:
        yield Input(
            value=self.previous,
            placeholder="find in messages, tool arguments and results…  (Enter: find, Esc: cancel)",
            id="search-input",
        )

    @on(Input.Submitted)
    def submit(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)
