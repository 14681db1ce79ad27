"""AutoGen (``autogen-core`` / ``autogen-agentchat``) built-in tracing: GenAI conventions
(``invoke_agent``, ``execute_tool``, ``create_agent``) from the ``autogen-core`` scope, plus
the runtime's ``autogen send/publish/process`` message spans (kept as they are). A handoff
is an ``execute_tool transfer_to_<X>`` whose description says ``Handoff to X.``; an agent
used through ``AgentTool`` is a tool span with the agent's ``invoke_agent`` under it."""

from __future__ import annotations

import re

from tracer.capture.dialects import genai
from tracer.capture.dialects.base import Normalised, SpanView

SOURCE = "autogen"
SCOPE = "autogen-core"
_HANDOFF = re.compile(r"Handoff to (?P<target>.+?)\.?\s*$")


def normalise(span: SpanView) -> Normalised | None:
    attrs = span.attributes
    if span.scope != SCOPE and attrs.get("gen_ai.system") != "autogen":
        return None
    found = genai.normalise(span)
    if found is None:
        return None
    found.source = SOURCE
    description = attrs.get("gen_ai.tool.description")
    if found.op in ("tool", "handoff") and isinstance(description, str):
        said = _HANDOFF.match(description)
        if said is not None:  # the target as AutoGen's Handoff wrote it, whatever its name
            found.op, found.to_agent = "handoff", said.group("target")
    return found
