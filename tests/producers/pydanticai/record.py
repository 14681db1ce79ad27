"""PydanticAI (``Agent.instrument_all()``, OpenTelemetry through the global provider):
agent delegation (a tool that runs another agent) and a programmatic hand-off (the app
runs one agent, then another on the same message history)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fw_common import MODEL_URL, WORKFLOW, provider, write_truth
from opentelemetry import trace
from pydantic_ai import Agent, RunContext
from pydantic_ai.models.instrumented import InstrumentationSettings
from pydantic_ai.models.openai import OpenAIChatModel
from pydantic_ai.providers.openai import OpenAIProvider

tracer_provider = provider("pydanticai-" + WORKFLOW)
Agent.instrument_all(InstrumentationSettings(tracer_provider=tracer_provider))
tracer = trace.get_tracer("app")
model = OpenAIChatModel(
    "gpt-scripted", provider=OpenAIProvider(base_url=MODEL_URL, api_key="sk-scripted")
)

researcher = Agent(model, name="researcher", instructions="[agent:researcher] You research.")
manager = Agent(model, name="manager", instructions="[agent:manager] You manage.")


@researcher.tool_plain
def lookup(topic: str) -> str:
    """Look a topic up."""
    return f"{topic}: 42"


@manager.tool
async def ask_researcher(ctx: RunContext[None], task: str) -> str:
    """Ask the researcher."""
    result = await researcher.run(task, usage=ctx.usage)
    return result.output


triage = Agent(model, name="triage", instructions="[agent:triage] You route.")
billing = Agent(model, name="billing", instructions="[agent:billing] Refunds.")


async def main() -> dict[str, object]:
    with tracer.start_as_current_span("app " + WORKFLOW):
        if WORKFLOW == "delegation":
            result = await manager.run("What is the answer?")
            return {"handoffs": [], "output": result.output}
        # The app decides the hand-off: triage answers, then billing continues, streamed.
        first = await triage.run("I want a refund")
        async with billing.run_stream("Go on", message_history=first.all_messages()) as streamed:
            output = await streamed.get_output()
        return {"handoffs": [], "programmatic": [["triage", "billing"]], "output": output}


truth = asyncio.run(main())
tracer_provider.force_flush()
write_truth(truth)
