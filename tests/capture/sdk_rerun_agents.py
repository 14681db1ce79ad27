"""Agents SDK workflows the re-run tests record and then re-run (``--agents
tests/capture/sdk_rerun_agents.py:triage`` from a ``baton replay`` process too).

Triage hands off to Billing; Billing looks an invoice up and asks the Researcher, used as
a tool, twice in one response (two nested runs of one agent at once), then answers.
``variant`` changes one definition the way a developer would: ``handoffs`` (Triage hands
off to Refunds instead of Billing), ``tool`` (the invoice lookup fails). The models of
the module-level ``triage`` come from ``SDK_RERUN_BASE_URL`` and ``SDK_RERUN_API``
(default: an address where nothing listens, so a re-run that reached the network fails).
"""

from __future__ import annotations

import os
from typing import Any

from agents import Agent, Model, OpenAIChatCompletionsModel, OpenAIResponsesModel, function_tool
from openai import AsyncOpenAI
from scripted_agents_server import Reply, call, text

NOWHERE = "http://127.0.0.1:9/v1"


@function_tool
def lookup(invoice: str) -> str:
    """Look an invoice up."""
    return f"invoice {invoice}: 42 EUR, paid"


@function_tool(name_override="lookup")
def broken_lookup(invoice: str) -> str:
    """Look an invoice up."""
    raise RuntimeError(f"the invoice service is down ({invoice})")


def model_for(api: str, base_url: str) -> Model:
    client = AsyncOpenAI(base_url=base_url, api_key="sk-test-rerun", max_retries=0)
    if api == "chat":
        return OpenAIChatCompletionsModel(model="gpt-scripted", openai_client=client)
    return OpenAIResponsesModel(model="gpt-scripted", openai_client=client)


def build(model: Model, variant: str = "same") -> Agent[Any]:
    """The Triage agent of a fresh workflow."""
    researcher = Agent(name="Researcher", instructions="Research.", model=model)
    refunds = Agent(name="Refunds", instructions="Refund.", model=model)
    billing = Agent(
        name="Billing",
        instructions="Bill.",
        model=model,
        tools=[
            broken_lookup if variant == "tool" else lookup,
            researcher.as_tool(tool_name="ask_researcher", tool_description="Ask research."),
        ],
    )
    return Agent(
        name="Triage",
        instructions="Route.",
        model=model,
        handoffs=[refunds] if variant == "handoffs" else [billing],
    )


#: What each agent answers, by its instructions; every reply has its own token counts.
SCRIPTS: dict[str, list[Reply]] = {
    "Route.": [Reply([text("Billing can tell."), call("h1", "transfer_to_billing")], (10, 1))],
    "Bill.": [
        Reply([call("t1", "lookup", {"invoice": "A1"})], (11, 2)),
        Reply(
            [
                call("t2", "ask_researcher", {"input": "Is A1 refundable?"}),
                call("t3", "ask_researcher", {"input": "Is A1 overdue?"}),
            ],
            (12, 3),
        ),
        Reply([text("A1: 42 EUR, paid, refundable.")], (13, 4)),
    ],
    # The Researcher runs twice at once: each run answered by its question.
    "Research. <- Is A1 refundable?": [Reply([text("Research says yes.")], (20, 1))],
    "Research. <- Is A1 overdue?": [Reply([text("Research says no.")], (21, 1))],
}

triage = build(
    model_for(
        os.environ.get("SDK_RERUN_API", "responses"), os.environ.get("SDK_RERUN_BASE_URL", NOWHERE)
    ),
    os.environ.get("SDK_RERUN_VARIANT", "same"),
)
