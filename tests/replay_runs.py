"""Recorded runs of baton's runner for the re-run and serve tests: agents defined in a
module file (as a user's project would), run once through the real ``openai`` client
against a local Chat Completions server, recorded into a store."""

from __future__ import annotations

import os
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tracer
from replay.agents_spec import import_agents
from tracer.capture.config import settings
from tracer.runner.chat_server import ChatServer, ScriptedResponder, completion
from tracer.runner.models.scripted import tool_call

QUESTION = "I was charged twice for order 7."

AGENTS = '''
from pydantic import BaseModel

import tracer

CALLS = []


class Verdict(BaseModel):
    refunded: bool


@tracer.function_tool
def lookup_invoice(order_id: int) -> dict:
    """Find the invoice of an order."""
    CALLS.append(order_id)
    {lookup_body}
    return {{"order_id": order_id, "amount": 42.0}}


refunds = tracer.Agent(
    name="Refunds", instructions="Issue refunds.", model="gpt-test", output_type={refunds_output}
)
sales = tracer.Agent(name="Sales", instructions="Sell.", model="gpt-test")
policy = tracer.Agent(name="Policy", instructions="Quote the policy.", model="gpt-test")
billing = tracer.Agent(
    name="Billing",
    instructions="{billing_instructions}",
    model="gpt-test",
    tools=[lookup_invoice, policy.as_tool()],
    handoffs=[{billing_handoffs}],
)
triage = tracer.Agent(
    name="Triage", instructions="Route the user.", model="gpt-test", handoffs=[{triage_handoffs}]
)
BY_NAME = {{"billing": billing, "triage": triage}}


def build():
    return [billing, triage]
'''


def write_agents(directory: Path, name: str, **changes: str) -> Path:
    """A module of agents; ``changes`` edit the recorded run's definitions."""
    fields = {
        "lookup_body": "pass",
        "billing_instructions": "Answer billing questions.",
        "billing_handoffs": "refunds",
        "triage_handoffs": "billing",
        "refunds_output": "None",
        **changes,
    }
    path = directory / f"{name}.py"
    path.write_text(textwrap.dedent(AGENTS.format(**fields)), encoding="utf-8")
    return path


def support_script() -> list[dict[str, Any]]:
    """Triage hands to Billing; Billing looks up the invoice, asks Policy (an agent used
    as a tool), hands to Refunds; Refunds answers. Six model calls."""
    return [
        completion(tool_calls=[tool_call("transfer_to_billing", call_id="h1")], model="gpt-test-1"),
        completion(
            tool_calls=[tool_call("lookup_invoice", {"order_id": 7}, call_id="t1")],
            prompt_tokens=20,
            completion_tokens=4,
        ),
        completion(tool_calls=[tool_call("policy", {"input": "refund window?"}, call_id="p1")]),
        completion(content="30 days.", prompt_tokens=5, completion_tokens=2),
        completion(tool_calls=[tool_call("transfer_to_refunds", call_id="h2")]),
        completion(content="Refunded 42.00 EUR.", prompt_tokens=40, completion_tokens=6),
    ]


@dataclass
class Recorded:
    store: tracer.Store
    trace_id: str
    agents: Path

    def spec(self, attribute: str = "triage", path: Path | None = None) -> str:
        return f"{path or self.agents}:{attribute}"


def record_run(
    store: tracer.Store,
    agents: Path,
    replies: list[dict[str, Any]],
    *,
    capture_content: bool = True,
    max_turns: int = 10,
) -> str:
    """Run the module's ``triage`` against a local server serving ``replies``, recorded
    into ``store``; returns the trace id. The environment is left as it was."""
    saved = {k: os.environ.get(k) for k in ("OPENAI_BASE_URL", "OPENAI_API_KEY")}
    with ChatServer(ScriptedResponder(replies)) as server:
        os.environ["OPENAI_BASE_URL"] = server.base_url
        os.environ["OPENAI_API_KEY"] = "test-key"
        tracer.setup(store, capture_content=capture_content)
        try:
            triage = import_agents(f"{agents}:triage")
            assert isinstance(triage, tracer.Agent)
            try:
                result = tracer.Runner.run_sync(triage, QUESTION, max_turns=max_turns)
                trace_id = result.trace_id
            except tracer.RunError as exc:
                assert exc.result is not None
                trace_id = exc.result.trace_id
        finally:
            tracer.shutdown()
            settings.capture_content = True
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
    assert trace_id is not None
    return trace_id
