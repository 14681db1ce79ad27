"""Handoffs: a triage agent routes a support request between specialists.

    python examples/triage.py [--store PATH]

Triage hands off to Billing, Billing looks the invoice up and hands off to Refunds,
Refunds issues the refund and hands back to Triage, which hands off to Technical for the
second problem. Each transfer of control is a row of the ``handoffs`` view.
"""

from __future__ import annotations

from common import arguments, finish, model, start_recording

import tracer
from tracer.runner.models import call_tools, reply, tool_call

QUESTION = "I was charged twice for order 1042, and the mobile app keeps logging me out."


@tracer.function_tool
async def lookup_invoice(order_id: int) -> dict[str, object]:
    """Find the invoice of an order.

    Args:
        order_id: The order number printed on the invoice.
    """
    return {"order_id": order_id, "amount": 49.0, "charges": 2, "currency": "EUR"}


@tracer.function_tool
async def issue_refund(order_id: int, amount: float) -> str:
    """Refund an amount of an order to the card that paid it.

    Args:
        order_id: The order to refund.
        amount: How much to give back.
    """
    return f"refund of {amount:.2f} for order {order_id} issued; it arrives in 3-5 days"


@tracer.function_tool
async def check_service_status(component: str) -> dict[str, str]:
    """The current status of a part of the service.

    Args:
        component: e.g. mobile-auth, payments, web.
    """
    return {
        "component": component,
        "status": "degraded",
        "incident": "INC-2291: session tokens expire early",
    }


def build(call_ids: str = "t") -> tracer.Agent:
    """The support team; returns the triage agent users talk to first."""
    triage = tracer.Agent(
        name="Triage",
        instructions="Find out what the user needs and hand off to the right specialist. "
        "When a specialist hands back, route what is left.",
        model=model(
            [
                call_tools(
                    tool_call("transfer_to_billing", call_id=f"{call_ids}1"),
                    input_tokens=412,
                    output_tokens=18,
                ),
                call_tools(
                    tool_call("transfer_to_technical", call_id=f"{call_ids}6"),
                    input_tokens=903,
                    output_tokens=19,
                ),
            ]
        ),
    )
    refunds = tracer.Agent(
        name="Refunds",
        handoff_description="Issues refunds for charges that should not have happened.",
        instructions="Refund duplicate or wrong charges, then hand back to Triage "
        "for anything else.",
        tools=[issue_refund],
        handoffs=[triage],
        model=model(
            [
                call_tools(
                    tool_call(
                        "issue_refund", {"order_id": 1042, "amount": 49.0}, call_id=f"{call_ids}4"
                    ),
                    input_tokens=688,
                    output_tokens=31,
                ),
                call_tools(
                    tool_call("transfer_to_triage", call_id=f"{call_ids}5"),
                    content="The duplicate charge is refunded; handing back for the app problem.",
                    input_tokens=760,
                    output_tokens=35,
                ),
            ]
        ),
    )
    billing = tracer.Agent(
        name="Billing",
        handoff_description="Answers questions about invoices and charges.",
        instructions="Check invoices. Hand off to Refunds when money must go back.",
        tools=[lookup_invoice],
        handoffs=[refunds, triage],
        model=model(
            [
                call_tools(
                    tool_call("lookup_invoice", {"order_id": 1042}, call_id=f"{call_ids}2"),
                    input_tokens=520,
                    output_tokens=22,
                ),
                call_tools(
                    tool_call("transfer_to_refunds", call_id=f"{call_ids}3"),
                    input_tokens=601,
                    output_tokens=17,
                ),
            ]
        ),
    )
    technical = tracer.Agent(
        name="Technical",
        handoff_description="Solves problems with the apps and the website.",
        instructions="Diagnose app problems using the service status.",
        tools=[check_service_status],
        model=model(
            [
                call_tools(
                    tool_call(
                        "check_service_status", {"component": "mobile-auth"}, call_id=f"{call_ids}7"
                    ),
                    input_tokens=955,
                    output_tokens=24,
                ),
                reply(
                    "You were charged twice for order 1042; the extra 49.00 EUR is refunded and "
                    "arrives in 3-5 days. The log-outs come from a known incident (INC-2291) "
                    "with mobile sign-in; a fix is rolling out today.",
                    input_tokens=1010,
                    output_tokens=58,
                ),
            ]
        ),
    )
    triage.handoffs = [billing, technical]
    return triage


def main() -> None:
    args = arguments(__doc__.splitlines()[0])
    store = start_recording(args.store)
    result = tracer.Runner.run_sync(build(), QUESTION, workflow_name="support")
    finish(result, store)


if __name__ == "__main__":
    main()
