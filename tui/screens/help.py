"""``?``: every key of the screen you came from, and the keys that work everywhere.

The list is read from the bindings themselves, so it cannot fall out of date.
"""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from tui.commands import commands


class HelpScreen(ModalScreen[None]):
    """A panel of keys over the screen it describes; any of Esc, ? or q closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,q", "dismiss", "Close", key_display="esc"),
    ]

    def __init__(self, described: Screen[object]) -> None:
        super().__init__()
        self.described = described

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-panel") as panel:
            panel.border_title = "Keys"
            panel.border_subtitle = "esc closes"
            yield Static(self._keys_table(), id="help-keys")

    def key_rows(self) -> list[tuple[str, str, str]]:
        """(section, keys, what they do) for the described screen, its panels, then the
        keys that work everywhere."""
        return [
            (command.section, self._keys(command.binding), command.binding.description)
            for command in commands(self.described, self.app)
        ]

    def _keys(self, binding: Binding) -> str:
        if binding.key_display:
            return binding.key_display
        return " ".join(
            self.app.get_key_display(Binding(key.strip(), "")) for key in binding.key.split(",")
        )

    def _keys_table(self) -> Table:
        table = Table.grid(padding=(0, 2))
        table.add_column(justify="right", style="bold", no_wrap=True)
        table.add_column()
        section = None
        for name, keys, description in self.key_rows():
            if name != section:
                if section is not None:
                    table.add_row("", "")
                table.add_row("", Text(name, style="bold underline"))
                section = name
            table.add_row(keys, description)
        table.add_row("", "")
        table.add_row("mouse", "optional. Click a turn on the timeline to go there,")
        table.add_row("", "a tool call to see its span, a fold to open it.")
        return table
