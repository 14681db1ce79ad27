"""CrewAI through ``openinference-instrumentation-crewai``: ``<agent>._execute_core``
AGENT spans (``graph.node.id`` = the role), ``<tool>.run`` TOOL spans, the crew's
``kickoff`` CHAIN. Delegation is an agent used as a tool: the manager's ``Delegate work to
coworker`` / ``Ask question to coworker`` tools, whose ``coworker`` argument names the agent.
The coworker has no span of its own; the model calls under the tool are its turns
(resolution gives a called agent's spans to it)."""

from __future__ import annotations

from collections.abc import Mapping

from tracer.capture.dialects import openinference
from tracer.capture.dialects.base import Normalised, SpanView, decode_json, text_or_none

SOURCE = "crewai"
SCOPE = "openinference.instrumentation.crewai"
_DELEGATION_TOOLS = frozenset({"Delegate work to coworker", "Ask question to coworker"})


def normalise(span: SpanView) -> Normalised | None:
    if span.scope != SCOPE:
        return None
    found = openinference.normalise(span)
    if found is None:
        return None
    found.source = SOURCE
    if found.op == "other" and span.name.endswith(".kickoff"):
        found.op = "workflow"
    if found.op == "tool" and found.tool_name in _DELEGATION_TOOLS:
        arguments = decode_json(span.attributes.get("input.value"))
        coworker = arguments.get("coworker") if isinstance(arguments, Mapping) else None
        found.op = "agent_tool"
        found.to_agent = text_or_none(coworker)
    return found
