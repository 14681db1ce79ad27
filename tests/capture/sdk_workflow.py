"""A real Agents SDK workflow on ScriptedModel, and what its own run items say happened.

Triage hands off to Billing; Billing looks an invoice up (a function tool) and hands
off to Refunds; Refunds asks the Researcher agent, used as a tool, and answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agents import (
    Agent,
    HandoffOutputItem,
    Runner,
    RunResult,
    ToolCallItem,
    ToolCallOutputItem,
    function_tool,
    trace,
)
from agents.testing import ScriptedModel, assistant_message, function_call

from tracer.store import Store

#: Tools that are agents, and the agent each one runs.
AGENT_TOOLS = {"ask_researcher": "Researcher"}


@function_tool
def lookup_invoice(invoice_id: str) -> str:
    """Look an invoice up."""
    return f"invoice {invoice_id}: 42 EUR, paid"


def build_agents() -> Agent[Any]:
    """The Triage agent of a fresh workflow (every model scripted anew)."""
    researcher = Agent(
        name="Researcher",
        instructions="Check refund rules.",
        model=ScriptedModel([[assistant_message("A1 is refundable")]], emit_traces=True),
    )
    refunds = Agent(
        name="Refunds",
        instructions="Issue refunds.",
        model=ScriptedModel(
            [
                [function_call("ask_researcher", {"input": "is A1 refundable?"}, call_id="c3")],
                [assistant_message("Refund of 42 EUR issued")],
            ],
            emit_traces=True,
        ),
        tools=[researcher.as_tool(tool_name="ask_researcher", tool_description="Ask research")],
    )
    billing = Agent(
        name="Billing",
        instructions="Answer billing questions.",
        model=ScriptedModel(
            [
                [function_call("lookup_invoice", {"invoice_id": "A1"}, call_id="c1")],
                [function_call("transfer_to_refunds", {}, call_id="c2")],
            ],
            emit_traces=True,
        ),
        tools=[lookup_invoice],
        handoffs=[refunds],
    )
    return Agent(
        name="Triage",
        instructions="Route the customer.",
        model=ScriptedModel(
            [[function_call("transfer_to_billing", {}, call_id="c0")]], emit_traces=True
        ),
        handoffs=[billing],
    )


async def run_support(group_id: str | None = "conv-support") -> RunResult:
    """One run of the workflow inside an SDK trace with ``group_id``."""
    with trace("support", group_id=group_id):
        return await Runner.run(build_agents(), "I want a refund for invoice A1")


@dataclass(frozen=True)
class Expected:
    handoffs: list[tuple[str, str]]
    tool_calls: list[tuple[str, str, str, str, bool, str | None]]


def expected_from(result: RunResult) -> Expected:
    """Handoffs (from, to) and tool calls (agent, tool, arguments, result, is_agent,
    agent it ran) in the order the run's own items have them."""
    handoffs = [
        (item.source_agent.name, item.target_agent.name)
        for item in result.new_items
        if isinstance(item, HandoffOutputItem)
    ]
    outputs = {
        _call_id(item.raw_item): str(item.output)
        for item in result.new_items
        if isinstance(item, ToolCallOutputItem)
    }
    calls = []
    for item in result.new_items:
        if isinstance(item, ToolCallItem):
            raw: Any = item.raw_item
            calls.append(
                (
                    item.agent.name,
                    raw.name,
                    raw.arguments,
                    outputs[raw.call_id],
                    raw.name in AGENT_TOOLS,
                    AGENT_TOOLS.get(raw.name),
                )
            )
    return Expected(handoffs, calls)


def _call_id(raw: Any) -> str:
    return str(raw["call_id"] if isinstance(raw, dict) else raw.call_id)


def recorded(store: Store, trace_id: str | None = None) -> Expected:
    """The same facts as the store's views tell them."""
    where = "WHERE trace_id = ?" if trace_id else ""
    params = [trace_id] if trace_id else None
    handoffs = store.query(
        f"SELECT from_agent, to_agent FROM handoffs {where} ORDER BY trace_id, seq", params
    ).rows
    calls = store.query(
        f"""
        SELECT c.agent_name, c.tool_name, c.arguments, c.result, c.is_agent, s.to_agent
        FROM tool_calls AS c JOIN spans AS s USING (trace_id, span_id)
        {where.replace("trace_id", "c.trace_id")}
        ORDER BY c.trace_id, c.started_at
        """,
        params,
    ).rows
    return Expected([tuple(h) for h in handoffs], [tuple(c) for c in calls])  # type: ignore[misc]
