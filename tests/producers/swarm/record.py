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


triage.functions = [transfer_to_billing]
billing.functions = [transfer_to_triage]
client = Swarm(client=OpenAI(base_url=MODEL_URL, api_key="sk-scripted"))
question = [{"role": "user", "content": "I want a refund"}]

# Swarm's first request names no agent; an app span in the GenAI spelling can say it
# (the "named" workflow: what the README recommends to Swarm users).
named = {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": triage.name}
with tracer.start_as_current_span(
    "app " + WORKFLOW, attributes=named if WORKFLOW == "pingpong_named" else None
):
    if WORKFLOW.startswith("pingpong"):  # streamed
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
write_truth({"handoffs": handoffs, "senders": [m.get("sender") for m in messages]})
