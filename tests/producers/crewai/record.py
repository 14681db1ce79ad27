"""CrewAI, a hierarchical crew (the manager delegates to coworkers with its "Delegate work
to coworker" tool), traced by openinference-instrumentation-crewai (with its OpenAI
instrumentation for the model calls), as its users hook it up."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from crewai import LLM, Agent, Crew, Process, Task
from crewai.tools import tool
from fw_common import MODEL_URL, WORKFLOW, provider, write_truth
from openinference.instrumentation.crewai import CrewAIInstrumentor
from openinference.instrumentation.openai import OpenAIInstrumentor

tracer_provider = provider("crewai-" + WORKFLOW)
CrewAIInstrumentor().instrument(tracer_provider=tracer_provider)
OpenAIInstrumentor().instrument(tracer_provider=tracer_provider)


def llm() -> LLM:
    return LLM(model="openai/gpt-scripted", base_url=MODEL_URL, api_key="sk-scripted")


@tool("lookup")
def lookup(topic: str) -> str:
    """Look a topic up."""
    return f"{topic}: 42"


researcher = Agent(
    role="researcher",
    goal="Find facts",
    backstory="[agent:researcher] You research.",
    llm=llm(),
    tools=[lookup],
    allow_delegation=False,
)
manager = Agent(
    role="manager",
    goal="Answer well",
    backstory="[agent:manager] You manage.",
    llm=llm(),
    allow_delegation=True,
)
task = Task(description="What is the answer?", expected_output="A number.")
crew = Crew(
    agents=[researcher],
    tasks=[task],
    process=Process.hierarchical,
    manager_agent=manager,
    verbose=False,
)
result = crew.kickoff()
tracer_provider.force_flush()
write_truth({"handoffs": [], "output": str(result)})
