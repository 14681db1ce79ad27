"""Which dialects read a span: the dialects of other instrumentation scopes are ruled out
once per scope (``dialects_for``), not called for every span, and that changes no span's
reading: every recorded producer span, under its own scope and under every other one,
normalises exactly as trying every dialect in ``DIALECTS`` order does."""

from __future__ import annotations

from typing import Any

from fixture_store import otlp_spans

from tracer.capture.dialects import (
    CONVERSATION_ID,
    DIALECTS,
    MARKED,
    SCOPED,
    Normalised,
    SpanView,
    adk,
    crewai,
    dialects_for,
    langgraph,
    normalise,
    openai_agents,
    openai_client,
    openinference,
    vercel_ai,
)
from tracer.capture.dialects.base import text_or_none
from tracer.capture.dialects.genai import BATON_SCOPE


def _every_dialect(span: SpanView) -> Normalised:
    """The reading with no dialect ruled out: the first of all ``DIALECTS`` that knows it."""
    for dialect in DIALECTS:
        found = dialect(span)
        if found is not None:
            return found
    return Normalised(conversation_id=text_or_none(span.attributes.get(CONVERSATION_ID)))


def _fixture_spans() -> list[tuple[str, str, dict[str, Any], str]]:
    """(name, kind, attributes, scope) of every span of every recorded fixture."""
    return list(otlp_spans())


def test_a_plain_genai_span_is_not_shown_to_the_dialects_of_other_scopes() -> None:
    ruled_out = {langgraph.normalise, openai_client.normalise, crewai.normalise, adk.normalise}
    assert set(SCOPED) == ruled_out
    assert dialects_for(BATON_SCOPE) == tuple(d for d in DIALECTS if d not in ruled_out)
    assert dialects_for(None) == dialects_for(BATON_SCOPE)
    for dialect, scope in SCOPED.items():
        assert dialects_for(scope) == tuple(d for d in DIALECTS if d not in ruled_out - {dialect})


def test_ruling_dialects_out_by_scope_changes_no_reading() -> None:
    spans = _fixture_spans()
    scopes = [*sorted({scope for *_, scope in spans}), BATON_SCOPE, "some.other.scope"]
    assert len(spans) > 500 and set(SCOPED.values()) <= set(scopes)
    for name, kind, attrs, own_scope in spans:
        for scope in {own_scope, *scopes}:
            span = SpanView(name=name, kind=kind, attributes=attrs, scope=scope)
            assert normalise(span) == _every_dialect(span), (name, own_scope, scope)


def test_a_scope_that_cannot_be_hashed_is_read_by_every_dialect() -> None:
    attrs = {"gen_ai.operation.name": "chat", "gen_ai.request.model": "m"}
    span = SpanView(name="chat m", kind="client", attributes=attrs, scope=["not", "text"])  # type: ignore[arg-type]
    assert normalise(span) == _every_dialect(span)
    assert normalise(span).op == "chat"


def test_a_dialect_is_not_called_for_a_span_without_its_mark() -> None:
    """``MARKED`` says which dialects read nothing but spans carrying their producer's
    attribute; ``normalise`` skips them for other spans without a call. Each such dialect
    indeed returns None for every recorded span (of any producer) without its mark."""
    assert set(MARKED) == {openai_agents.normalise, vercel_ai.normalise, openinference.normalise}
    for name, kind, attrs, scope in _fixture_spans():
        for dialect, mark in MARKED.items():
            unmarked = {key: value for key, value in attrs.items() if key != mark}
            span = SpanView(name=name, kind=kind, attributes=unmarked, scope=scope)
            assert dialect(span) is None, (dialect, name)
            assert normalise(span) == _every_dialect(span), (name, scope)
