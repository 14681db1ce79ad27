"""``agent_graph``: who handed control to whom, and who called whom as a tool."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from replay.model import AgentEdge, AgentGraph, Conversation, Step
from replay.steps import outlines


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
    # A step that nests nothing is read off its outline, so that no step is made for it.
    steps = conversation.steps
    shown = outlines(steps)
    for position, outline in enumerate(shown if upto_step is None else shown[: max(0, upto_step)]):
        if outline.nests:
            visit((steps[position],))
            continue
        if outline.agent:
            agents.setdefault(outline.agent)
        handoff = outline.handoff
        if handoff is not None and handoff.to_agent:
            source = handoff.from_agent or outline.agent
            if source:
                agents.setdefault(source)
                agents.setdefault(handoff.to_agent)
                edges[(source, handoff.to_agent, "handoff")] += 1
    return AgentGraph(
        agents=tuple(agents),
        edges=tuple(
            AgentEdge(source, target, kind, count)
            for (source, target, kind), count in edges.items()
        ),
    )
