"""Google ADK's built-in tracing (scope ``gcp.vertex.agent``): GenAI conventions
(``invoke_workflow``, ``invoke_agent``, ``generate_content``, ``execute_tool``) with
``gen_ai.tool.type`` naming the tool's class. A sub-agent transfer is ``execute_tool
transfer_to_agent`` (``TransferToAgentTool``) whose ``agent_name`` argument is the target,
recorded only with content capture on; an ``AgentTool`` is a tool span with the agent's
own ``invoke_workflow`` under it. Streamed, ADK records each partial response among the
output messages (``finish_reason`` empty) before the final one; the reader drops them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tracer.capture.dialects import genai
from tracer.capture.dialects.base import ChatMessages, Normalised, SpanView

SOURCE = "adk"
SCOPE = "gcp.vertex.agent"
_TRANSFER_TYPES = frozenset({"TransferToAgentTool"})


def normalise(span: SpanView) -> Normalised | None:
    if span.scope != SCOPE:
        return None
    found = genai.normalise(span)
    if found is None:
        return None
    found.source = SOURCE
    tool_type = span.attributes.get("gen_ai.tool.type")
    if found.op == "tool" and isinstance(tool_type, str) and tool_type in _TRANSFER_TYPES:
        found.op = "handoff"  # its target unknown when the arguments were not recorded
    return found


def messages(attributes: Mapping[str, Any]) -> ChatMessages:
    read = genai.messages(attributes)
    output = read.output
    if output and len(output) > 1:
        final = [m for m in output if not _partial(m)]
        output = final or output
    return ChatMessages(input=read.input, output=output, system=read.system)


def _partial(message: Any) -> bool:
    return isinstance(message, Mapping) and message.get("finish_reason") == ""
