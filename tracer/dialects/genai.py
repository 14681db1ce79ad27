"""OpenTelemetry GenAI semantic conventions: baton's own spans, and any producer that
follows the conventions (``gen_ai.operation.name``) without a dialect of its own."""

from __future__ import annotations

from tracer.dialects.base import Normalised, SpanView, int_or_none, text_or_none

BATON_SCOPE = "baton"

_OPS = {
    "invoke_workflow": "workflow",
    "invoke_agent": "agent",
    "create_agent": "agent",
    "chat": "chat",
    "text_completion": "chat",
    "generate_content": "chat",
    "execute_tool": "tool",
}
_TRANSFER_OPS = {"pass_control": "handoff", "return_to_caller": "agent_tool"}


def normalise(span: SpanView) -> Normalised | None:
    attrs = span.attributes
    op = _OPS.get(attrs.get("gen_ai.operation.name"))  # type: ignore[arg-type]
    if op is None:
        return None
    found = Normalised(
        op=op,
        source="baton" if span.scope == BATON_SCOPE else "otel_genai",
        conversation_id=text_or_none(attrs.get("gen_ai.conversation.id")),
        error_type=text_or_none(attrs.get("error.type")),
    )
    if op == "agent":
        found.agent_name = text_or_none(attrs.get("gen_ai.agent.name"))
    elif op == "chat":
        found.model = text_or_none(
            attrs.get("gen_ai.response.model") or attrs.get("gen_ai.request.model")
        )
        found.input_tokens = int_or_none(attrs.get("gen_ai.usage.input_tokens"))
        found.output_tokens = int_or_none(attrs.get("gen_ai.usage.output_tokens"))
        reasons = attrs.get("gen_ai.response.finish_reasons")
        if reasons:
            found.final_answer = "tool_calls" not in reasons
    elif op == "tool":
        found.op = _TRANSFER_OPS.get(attrs.get("gen_ai.transfer.mode"), "tool")  # type: ignore[arg-type]
        found.tool_name = text_or_none(attrs.get("gen_ai.tool.name"))
        found.to_agent = text_or_none(attrs.get("gen_ai.transfer.target.name"))
        found.tool_call_id = text_or_none(attrs.get("gen_ai.tool.call.id"))
        found.tool_arguments = text_or_none(attrs.get("gen_ai.tool.call.arguments"))
        found.tool_result = text_or_none(attrs.get("gen_ai.tool.call.result"))
    return found
