"""A panel of the replay screen that takes focus and scrolls from the keyboard.

Only the vertical keys are bound: left and right stay with the screen (they step turns),
and so do Home and End (first and last turn). The footer shows these keys while the
panel has focus.
"""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll


class ScrollPanel(VerticalScroll, can_focus=True, inherit_bindings=False):
    """A vertically scrolling panel; ↑ ↓ PgUp PgDn scroll it while it has focus."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "scroll_up", "Scroll", key_display="↑↓"),
        # The second key of each pair: shown with the first, so no description of its own.
        Binding("down", "scroll_down", "", show=False),
        Binding("pageup", "page_up", "Page", key_display="PgUp/PgDn"),
        Binding("pagedown", "page_down", "", show=False),
    ]
