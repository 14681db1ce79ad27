"""The message panel: what was said and done in the current turn."""

from __future__ import annotations

from textual.content import Content
from textual.widget import Widget
from textual.widgets import Collapsible, Static

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
            at = match + 1
        spare.extend(shown[at:])
        if spare:
            self.remove_children(spare)

    def reveal(self, term: str) -> Static | None:
        """Open the folds around the first block that mentions ``term`` and scroll to it."""
        needle = term.lower()
        for block in self.query(Static):
            if isinstance(block.content, Content) and needle in block.content.plain.lower():
                for fold in block.ancestors:
                    if isinstance(fold, Collapsible) and not isinstance(fold, ContextFold):
                        fold.collapsed = False
                self.call_after_refresh(self.scroll_to_widget, block, animate=False, top=True)
                return block
        # Not in what is shown: a system prompt under "earlier context" may hold it.
        for context in self.query(ContextFold):
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
        for fold in self.query(Collapsible):
            fold.collapsed = not expanded
        # Each fold scrolls itself into view as it opens; start reading from the top.
        self.call_after_refresh(self.scroll_home, animate=False)

    def folds_expanded(self) -> bool:
        folds = list(self.query(Collapsible))
        return bool(folds) and all(not fold.collapsed for fold in folds)
