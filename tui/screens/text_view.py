"""``o``: a text (a turn, a tool call, a span's JSON) full screen, scrollable, copyable."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from tui.widgets.panel import ScrollPanel


class TextScreen(ModalScreen[None]):
    """Shows ``text`` as it is (never read as markup); Esc or q closes, c copies."""

    HELP_TITLE = "Full screen"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,o", "dismiss", "Close", key_display="esc"),
        Binding("c", "copy", "Copy"),
    ]

    def __init__(self, title: str, text: str) -> None:
        super().__init__()
        self.title_text = title
        self.text = text

    def compose(self) -> ComposeResult:
        with ScrollPanel(id="text-panel") as panel:
            panel.border_title = self.title_text
            panel.border_subtitle = "esc closes · c copies"
            yield Static(Content(self.text), id="text-body")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one(ScrollPanel).focus()

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(self.text)
        self.notify("Copied to the clipboard.", timeout=2)
