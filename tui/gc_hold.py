"""Holding Python's cyclic garbage collector back while the user scrolls or steps.

A full collection walks every tracked object; with a few thousand rows loaded it takes up
to ~100 ms, long enough to feel as a hitch in the middle of a scroll (``bench/bench_tui.py``
measures it). Held while input keeps coming, it runs in the first quiet half second
instead, where nobody sees it. Reference counting still frees everything that is not in a
cycle in the meantime. Textual's own ``App.PAUSE_GC_ON_SCROLL`` does the same for its
scroll animations.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

from textual.dom import DOMNode
from textual.timer import Timer

QUIET_SECONDS = 0.5
#: While held this long (key repeat never stops), the objects made since are collected
#: anyway, the young ones only: what accumulates stays bounded.
COLLECT_EVERY = 256


class GCHold:
    """Call ``busy()`` on each scroll step; the collector comes back after a quiet spell."""

    def __init__(self, owner: DOMNode) -> None:
        self.owner = owner
        self._timer: Timer | None = None
        self._held = False
        self._held_for = 0  # busy() calls since held

    def busy(self) -> None:
        if not self._held and gc.isenabled():
            gc.disable()
            self._held = True
            self._held_for = 0
        if self._held:
            self._held_for += 1
            if self._held_for % COLLECT_EVERY == 0:
                gc.collect(0)
            if self._timer is not None:
                self._timer.stop()
            self._timer = self.owner.set_timer(QUIET_SECONDS, self.release)

    def release(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if self._held:
            self._held = False
            gc.enable()


class LongLived:
    """Keeps a loaded conversation out of the collector's walks while it is shown.

    A 10,000-turn conversation is a few hundred thousand objects, and Textual allocates
    enough on every step to set off collections; a full one would walk them all (tens of
    milliseconds a step). They are built with the collector paused and then frozen
    (``gc.freeze``): reference counting still frees them once replaced, only the cyclic
    collector skips them. Thawed when the screen goes, so nothing stays frozen for good.
    """

    def __init__(self) -> None:
        self.frozen = False

    @contextmanager
    def building(self) -> Iterator[None]:
        """Pause the collector while the objects are made; freeze them before resuming."""
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            yield
            gc.freeze()
            self.frozen = True
        finally:
            if was_enabled:
                gc.enable()

    def keep(self) -> None:
        """While frozen, freeze what was made since too (steps made on first read),
        leaving the collector as it is: the UI may be holding it."""
        if self.frozen:
            gc.freeze()

    def thaw(self) -> None:
        if self.frozen:
            self.frozen = False
            gc.unfreeze()
