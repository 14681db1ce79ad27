"""Dialects: how each producer spells agents, handoffs, tools and model calls.

A dialect is a small module with one function, ``normalise(span) -> Normalised | None``,
that recognises spans of its producer and fills the store's normalised columns. The
first dialect in ``DIALECTS`` that recognises a span wins; a span nobody recognises is
kept with ``op = 'other'``. Adding a producer means adding a module and a line here.

Reading back, a model call's messages are in whatever shape its producer recorded them.
A dialect that knows that shape adds ``messages(attributes) -> ChatMessages`` to its
module and registers it in ``MESSAGE_READERS`` under the ``source`` its ``normalise``
sets; ``read_messages`` is what ``replay`` calls, so replay never knows a dialect.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

from tracer.capture.dialects import (
    adk,
    autogen,
    crewai,
    genai,
    langgraph,
    logfire,
    messages,
    openai_agents,
    openai_client,
    openinference,
    otel_agents,
    vercel_ai,
)
from tracer.capture.dialects.base import (
    OPS,
    ChatMessages,
    Normalised,
    PartsMessage,
    SpanView,
    text_or_none,
)

CONVERSATION_ID = "gen_ai.conversation.id"

Dialect = Callable[[SpanView], "Normalised | None"]
#: A chat span's stored attributes -> its messages in the GenAI parts format.
MessageReader = Callable[[Mapping[str, Any]], ChatMessages]

#: Tried in order; more specific producers come before the generic GenAI conventions.
DIALECTS: list[Dialect] = [
    openai_agents.normalise,
    langgraph.normalise,
    vercel_ai.normalise,
    openai_client.normalise,
    crewai.normalise,
    openinference.normalise,
    otel_agents.normalise,
    autogen.normalise,
    adk.normalise,
    logfire.normalise,
    genai.normalise,
]

#: By ``spans.source``. A source without an entry is read as GenAI conventions, which
#: finds nothing (and so reports "not recorded") on spans that do not use them.
MESSAGE_READERS: dict[str, MessageReader] = {
    "baton": genai.messages,
    "otel_genai": genai.messages,
    "otel_openai_agents": genai.messages,
    "openai_agents": messages.openai_agents,
    "openinference": messages.openinference,
    "langgraph": messages.openinference,
    "autogen": genai.messages,
    "openai_client": messages.openinference,
    "adk": adk.messages,
    "crewai": messages.openinference,
    "vercel_ai": vercel_ai.messages,
    "logfire": messages.logfire,
}


#: Dialects that recognise spans of their own instrumentation scope only: each returns
#: None, before reading anything else, for a span of any other scope.
SCOPED: dict[Dialect, str] = {
    langgraph.normalise: langgraph.SCOPE,
    openai_client.normalise: openai_client.SCOPE,
    crewai.normalise: crewai.SCOPE,
    adk.normalise: adk.SCOPE,
}


#: Dialects that return None, before reading anything else, for a span without this
#: attribute (their producer's mark): not called for such a span.
MARKED: dict[Dialect, str] = {
    openai_agents.normalise: openai_agents.TYPE,
    vercel_ai.normalise: vercel_ai.OPERATION,
    openinference.normalise: openinference.KIND,
}


@functools.lru_cache(maxsize=256)
def dialects_for(scope: str | None) -> tuple[Dialect, ...]:
    """``DIALECTS`` that may recognise a span of ``scope``, in order: decided once per
    scope rather than by calling, for every span, the dialects of other scopes."""
    return tuple(d for d in DIALECTS if SCOPED.get(d, scope) == scope)


@functools.lru_cache(maxsize=256)
def _marked_dialects_for(scope: str | None) -> tuple[tuple[Dialect, str | None], ...]:
    """``dialects_for(scope)``, each with its mark (``MARKED``) or None."""
    return tuple((d, MARKED.get(d)) for d in dialects_for(scope))


def normalise(span: SpanView) -> Normalised:
    """The normalised columns for ``span``, from the first dialect that knows it."""
    try:
        dialects = _marked_dialects_for(span.scope)
    except TypeError:  # a scope that is not text and cannot be hashed: ask every dialect
        dialects = tuple((d, MARKED.get(d)) for d in DIALECTS)
    attributes = span.attributes
    for dialect, mark in dialects:
        if mark is not None and mark not in attributes:
            continue  # it would return None (a dict lookup here, not a call)
        found = dialect(span)
        if found is not None:
            return found
    # Unknown shape, but a conversation id in the GenAI spelling still counts (a span
    # started inside `tracer.record(conversation_id=...)` carries one).
    return Normalised(conversation_id=text_or_none(span.attributes.get(CONVERSATION_ID)))


def read_messages(source: str | None, attributes: Mapping[str, Any]) -> ChatMessages:
    """The messages of a chat span recorded by ``source`` (its stored attributes)."""
    reader = MESSAGE_READERS.get(source or "", genai.messages)
    return reader(attributes)


__all__ = [
    "DIALECTS",
    "MARKED",
    "MESSAGE_READERS",
    "OPS",
    "SCOPED",
    "ChatMessages",
    "Dialect",
    "MessageReader",
    "Normalised",
    "PartsMessage",
    "SpanView",
    "dialects_for",
    "normalise",
    "read_messages",
]
