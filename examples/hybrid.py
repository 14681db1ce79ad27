"""Hybrid: triage hands off to a specialist who uses sub-agents as tools.

    python examples/hybrid.py [--store PATH]

Triage hands the conversation to Billing (a handoff: control moves). Billing then asks
two sub-agents, FraudCheck and Policy, as tools (control stays with Billing) and
answers. Both patterns show in one trace: ``handoffs`` has Triage → Billing, and
``tool_calls`` has the two agent calls made by Billing.
"""

from __future__ import annotations

from common import arguments, finish, model, start_recording

import tracer
from tracer.runner.models import call_tools, reply, tool_call

QUESTION = "There is a 900 EUR charge on my card from you that I don't recognise."


@tracer.function_tool
async def recent_charges(customer_id: str) -> list[dict[str, object]]:
    """The customer's card charges of the last 30 days.

    Args:
        customer_id: The customer's id.
    """
    return [{"id": "ch_51", "amount": 900.0, "merchant": "baton-store", "country": "NL"}]


def build(call_ids: str = "h") -> tracer.Agent:
    """Triage, Billing and Billing's two advisers; returns triage."""
    fraud = tracer.Agent(
        name="FraudCheck",
        instructions="Judge whether a charge looks fraudulent.",
        tools=[recent_charges],
        model=model(
            [
                call_tools(
                    tool_call("recent_charges", {"customer_id": "C-7"}, call_id=f"{call_ids}f1"),
                    input_tokens=240,
                    output_tokens=21,
                ),
                reply(
                    "ch_51 matches the customer's usual country and merchant: low fraud risk.",
                    input_tokens=300,
                    output_tokens=22,
                ),
            ]
        ),
    )
    policy = tracer.Agent(
        name="Policy",
        instructions="Answer questions about refund and dispute policy.",
        model=model(
            [
                reply(
                    "Unrecognised charges can be disputed within 60 days.",
                    input_tokens=180,
                    output_tokens=14,
                )
            ]
        ),
    )
    billing = tracer.Agent(
        name="Billing",
        handoff_description="Charges, invoices and disputes.",
        instructions="Investigate charges with your advisers, then answer.",
        tools=[
            fraud.as_tool("check_fraud", "Assess a charge for fraud."),
            policy.as_tool("ask_policy", "Dispute and refund policy."),
        ],
        model=model(
            [
                call_tools(
                    tool_call(
                        "check_fraud",
                        {"input": "Is the 900 EUR charge on C-7's card fraud?"},
                        call_id=f"{call_ids}2",
                    ),
                    input_tokens=520,
                    output_tokens=33,
                ),
                call_tools(
                    tool_call(
                        "ask_policy",
                        {"input": "How can C-7 dispute a charge?"},
                        call_id=f"{call_ids}3",
                    ),
                    input_tokens=600,
                    output_tokens=25,
                ),
                reply(
                    "The 900 EUR charge (ch_51) is your annual plan renewal and does not "
                    "look fraudulent. If you still don't recognise it you can dispute it "
                    "within 60 days.",
                    input_tokens=690,
                    output_tokens=45,
                ),
            ]
        ),
    )
    return tracer.Agent(
        name="Triage",
        instructions="Hand off to the right specialist.",
        handoffs=[billing],
        model=model(
            [
                call_tools(
                    tool_call("transfer_to_billing", call_id=f"{call_ids}1"),
                    input_tokens=400,
                    output_tokens=16,
                )
            ]
        ),
    )


def main() -> None:
    args = arguments(__doc__.splitlines()[0])
    store = start_recording(args.store)
    result = tracer.Runner.run_sync(build(), QUESTION, workflow_name="charge dispute")
    finish(result, store)


if __name__ == "__main__":
    main()
