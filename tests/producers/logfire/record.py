"""Pydantic Logfire's ``instrument_openai_agents()`` on an Agents SDK run (handoffs with a
hand-back, then a ping-pong), exported over OTLP with Logfire's own sending off."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import logfire
from agents import Agent, OpenAIChatCompletionsModel, Runner
from agents.items import HandoffOutputItem
from agents.tracing import set_trace_processors
from fw_common import MODEL_URL, OTLP_ENDPOINT, WORKFLOW, write_truth
from openai import AsyncOpenAI
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

set_trace_processors([])  # no export to OpenAI: only Logfire's processor, added below
logfire.configure(
    send_to_logfire=False,
    service_name="logfire-" + WORKFLOW,
    additional_span_processors=[SimpleSpanProcessor(OTLPSpanExporter(OTLP_ENDPOINT))],
    console=False,
)
logfire.instrument_openai_agents()

model = OpenAIChatCompletionsModel(
    "gpt-scripted", AsyncOpenAI(base_url=MODEL_URL, api_key="sk-scripted")
)
triage = Agent(name="triage", instructions="[agent:triage] You route.", model=model)
billing = Agent(name="billing", instructions="[agent:billing] Refunds.", model=model)
triage.handoffs = [billing]
billing.handoffs = [triage]


async def main() -> dict[str, object]:
    result = await Runner.run(triage, "I want a refund")
    handoffs = [
        [item.source_agent.name, item.target_agent.name]
        for item in result.new_items
        if isinstance(item, HandoffOutputItem)
    ]
    return {"handoffs": handoffs, "output": result.final_output}


truth = asyncio.run(main())
logfire.force_flush()
write_truth(truth)
