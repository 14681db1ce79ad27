"""Google ADK (its built-in OpenTelemetry tracing, through the global provider) with a
model reached through LiteLLM: sub-agent transfers (``transfer_to_agent``) and an agent
used through ``AgentTool``. Content capture on, as ADK's docs say, so that the transfer's
target (an argument) is recorded."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

os.environ["OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"] = "SPAN_ONLY"
os.environ["OTEL_SEMCONV_STABILITY_OPT_IN"] = "gen_ai_latest_experimental"
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fw_common import MODEL_URL, WORKFLOW, provider, write_truth

tracer_provider = provider("adk-" + WORKFLOW)

from google.adk.agents import LlmAgent, RunConfig  # noqa: E402
from google.adk.agents.run_config import StreamingMode  # noqa: E402
from google.adk.models.lite_llm import LiteLlm  # noqa: E402
from google.adk.runners import InMemoryRunner  # noqa: E402
from google.adk.tools.agent_tool import AgentTool  # noqa: E402
from google.genai import types  # noqa: E402


def model() -> LiteLlm:
    return LiteLlm(model="openai/gpt-scripted", api_base=MODEL_URL, api_key="sk-scripted")


def lookup(topic: str) -> str:
    """Look a topic up."""
    return f"{topic}: 42"


def root_agent() -> LlmAgent:
    if WORKFLOW == "agent_tool":
        researcher = LlmAgent(
            name="researcher",
            model=model(),
            instruction="[agent:researcher] You research.",
            tools=[lookup],
        )
        return LlmAgent(
            name="manager",
            model=model(),
            instruction="[agent:manager] You manage.",
            tools=[AgentTool(agent=researcher)],
        )
    billing = LlmAgent(name="billing", model=model(), instruction="[agent:billing] Refunds.")
    return LlmAgent(
        name="triage",
        model=model(),
        instruction="[agent:triage] You route.",
        sub_agents=[billing],
    )


async def main() -> dict[str, object]:
    runner = InMemoryRunner(agent=root_agent(), app_name="app")
    session = await runner.session_service.create_session(app_name="app", user_id="u")
    streaming = StreamingMode.SSE if WORKFLOW == "pingpong" else StreamingMode.NONE
    handoffs, authors = [], []
    async for event in runner.run_async(
        user_id="u",
        session_id=session.id,
        new_message=types.Content(role="user", parts=[types.Part(text="I want a refund")]),
        run_config=RunConfig(streaming_mode=streaming),
    ):
        if event.partial:
            continue
        authors.append(event.author)
        for call in event.get_function_calls():
            if call.name == "transfer_to_agent":
                handoffs.append([event.author, call.args["agent_name"]])
    return {"handoffs": handoffs, "authors": authors}


truth = asyncio.run(main())
tracer_provider.force_flush()
write_truth(truth)
