"""Every action a key runs, for the command palette (ctrl+p) and the help screen.

Gathered from the bindings themselves: the screen's, those of baton's own widgets on it
(the panels, the timeline) and the app's. A key added anywhere is in the palette too.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from textual.app import App
from textual.binding import Binding
from textual.dom import DOMNode
from textual.screen import Screen
from textual.widget import Widget


@dataclass(frozen=True, slots=True)
class Command:
    """One binding and the node its action runs on."""

    section: str
    target: Widget | App[Any]
    binding: Binding


def commands(screen: Screen[Any], app: App[Any]) -> list[Command]:
    """The described bindings of ``screen``, of baton's widgets on it, then of ``app``,
    each action of a section once (the first of its keys stands for the others)."""
    found: list[Command] = []
    seen: set[str] = set()
    for section, target in _owners(screen, app):
        for binding in described(target):
            # A panel's key that runs a screen action (the timeline's ←) is the screen's.
            action = binding.action.removeprefix("screen.")
            if target is app:
                action = f"app.{action}"
            if action not in seen:
                seen.add(action)
                found.append(Command(section, target, binding))
    return found


def _owners(screen: Screen[Any], app: App[Any]) -> Iterator[tuple[str, Widget | App[Any]]]:
    yield getattr(screen, "HELP_TITLE", type(screen).__name__), screen
    classes: set[type] = set()
    for widget in screen.query("*"):
        kind = type(widget)
        if kind.__module__.startswith("tui.") and kind not in classes and kind.BINDINGS:
            classes.add(kind)
            yield "In the focused panel", widget
    yield "Everywhere", app


def described(node: DOMNode) -> list[Binding]:
    """``node``'s bindings (its classes' included) that say what they do, in order."""
    own = [b for b in type(node).BINDINGS if isinstance(b, Binding)]  # before Textual's
    merged = node._merged_bindings
    inherited = [b for group in merged.key_to_bindings.values() for b in group] if merged else []
    return [binding for binding in (*own, *inherited) if binding.description]
