"""Dialects: how each producer spells agents, handoffs, tools and model calls.

A dialect is a small module with one function, ``normalise(span) -> Normalised | None``,
that recognises spans of its producer and fills the store's normalised columns. The
first dialect in ``DIALECTS`` that recognises a span wins; a span nobody recognises is
kept with ``op = 'other'``. Adding a producer means adding a module and a line here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tracer.dialects import genai, logfire, openai_agents, openinference, otel_agents
from tracer.dialects.base import OPS, Normalised, SpanView, text_or_none

CONVERSATION_ID = "gen_ai.conversation.id"

Dialect = Callable[[SpanView], "Normalised | None"]

#: Tried in order; more specific producers come before the generic GenAI conventions.
DIALECTS: list[Dialect] = [
    openai_agents.normalise,
    openinference.normalise,
    otel_agents.normalise,
    logfire.normalise,
    genai.normalise,
]


def normalise(span: SpanView) -> Normalised:
    """The normalised columns for ``span``, from the first dialect that knows it."""
    for dialect in DIALECTS:
        found = dialect(span)
        if found is not None:
            return found
    # Unknown shape, but a conversation id in the GenAI spelling still counts (a span
    # started inside `tracer.record(conversation_id=...)` carries one).
    return Normalised(conversation_id=text_or_none(span.attributes.get(CONVERSATION_ID)))


def span_view(
    name: str, kind: str, attributes: dict[str, Any], scope: str | None = None
) -> SpanView:
    return SpanView(name=name, kind=kind, attributes=attributes, scope=scope)


__all__ = ["DIALECTS", "OPS", "Dialect", "Normalised", "SpanView", "normalise", "span_view"]
