"""Facts a replay shows that each producer spells its own way, read from a span's stored
attributes by its ``source``: a guardrail's name and outcome, why a model call has no
messages, a handoff's reason, input filter and warning, a run's streaming and session.
``replay`` calls these, so it never knows a dialect."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tracer.capture.dialects.base import WARNING, decode_json, text_or_none

_SDK = "openai_agents."


@dataclass(frozen=True, slots=True)
class GuardrailFacts:
    name: str | None
    triggered: bool | None  # None: the producer does not record the outcome


def guardrail_facts(source: str | None, span_name: str, attrs: Mapping[str, Any]) -> GuardrailFacts:
    """A guardrail span's name and whether its tripwire triggered."""
    if source == "openai_agents":
        return GuardrailFacts(
            text_or_none(attrs.get(_SDK + "data.name")),
            _bool(attrs.get(_SDK + "data.triggered")),
        )
    if source == "otel_openai_agents":
        return GuardrailFacts(
            text_or_none(attrs.get("gen_ai.guardrail.name")),
            _bool(attrs.get("gen_ai.guardrail.triggered")),
        )
    if source == "logfire":
        return GuardrailFacts(text_or_none(attrs.get("name")), _bool(attrs.get("triggered")))
    # OpenInference names the span after the guardrail and records no outcome.
    return GuardrailFacts(span_name or None, _bool(attrs.get("guardrail.triggered")))


def _bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def missing_content(source: str | None, attrs: Mapping[str, Any]) -> str:
    """Why a model call's messages are not there, as exactly as its producer lets us say."""
    if source == "openai_agents":
        if attrs.get("baton.content_capture") is False:
            return "content capture was off when this run was recorded (BATON_CAPTURE_CONTENT)"
        kind = attrs.get(_SDK + "type")
        if kind == "generation" and attrs.get(_SDK + "data.model") is None:
            return (
                "the model left its generation span empty: no input, output or model "
                "(the SDK's ScriptedModel, or a custom Model, does this)"
            )
        return (
            "the Agents SDK recorded no messages for this call "
            "(RunConfig.trace_include_sensitive_data was off, or the run was imported "
            "from an SDK export, which leaves a response's messages out)"
        )
    if source == "openinference":
        return "OpenInference recorded no messages for this call (its hide_inputs/hide_outputs)"
    if source in ("otel_openai_agents", "otel_genai", "baton"):
        return (
            "no gen_ai.input.messages or gen_ai.output.messages on this call: the "
            "producer's content capture was off "
            "(OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT / BATON_CAPTURE_CONTENT)"
        )
    return "this producer records no message content for its model calls"


@dataclass(frozen=True, slots=True)
class HandoffFacts:
    reason: Mapping[str, Any] | None  # {"tool", "call_id", "arguments", "text"}
    input_filter: str | None
    removed: tuple[Mapping[str, Any], ...] | None  # what the input filter took out
    nest_history: bool | None
    warning: str | None


def handoff_facts(attrs: Mapping[str, Any]) -> HandoffFacts:
    """What a handoff span records beyond from/to (see ``tracer.capture.sdk_spans``)."""
    reason = decode_json(attrs.get("baton.handoff.reason"))
    removed = decode_json(attrs.get(_SDK + "handoff.removed"))
    nest = attrs.get(_SDK + "handoff.nest_history")
    return HandoffFacts(
        reason=reason if isinstance(reason, Mapping) else None,
        input_filter=text_or_none(attrs.get(_SDK + "handoff.input_filter")),
        removed=tuple(r for r in removed if isinstance(r, Mapping))
        if isinstance(removed, list)
        else None,
        nest_history=nest if isinstance(nest, bool) else None,
        warning=text_or_none(attrs.get(WARNING)),
    )


@dataclass(frozen=True, slots=True)
class RunFacts:
    streamed: bool | None
    session_id: str | None


def run_facts(attrs: Mapping[str, Any]) -> RunFacts:
    """What an agent span records about its run (the live Agents SDK processor only)."""
    streamed = attrs.get(_SDK + "run.streamed")
    return RunFacts(
        streamed=streamed if isinstance(streamed, bool) else None,
        session_id=text_or_none(attrs.get(_SDK + "run.session_id")),
    )
