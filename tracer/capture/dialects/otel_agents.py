"""The OpenTelemetry contrib instrumentation of the Agents SDK
(``opentelemetry-instrumentation-openai-agents-v2``): GenAI semantic conventions plus
its own ``gen_ai.operation.name=agent_handoff`` with ``gen_ai.handoff.from_agent`` /
``gen_ai.handoff.to_agent``. Recognised by its instrumentation scope (or the
``agent_handoff`` operation); its ``guardrail_check`` spans (``gen_ai.guardrail.name``,
``gen_ai.guardrail.triggered``) are guardrails; everything else is read by the GenAI
dialect."""

from __future__ import annotations

from tracer.capture.dialects import genai
from tracer.capture.dialects.base import Normalised, SpanView, text_or_none

SOURCE = "otel_openai_agents"
SCOPE = "opentelemetry.instrumentation.openai_agents"
_HANDOFF = "agent_handoff"
_GUARDRAIL = "guardrail_check"


def normalise(span: SpanView) -> Normalised | None:
    attrs = span.attributes
    operation = attrs.get("gen_ai.operation.name")
    if span.scope != SCOPE and operation != _HANDOFF:
        return None
    if operation == _HANDOFF:
        return Normalised(
            op="handoff",
            source=SOURCE,
            from_agent=text_or_none(attrs.get("gen_ai.handoff.from_agent")),
            to_agent=text_or_none(attrs.get("gen_ai.handoff.to_agent")),
            conversation_id=text_or_none(attrs.get("gen_ai.conversation.id")),
            error_type=text_or_none(attrs.get("error.type")),
        )
    if operation == _GUARDRAIL:
        return Normalised(
            op="guardrail",
            source=SOURCE,
            conversation_id=text_or_none(attrs.get("gen_ai.conversation.id")),
            error_type=text_or_none(attrs.get("error.type")),
        )
    found = genai.normalise(span) or Normalised()
    found.source = SOURCE
    if found.op == "agent" and not found.agent_name:
        # The span it opens for the whole trace says invoke_agent but names no agent.
        found.op = "workflow"
    return found
