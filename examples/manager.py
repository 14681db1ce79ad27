"""Agents as tools: a manager asks three specialists at once and keeps control.

    python examples/manager.py [--store PATH]

The manager calls Billing, Technical and Refunds as tools in one response; they run
concurrently, each in its own nested run, and their answers come back to the manager,
who writes the reply. No control changes hands: the specialists show up in the
``tool_calls`` view with ``is_agent`` true, not in ``handoffs``.
"""

from __future__ import annotations

from common import arguments, finish, model, start_recording

import tracer
from tracer.runner.models import call_tools, reply, tool_call

QUESTION = "Give me a status summary of my account: invoices, service problems and refunds."


@tracer.function_tool
async def list_open_invoices(customer_id: str) -> list[dict[str, object]]:
    """The invoices of a customer that are not paid yet.

    Args:
        customer_id: The customer's id.
    """
    return [{"invoice": "INV-88", "amount": 120.0, "due": "2026-12-01"}]


@tracer.function_tool
async def check_service_status(component: str) -> dict[str, str]:
    """The current status of a part of the service.

    Args:
        component: e.g. mobile-auth, payments, web.
    """
    return {"component": component, "status": "operational"}


def build(call_ids: str = "m") -> tracer.Agent:
    """Three specialists behind a manager; returns the manager."""
    billing = tracer.Agent(
        name="Billing",
        instructions="Report the customer's open invoices.",
        tools=[list_open_invoices],
        model=model(
            [
                call_tools(
                    tool_call(
                        "list_open_invoices", {"customer_id": "C-7"}, call_id=f"{call_ids}b1"
                    ),
                    input_tokens=210,
                    output_tokens=20,
                ),
                reply(
                    "One open invoice: INV-88, 120.00 EUR, due 1 December.",
                    input_tokens=260,
                    output_tokens=19,
                ),
            ]
        ),
    )
    technical = tracer.Agent(
        name="Technical",
        instructions="Report service problems that affect the customer.",
        tools=[check_service_status],
        model=model(
            [
                call_tools(
                    tool_call(
                        "check_service_status", {"component": "web"}, call_id=f"{call_ids}t1"
                    ),
                    input_tokens=190,
                    output_tokens=18,
                ),
                reply("All services are operational.", input_tokens=230, output_tokens=8),
            ]
        ),
    )
    refunds = tracer.Agent(
        name="Refunds",
        instructions="Report refunds in progress.",
        model=model([reply("No refunds in progress.", input_tokens=150, output_tokens=7)]),
    )
    return tracer.Agent(
        name="Manager",
        instructions="Ask the specialists what you need, then write one short summary.",
        tools=[
            billing.as_tool("ask_billing", "Invoices and charges."),
            technical.as_tool("ask_technical", "Service problems."),
            refunds.as_tool("ask_refunds", "Refunds in progress."),
        ],
        model=model(
            [
                call_tools(
                    tool_call(
                        "ask_billing",
                        {"input": "Open invoices of customer C-7?"},
                        call_id=f"{call_ids}1",
                    ),
                    tool_call(
                        "ask_technical",
                        {"input": "Any incident affecting C-7?"},
                        call_id=f"{call_ids}2",
                    ),
                    tool_call(
                        "ask_refunds",
                        {"input": "Refunds in progress for C-7?"},
                        call_id=f"{call_ids}3",
                    ),
                    input_tokens=330,
                    output_tokens=64,
                ),
                reply(
                    "Your account: one open invoice (INV-88, 120.00 EUR, due 1 December), "
                    "no service problems, and no refunds in progress.",
                    input_tokens=420,
                    output_tokens=36,
                ),
            ]
        ),
    )


def main() -> None:
    args = arguments(__doc__.splitlines()[0])
    store = start_recording(args.store)
    result = tracer.Runner.run_sync(build(), QUESTION, workflow_name="account summary")
    finish(result, store)


if __name__ == "__main__":
    main()
