"""Recording an OpenAI Agents SDK run: one call to ``tracer.agents_sdk.install``.

    python examples/agents_sdk.py [--store PATH]      (needs: pip install -e '.[agents]')

An SDK workflow — Triage hands off to Billing, Billing looks an invoice up and asks a
Refunds agent used as a tool — recorded through baton's tracing processor. The SDK
trace's ``group_id`` becomes the conversation id. Runs on OpenAI with OPENAI_API_KEY set,
and on the SDK's own ``agents.testing.ScriptedModel`` otherwise.
"""

from __future__ import annotations

import asyncio
import shlex
from typing import Any

try:
    from agents import Agent, Model, Runner, function_tool, trace
    from agents.testing import ScriptedModel, assistant_message, function_call
except ModuleNotFoundError as missing:  # the SDK is an optional extra of baton
    if missing.name != "agents":
        raise
    raise SystemExit(
        "examples/agents_sdk.py needs the OpenAI Agents SDK: pip install -e '.[agents]'"
    ) from None
from common import arguments, live

import tracer
import tracer.agents_sdk

QUESTION = "Why was I charged 42 EUR for invoice A1, and can I get it back?"
CONVERSATION = "sdk-support"


@function_tool
def lookup_invoice(invoice_id: str) -> str:
    """Look an invoice up.

    Args:
        invoice_id: The invoice's id, e.g. A1.
    """
    return f"invoice {invoice_id}: 42 EUR, annual plan renewal, paid"


def model(turns: list[list[Any]]) -> str | Model:
    """A live model name, or the SDK's scripted model playing ``turns``."""
    return "gpt-4.1-mini" if live() else ScriptedModel(turns, emit_traces=True)


def build() -> Agent[Any]:
    refunds = Agent(
        name="Refunds",
        instructions="Say whether a charge can be refunded.",
        model=model([[assistant_message("Annual renewals are refundable within 14 days.")]]),
    )
    billing = Agent(
        name="Billing",
        instructions="Explain charges; ask Refunds about refunds.",
        model=model(
            [
                [function_call("lookup_invoice", {"invoice_id": "A1"}, call_id="s1")],
                [
                    function_call(
                        "ask_refunds", {"input": "Is an A1 renewal refundable?"}, call_id="s2"
                    )
                ],
                [
                    assistant_message(
                        "A1 is your annual plan renewal (42 EUR). It is refundable within 14 "
                        "days; reply 'refund' and I will start it."
                    )
                ],
            ]
        ),
        tools=[
            lookup_invoice,
            refunds.as_tool(tool_name="ask_refunds", tool_description="Refund rules."),
        ],
    )
    return Agent(
        name="Triage",
        instructions="Route the customer to the right agent.",
        model=model([[function_call("transfer_to_billing", {}, call_id="s0")]]),
        handoffs=[billing],
    )


async def run() -> str:
    with trace("support", group_id=CONVERSATION):
        result = await Runner.run(build(), QUESTION)
    return str(result.final_output)


def main() -> None:
    args = arguments(__doc__.splitlines()[0])
    store = tracer.Store(args.store)
    processor = tracer.agents_sdk.install(store)  # every SDK trace from here on is recorded
    print(f"recording into {store.path} · {'live model' if live() else 'scripted model'}")
    answer = asyncio.run(run())
    processor.shutdown()  # flush now (it also flushes at exit)
    flag = f" --store {shlex.quote(str(store.path))}"
    print(f"\n{answer}\n\nRecorded. Open it with:\n  baton tui{flag} {CONVERSATION}")
    print(f"  baton sql{flag} \"select * from handoffs where conversation_id = '{CONVERSATION}'\"")


if __name__ == "__main__":
    main()
