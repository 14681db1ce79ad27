"""OpenAI Swarm (``openai-swarm``): no tracing of its own, so its users add
openinference-instrumentation-openai, which records each model call; the run is wrapped in
an application span so that it is one trace."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fw_common import MODEL_URL, WORKFLOW, provider, write_truth
from openai import OpenAI
from openinference.instrumentation.openai import OpenAIInstrumentor
from opentelemetry import trace
from swarm import Agent, Swarm

tracer_provider = provider("swarm-" + WORKFLOW)
OpenAIInstrumentor().instrument(tracer_provider=tracer_provider)
tracer = trace.get_tracer("app")

triage = Agent(name="triage", model="gpt-scripted", instructions="[agent:triage] You route.")
billing = Agent(name="billing", model="gpt-scripted", instructions="[agent:billing] Refunds.")


def transfer_to_billing() -> Agent:
    """Hand the customer to billing."""
    return billing


def transfer_to_triage() -> Agent:
    """Hand the customer back to triage."""
    return triage


def lookup(order: str) -> str:
    """Find an order."""
    return f"order {order}: paid twice"


triage.functions = [transfer_to_billing]
billing.functions = [transfer_to_triage, lookup]
client = Swarm(client=OpenAI(base_url=MODEL_URL, api_key="sk-scripted"))
question = [{"role": "user", "content": "I want a refund"}]


def hand_written_loop(stream: bool) -> list[list[str]]:
    """A Swarm-style loop written by hand over the openai client (no Swarm): each agent's
    instructions and tools, a ``transfer_to_<agent>`` call answered by a plain tool
    message, no ``sender``. Returns its own record of the handoffs."""
    openai = OpenAI(base_url=MODEL_URL, api_key="sk-scripted")
    agents = {a.name: a for a in (triage, billing)}
    holder, history, record = triage, list(question), []
    while True:
        tools = [
            {
                "type": "function",
                "function": {
                    "name": f.__name__,
                    "description": f.__doc__,
                    "parameters": {"type": "object", "properties": {}},
                },
            }
            for f in holder.functions
            if f.__name__.startswith("transfer_to_")
        ]
        request = [{"role": "system", "content": holder.instructions}, *history]
        if stream:
            text, calls = "", {}
            for chunk in openai.chat.completions.create(
                model=holder.model, messages=request, tools=tools, stream=True
            ):
                delta = chunk.choices[0].delta if chunk.choices else None
                text += (delta.content or "") if delta else ""
                for part in (delta.tool_calls or []) if delta else []:
                    call = calls.setdefault(part.index, {"id": "", "name": "", "arguments": ""})
                    call["id"] += part.id or ""
                    call["name"] += (part.function.name or "") if part.function else ""
                    call["arguments"] += (part.function.arguments or "") if part.function else ""
            tool_calls = [calls[i] for i in sorted(calls)]
        else:
            message = (
                openai.chat.completions.create(model=holder.model, messages=request, tools=tools)
                .choices[0]
                .message
            )
            text = message.content or ""
            tool_calls = [
                {"id": c.id, "name": c.function.name, "arguments": c.function.arguments}
                for c in message.tool_calls or []
            ]
        if not tool_calls:
            history.append({"role": "assistant", "content": text})
            return record
        history.append(
            {
                "role": "assistant",
                "content": text or None,
                "tool_calls": [
                    {
                        "id": c["id"],
                        "type": "function",
                        "function": {"name": c["name"], "arguments": c["arguments"]},
                    }
                    for c in tool_calls
                ],
            }
        )
        for c in tool_calls:
            target = agents[c["name"].removeprefix("transfer_to_")]
            record.append([holder.name, target.name])
            history.append(
                {
                    "role": "tool",
                    "tool_call_id": c["id"],
                    "content": f"Transferred to {target.name}.",
                }
            )
            holder = target


# Swarm's first request names no agent; an app span in the GenAI spelling can say it
# (the "named" workflow: what the README recommends to Swarm users).
named = {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": triage.name}
with tracer.start_as_current_span(
    "app " + WORKFLOW, attributes=named if WORKFLOW == "pingpong_named" else None
):
    if WORKFLOW.startswith("loop_"):  # no Swarm: a loop of the seeds' kind
        loop_handoffs = hand_written_loop(stream=WORKFLOW == "loop_pingpong")
        messages = []
    elif WORKFLOW.startswith(("pingpong", "lookup")):  # streamed
        messages = []
        for chunk in client.run(agent=triage, messages=question, stream=True):
            if "response" in chunk:
                messages = chunk["response"].messages
    else:
        messages = client.run(agent=triage, messages=question).messages
tracer_provider.force_flush()
# Swarm's own record: the results of its transfer functions ({"assistant": <agent>}), in
# order. (Streamed, Swarm 0.1.1 stamps every message with the first agent as sender.)
handoffs = []
holder = triage.name
for message in messages:
    if message.get("role") == "tool" and message["content"].startswith('{"assistant"'):
        target = json.loads(message["content"])["assistant"]
        handoffs.append([holder, target])
        holder = target
if WORKFLOW.startswith("loop_"):
    handoffs = loop_handoffs
write_truth({"handoffs": handoffs, "senders": [m.get("sender") for m in messages]})
