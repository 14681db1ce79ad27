"""Dialects: how each producer spells agents, handoffs, tools and model calls.

A dialect is a small module with one function, ``normalise(span) -> Normalised | None``,
that recognises spans of its producer and fills the store's normalised columns. The
first dialect in ``DIALECTS`` that recognises a span wins; a span nobody recognises is
kept with ``op = 'other'``. Adding a producer means adding a module and a line here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tracer.dialects import genai
from tracer.dialects.base import OPS, Normalised, SpanView

Dialect = Callable[[SpanView], "Normalised | None"]

#: Tried in order; more specific producers come before the generic GenAI conventions.
DIALECTS: list[Dialect] = [genai.normalise]


def normalise(span: SpanView) -> Normalised:
    """The normalised columns for ``span``, from the first dialect that knows it."""
    for dialect in DIALECTS:
        found = dialect(span)
        if found is not None:
            return found
    return Normalised()


def span_view(
    name: str, kind: str, attributes: dict[str, Any], scope: str | None = None
) -> SpanView:
    return SpanView(name=name, kind=kind, attributes=attributes, scope=scope)


__all__ = ["DIALECTS", "OPS", "Dialect", "Normalised", "SpanView", "normalise", "span_view"]
