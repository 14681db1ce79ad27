"""An OpenAI Agents SDK app that knows nothing of baton: Triage hands off to Billing,
Billing looks an invoice up and hands off to Refunds, Refunds asks the Researcher agent
(used as a tool) and answers. The model is the SDK's real OpenAIResponsesModel on
$OPENAI_BASE_URL. Writes what its own RunResult says happened to the JSON file argv[1].
With APP_OPENINFERENCE=1 it also sends its runs, through OpenInference's instrumentor,
to its own OTLP exporter (configured from the environment), as the README shows."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from typing import Any

from agents import (
    Agent,
    HandoffOutputItem,
    OpenAIResponsesModel,
    Runner,
    ToolCallItem,
    ToolCallOutputItem,
    function_tool,
    trace,
)
from agents.tracing import Span, Trace, TracingProcessor, add_trace_processor
from openai import AsyncOpenAI

AGENT_TOOLS = {"ask_researcher": "Researcher"}


class Counting(TracingProcessor):
    """The app's own processor: how many traces and spans the SDK produced."""

    def __init__(self) -> None:
        self.traces = 0
        self.spans = 0

    def on_trace_start(self, trace: Trace) -> None:
        pass

    def on_trace_end(self, trace: Trace) -> None:
        self.traces += 1

    def on_span_start(self, span: Span[Any]) -> None:
        pass

    def on_span_end(self, span: Span[Any]) -> None:
        self.spans += 1

    def shutdown(self) -> None:
        pass

    def force_flush(self) -> None:
        pass


@function_tool
def lookup_invoice(invoice_id: str) -> str:
    """Look an invoice up."""
    return f"invoice {invoice_id}: 42 EUR, paid"


def export_through_openinference() -> None:
    from openinference.instrumentation.openai_agents import OpenAIAgentsInstrumentor
    from opentelemetry import trace as otel_trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    otel_trace.set_tracer_provider(provider)
    OpenAIAgentsInstrumentor().instrument(tracer_provider=provider)


async def main(out: str) -> None:
    if os.environ.get("APP_OPENINFERENCE") == "1":
        export_through_openinference()
    counting = Counting()
    add_trace_processor(counting)
    model = OpenAIResponsesModel("gpt-scripted", AsyncOpenAI(max_retries=0))
    researcher = Agent(name="Researcher", instructions="Check refund rules.", model=model)
    refunds = Agent(
        name="Refunds",
        instructions="Issue refunds.",
        model=model,
        tools=[researcher.as_tool(tool_name="ask_researcher", tool_description="Ask research")],
    )
    billing = Agent(
        name="Billing",
        instructions="Answer billing questions.",
        model=model,
        tools=[lookup_invoice],
        handoffs=[refunds],
    )
    triage = Agent(name="Triage", instructions="Route.", model=model, handoffs=[billing])
    with trace("support", group_id="conv-run-agents"):
        result = await Runner.run(triage, "I want a refund for invoice A1")
    print(result.final_output)
    handoffs = [
        [item.source_agent.name, item.target_agent.name]
        for item in result.new_items
        if isinstance(item, HandoffOutputItem)
    ]
    outputs = {
        (i.raw_item["call_id"] if isinstance(i.raw_item, dict) else i.raw_item.call_id): str(
            i.output
        )
        for i in result.new_items
        if isinstance(i, ToolCallOutputItem)
    }
    calls = []
    for item in result.new_items:
        if isinstance(item, ToolCallItem):
            raw: Any = item.raw_item
            calls.append(
                [
                    item.agent.name,
                    raw.name,
                    raw.arguments,
                    outputs[raw.call_id],
                    raw.name in AGENT_TOOLS,
                    AGENT_TOOLS.get(raw.name),
                ]
            )
    from agents.tracing import get_trace_provider

    get_trace_provider().force_flush()
    with open(out, "w") as f:
        json.dump(
            {
                "handoffs": handoffs,
                "tool_calls": calls,
                "traces": counting.traces,
                "spans": counting.spans,
                "trace_id": result.trace_id if hasattr(result, "trace_id") else None,
            },
            f,
        )


asyncio.run(main(sys.argv[1]))
