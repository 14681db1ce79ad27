"""The message panel: what was said and done in the current turn."""

from __future__ import annotations

from typing import TypeVar

from textual.content import Content
from textual.widget import Widget
from textual.widgets import Collapsible, LoadingIndicator, Static

from replay.model import Step
from tui.palette import AgentColors
from tui.search import mentions
from tui.widgets.message_blocks import (
    ContextFold,
    Highlighter,
    refill,
    turn_blocks,
    turn_header,
)
from tui.widgets.panel import ScrollPanel

SPARE = 4  # hidden blocks kept for the turns to come
W = TypeVar("W", bound=Widget)


class MessageView(ScrollPanel):
    """Shows one turn at a time; the screen calls ``show`` as the user steps. With focus,
    ↑ ↓ scroll it and ← → still step; its tool calls and folds are focusable too."""

    DEFAULT_CSS = """
    MessageView { padding: 0 1; scrollbar-size-vertical: 1; }
    MessageView Collapsible > Contents { padding: 0 0 0 2; }
    MessageView > .turn-header { margin-bottom: 1; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.step: Step | None = None

    def show(
        self, step: Step, previous: Step | None, colors: AgentColors, search: str | None = None
    ) -> None:
        self.step = step
        blocks = [
            Static(turn_header(step, colors, nested=False), classes="turn-header"),
            *turn_blocks(step, previous, colors, Highlighter(search)),
        ]
        with self.app.batch_update():
            if self._focus_inside():
                # Removing a focused block moves the focus on; hiding or refilling it would
                # not. Keep that behaviour: a turn shown afresh.
                self.remove_children()
                self.mount_all(blocks)
            else:
                self._refill(blocks)
        self.scroll_home(animate=False)
        if search:
            self.call_after_refresh(self.reveal, search)

    def _focus_inside(self) -> bool:
        focused = self.screen.focused
        return focused is not None and focused is not self and self in focused.ancestors

    def _refill(self, blocks: list[Widget]) -> None:
        """Show ``blocks`` by updating the widgets already shown where they have the same
        kind, in order, mounting only the rest and removing what is left over."""
        shown = list(self.children)
        spare: list[Widget] = []
        at = 0
        for block in blocks:
            match = next((i for i in range(at, len(shown)) if refill(shown[i], block)), None)
            if match is None:
                if at < len(shown):
                    self.mount(block, before=shown[at])
                else:
                    self.mount(block)
                continue
            spare.extend(shown[at:match])
            # Shown again as a new block is: no display rule of its own.
            shown[match].styles.clear_rule("display")
            at = match + 1
        spare.extend(shown[at:])
        # Turns alternate kinds of block (a tool call, then a transfer): keep a few of the
        # left-over ones hidden, for the next turn to refill. Nothing in here has focus.
        # A loading indicator goes, as it did with the rest.
        kept = [w for w in spare if not isinstance(w, LoadingIndicator)][:SPARE]
        for widget in kept:
            widget.display = False
        if len(kept) < len(spare):
            self.remove_children([w for w in spare if w not in kept])
        self.refresh(layout=True)

    def shown_blocks(self, kind: type[W]) -> list[W]:
        """The ``kind`` widgets of the turn shown, in order, without the hidden spares."""
        found: list[W] = []
        for top in self.children:
            if top.display:
                if isinstance(top, kind):
                    found.append(top)
                found.extend(top.query(kind))
        return found

    def reveal(self, term: str) -> Static | None:
        """Open the folds around the first block that mentions ``term`` and scroll to it."""
        needle = term.lower()
        for block in self.shown_blocks(Static):
            if isinstance(block.content, Content) and needle in block.content.plain.lower():
                for fold in block.ancestors:
                    if isinstance(fold, Collapsible) and not isinstance(fold, ContextFold):
                        fold.collapsed = False
                self.call_after_refresh(self.scroll_to_widget, block, animate=False, top=True)
                return block
        # Not in what is shown: a system prompt under "earlier context" may hold it.
        for context in self.shown_blocks(ContextFold):
            if context.collapsed and any(mentions(m, term) for m in context.messages):
                context.collapsed = False
                self.call_after_refresh(self.reveal, term)
                break
        return None

    def show_nothing(self, text: str | Content) -> None:
        self.step = None
        with self.app.batch_update():
            self.remove_children()
            self.mount(Static(Content(text) if isinstance(text, str) else text, classes="nothing"))

    def set_folds(self, *, expanded: bool) -> None:
        """Open or close every fold in the turn."""
        for fold in self.shown_blocks(Collapsible):
            fold.collapsed = not expanded
        # Each fold scrolls itself into view as it opens; start reading from the top.
        self.call_after_refresh(self.scroll_home, animate=False)

    def folds_expanded(self) -> bool:
        folds = self.shown_blocks(Collapsible)
        return bool(folds) and all(not fold.collapsed for fold in folds)
