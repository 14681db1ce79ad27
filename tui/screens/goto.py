"""``:``: a one-line prompt for the turn to go to."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import ModalScreen
from textual.widgets import Input


class GotoScreen(ModalScreen[int | None]):
    """Returns the turn asked for (1 to ``count``), or None when the user backs out."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, count: int) -> None:
        super().__init__()
        self.count = count

    def compose(self) -> ComposeResult:
        yield Input(
            type="integer",
            placeholder=f"go to turn (1–{self.count:,})…  (Enter: go, Esc: cancel)",
            id="goto-input",
        )

    @on(Input.Submitted)
    def submit(self, event: Input.Submitted) -> None:
        typed = event.value.strip()
        if not typed:
            self.dismiss(None)
            return
        turn = int(typed)
        if not 1 <= turn <= self.count:
            self.notify(f"There are turns 1 to {self.count:,}.", severity="warning", timeout=3)
            return
        self.dismiss(turn)

    def action_cancel(self) -> None:
        self.dismiss(None)
