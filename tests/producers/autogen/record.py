"""AutoGen agentchat (Swarm team with handoffs; an agent used through AgentTool), traced by
its built-in OpenTelemetry support, with opentelemetry-instrumentation-openai for the
model calls, as its users hook it up."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from autogen_agentchat.agents import AssistantAgent
from autogen_agentchat.base import TaskResult
from autogen_agentchat.conditions import TextMentionTermination
from autogen_agentchat.messages import HandoffMessage
from autogen_agentchat.teams import Swarm
from autogen_agentchat.tools import AgentTool
from autogen_core import SingleThreadedAgentRuntime
from autogen_ext.models.openai import OpenAIChatCompletionClient
from fw_common import MODEL_URL, WORKFLOW, provider, write_truth
from opentelemetry import trace
from opentelemetry.instrumentation.openai import OpenAIInstrumentor

tracer_provider = provider("autogen-" + WORKFLOW)
OpenAIInstrumentor().instrument(tracer_provider=tracer_provider)
tracer = trace.get_tracer("app")


def client() -> OpenAIChatCompletionClient:
    return OpenAIChatCompletionClient(
        model="gpt-scripted",
        base_url=MODEL_URL,
        api_key="sk-scripted",
        model_info={
            "vision": False,
            "function_calling": True,
            "json_output": False,
            "family": "unknown",
            "structured_output": False,
        },
        parallel_tool_calls=False,
    )


async def lookup(topic: str) -> str:
    """Look a topic up."""
    return f"{topic}: 42"


async def swarm(stream: bool) -> TaskResult:
    runtime = SingleThreadedAgentRuntime(tracer_provider=tracer_provider)
    runtime.start()
    triage = AssistantAgent(
        "triage",
        model_client=client(),
        handoffs=["billing"],
        system_message="[agent:triage] You route customers.",
    )
    billing = AssistantAgent(
        "billing",
        model_client=client(),
        handoffs=["triage"],
        system_message="[agent:billing] You handle refunds.",
    )
    team = Swarm(
        [triage, billing], termination_condition=TextMentionTermination("DONE"), runtime=runtime
    )
    if stream:
        result: Any = None
        async for item in team.run_stream(task="I want a refund"):
            result = item
    else:
        result = await team.run(task="I want a refund")
    await runtime.stop_when_idle()
    return result  # type: ignore[no-any-return]


async def manager() -> TaskResult:
    researcher = AssistantAgent(
        "researcher",
        model_client=client(),
        tools=[lookup],
        system_message="[agent:researcher] You research.",
        reflect_on_tool_use=True,
    )
    boss = AssistantAgent(
        "manager",
        model_client=client(),
        tools=[AgentTool(researcher)],
        system_message="[agent:manager] You manage.",
        reflect_on_tool_use=True,
    )
    return await boss.run(task="What is the answer?")


async def main() -> None:
    if WORKFLOW.endswith("_unwrapped"):  # no app span: the run is many traces, linked
        result = await swarm(stream=False)
    else:
        with tracer.start_as_current_span("app " + WORKFLOW):
            if WORKFLOW == "manager":
                result = await manager()
            else:
                result = await swarm(stream=WORKFLOW == "swarm_pingpong")
    tracer_provider.force_flush()
    write_truth(
        {
            "handoffs": [
                [m.source, m.target] for m in result.messages if isinstance(m, HandoffMessage)
            ],
            "messages": [[type(m).__name__, m.source] for m in result.messages],
        }
    )


asyncio.run(main())
