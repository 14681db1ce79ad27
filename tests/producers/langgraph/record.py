"""LangGraph (langgraph-swarm, langgraph-supervisor) traced by
openinference-instrumentation-langchain, as its users hook it up."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fw_common import MODEL_URL, WORKFLOW, provider, write_truth
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.prebuilt import create_react_agent
from openinference.instrumentation.langchain import LangChainInstrumentor

tracer_provider = provider("langgraph-" + WORKFLOW)
LangChainInstrumentor().instrument(tracer_provider=tracer_provider)


def model() -> ChatOpenAI:
    return ChatOpenAI(model="gpt-scripted", base_url=MODEL_URL, api_key="sk-scripted")


@tool
def lookup(topic: str) -> str:
    """Look a topic up."""
    return f"{topic}: 42"


def swarm_app():  # type: ignore[no-untyped-def]
    from langgraph_swarm import create_handoff_tool, create_swarm

    triage = create_react_agent(
        model(),
        [create_handoff_tool(agent_name="billing")],
        prompt="[agent:triage] You route customers.",
        name="triage",
    )
    billing = create_react_agent(
        model(),
        [create_handoff_tool(agent_name="triage")],
        prompt="[agent:billing] You handle refunds.",
        name="billing",
    )
    return create_swarm([triage, billing], default_active_agent="triage").compile(
        checkpointer=InMemorySaver()
    )


def supervisor_app():  # type: ignore[no-untyped-def]
    from langgraph_supervisor import create_supervisor

    researcher = create_react_agent(
        model(), [lookup], prompt="[agent:researcher] You research.", name="researcher"
    )
    return create_supervisor(
        [researcher],
        model=model(),
        prompt="[agent:supervisor] You manage.",
        supervisor_name="supervisor",
    ).compile()


def account(messages: list) -> list[dict]:  # type: ignore[type-arg]
    """The framework's own record: each AI message's author and tool calls."""
    return [
        {"name": m.name, "tool_calls": [c["name"] for c in m.tool_calls], "text": m.content}
        for m in messages
        if isinstance(m, AIMessage)
    ]


def handoffs(messages: list) -> list[list[str]]:  # type: ignore[type-arg]
    """Transfers as the message history records them: author -> the transfer tool's agent."""
    found = []
    for m in messages:
        for c in m.tool_calls if isinstance(m, AIMessage) else ():
            for prefix in ("transfer_back_to_", "transfer_to_"):
                if c["name"].startswith(prefix):
                    found.append([m.name, c["name"][len(prefix) :]])
                    break
    return found


config = {"configurable": {"thread_id": "conv-" + WORKFLOW}}
question = {"messages": [HumanMessage("I want a refund")]}
if WORKFLOW == "supervisor":
    result = supervisor_app().invoke(question)
    messages = result["messages"]
elif WORKFLOW == "swarm_pingpong":  # streamed, token by token
    app = swarm_app()
    for _ in app.stream(question, config, stream_mode="messages"):
        pass
    messages = app.get_state(config).values["messages"]
else:
    messages = swarm_app().invoke(question, config)["messages"]
tracer_provider.force_flush()
write_truth({"messages": account(messages), "handoffs": handoffs(messages)})
