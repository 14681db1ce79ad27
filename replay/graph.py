"""``agent_graph``: who handed control to whom, and who called whom as a tool."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from replay.model import AgentEdge, AgentGraph, Conversation, Step


def agent_graph(conversation: Conversation, upto_step: int | None = None) -> AgentGraph:
    """Agents as nodes (in order of first appearance), handoffs and agent-tool calls as
    edges with how often each happened; with ``upto_step``, only steps up to that index
    (nested agent-tool steps count with the step that called them)."""
    agents: dict[str, None] = {}
    edges: Counter[tuple[str, str, str]] = Counter()

    def visit(steps: Iterable[Step]) -> None:
        for step in steps:
            if step.agent:
                agents.setdefault(step.agent)
            if step.handoff is not None and step.handoff.to_agent:
                source = step.handoff.from_agent or step.agent
                if source:
                    agents.setdefault(source)
                    agents.setdefault(step.handoff.to_agent)
                    edges[(source, step.handoff.to_agent, "handoff")] += 1
            for call in step.tool_calls:
                if call.is_agent and call.agent and step.agent:
                    agents.setdefault(call.agent)
                    edges[(step.agent, call.agent, "agent_tool")] += 1
                if call.nested:  # most calls run no agent: no call for them
                    visit(call.nested)

    # Step indexes are positions (1-based): the first ``upto_step`` steps, not a pass over all.
    visit(conversation.steps if upto_step is None else conversation.steps[: max(0, upto_step)])
    return AgentGraph(
        agents=tuple(agents),
        edges=tuple(
            AgentEdge(source, target, kind, count)
            for (source, target, kind), count in edges.items()
        ),
    )
