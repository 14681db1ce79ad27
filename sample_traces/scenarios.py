"""The runs recorded in sample_traces/: what users meet, played on scripted models.

Each scenario is a function that runs baton's runner and returns nothing; errors that
end a run (the loop guard, max turns) are the point of some scenarios and are caught.
The three patterns come from examples/ so the samples and the examples agree.
Tools are ``async`` so that concurrent calls interleave the same way on every run.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable
from pathlib import Path

import tracer
from tracer.runner.models import call_tools, reply, tool_call

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "examples"))

import hybrid
import manager
import triage

Scenario = Callable[[], None]


def support_triage() -> None:
    """Triage → Billing → Refunds → back to Triage → Technical."""
    tracer.Runner.run_sync(
        triage.build(), triage.QUESTION, workflow_name="support", conversation_id="support-triage"
    )


def manager_specialists() -> None:
    """A manager calling three specialists as tools at once."""
    tracer.Runner.run_sync(
        manager.build(),
        manager.QUESTION,
        workflow_name="account summary",
        conversation_id="manager-specialists",
    )


def hybrid_dispute() -> None:
    """Triage hands off to Billing, who consults two sub-agents as tools."""
    tracer.Runner.run_sync(
        hybrid.build(),
        hybrid.QUESTION,
        workflow_name="charge dispute",
        conversation_id="hybrid-dispute",
    )


def ping_pong() -> None:
    """Billing and Sales keep sending a customer back and forth; the loop guard stops it."""
    back = [
        call_tools(
            tool_call("transfer_to_sales", call_id=f"pb{i}"),
            input_tokens=420 + 90 * i,
            output_tokens=15,
        )
        for i in range(4)
    ]
    forth = [
        call_tools(
            tool_call("transfer_to_billing", call_id=f"ps{i}"),
            input_tokens=465 + 90 * i,
            output_tokens=15,
        )
        for i in range(4)
    ]
    billing = tracer.Agent(
        name="Billing",
        instructions="Billing questions only; upgrades belong to Sales.",
        model=tracer.ScriptedModel(back),
    )
    sales = tracer.Agent(
        name="Sales",
        instructions="Upgrades only; anything about an invoice belongs to Billing.",
        model=tracer.ScriptedModel(forth),
        handoffs=[billing],
    )
    billing.handoffs = [sales]
    triage_agent = tracer.Agent(
        name="Triage",
        instructions="Route the customer.",
        handoffs=[billing],
        model=tracer.ScriptedModel(
            [
                call_tools(
                    tool_call("transfer_to_billing", call_id="pt1"),
                    input_tokens=350,
                    output_tokens=14,
                )
            ]
        ),
    )
    with contextlib.suppress(tracer.HandoffLoopError):  # the guard stopping Billing ⇄ Sales
        tracer.Runner.run_sync(
            triage_agent,
            "Will upgrading my plan change this month's invoice?",
            workflow_name="plan question",
            conversation_id="ping-pong",
        )


def tool_error() -> None:
    """A tool raises; the model sees the error and recovers."""

    @tracer.function_tool
    async def charge_card(amount: float) -> str:
        """Charge the card on file.

        Args:
            amount: How much to charge.
        """
        raise RuntimeError("payment gateway timeout (upstream 504)")

    @tracer.function_tool
    async def send_payment_link(amount: float) -> str:
        """Email the customer a link to pay.

        Args:
            amount: How much the link is for.
        """
        return f"payment link for {amount:.2f} EUR sent"

    billing = tracer.Agent(
        name="Billing",
        instructions="Collect overdue payments.",
        tools=[charge_card, send_payment_link],
        model=tracer.ScriptedModel(
            [
                call_tools(
                    tool_call("charge_card", {"amount": 120.0}, call_id="e1"),
                    input_tokens=310,
                    output_tokens=21,
                ),
                call_tools(
                    tool_call("send_payment_link", {"amount": 120.0}, call_id="e2"),
                    input_tokens=402,
                    output_tokens=22,
                ),
                reply(
                    "The card could not be charged, so I emailed you a payment link.",
                    input_tokens=455,
                    output_tokens=17,
                ),
            ]
        ),
    )
    tracer.Runner.run_sync(
        billing,
        "Please settle invoice INV-88 with my card.",
        workflow_name="collect payment",
        conversation_id="tool-error",
    )


def max_turns() -> None:
    """An agent that keeps searching and never answers runs out of turns."""

    @tracer.function_tool
    async def search_docs(query: str) -> str:
        """Search the help centre.

        Args:
            query: What to look for.
        """
        return "no results"

    researcher = tracer.Agent(
        name="Research",
        instructions="Find the answer in the help centre.",
        tools=[search_docs],
        model=tracer.ScriptedModel(
            [
                call_tools(
                    tool_call("search_docs", {"query": q}, call_id=f"s{i}"),
                    input_tokens=280 + 40 * i,
                    output_tokens=19,
                )
                for i, q in enumerate(["export invoices", "invoice csv", "billing export", "csv"])
            ]
        ),
    )
    with contextlib.suppress(tracer.MaxTurnsExceeded):  # what the scenario shows
        tracer.Runner.run_sync(
            researcher,
            "How do I export my invoices as CSV?",
            max_turns=4,
            workflow_name="help search",
            conversation_id="max-turns",
        )


def three_messages() -> None:
    """One conversation of three user messages: three runs sharing a conversation id."""
    technical = tracer.Agent(
        name="Technical",
        instructions="Help with the apps.",
        model=tracer.ScriptedModel(
            [
                reply(
                    "Try signing out and in again; that refreshes your session.",
                    input_tokens=260,
                    output_tokens=15,
                ),
                reply(
                    "Then please update the app: version 4.2 fixes early log-outs.",
                    input_tokens=330,
                    output_tokens=17,
                ),
            ]
        ),
    )
    front = tracer.Agent(
        name="Triage",
        instructions="Route the customer; answer small talk yourself.",
        handoffs=[technical],
        model=tracer.ScriptedModel(
            [
                call_tools(
                    tool_call("transfer_to_technical", call_id="c1"),
                    input_tokens=240,
                    output_tokens=14,
                ),
                call_tools(
                    tool_call("transfer_to_technical", call_id="c2"),
                    input_tokens=300,
                    output_tokens=14,
                ),
                reply(
                    "You're welcome! Anything else, just ask.", input_tokens=360, output_tokens=11
                ),
            ]
        ),
    )
    history: list[tracer.runner.models.base.Message] = []
    for message in ("The app logs me out.", "That didn't help.", "Updating fixed it, thanks!"):
        result = tracer.Runner.run_sync(
            front,
            [*history, {"role": "user", "content": message}],
            workflow_name="app help",
            conversation_id="three-messages",
        )
        history = result.to_input_list()


def _recent(
    messages: list[tracer.runner.models.base.Message],
) -> list[tracer.runner.models.base.Message]:
    """A handoff input filter: the next agent sees the request and the latest exchange."""
    return [*messages[:1], *messages[-3:]] if len(messages) > 4 else messages


def long_conversation(turns: int = 220) -> None:
    """A long working session: four agents passing work along, calling tools between
    handoffs (so no ping-pong), for at least ``turns`` model calls. Each handoff passes
    on only recent history, as long sessions do, which keeps the recording small."""
    names = ["Planner", "Researcher", "Writer", "Reviewer"]
    agents = {name: tracer.Agent(name=name, instructions=f"You are the {name}.") for name in names}

    @tracer.function_tool
    async def work(task: str) -> str:
        """Do one unit of work.

        Args:
            task: What to do.
        """
        return f"done: {task}"

    scripts: dict[str, list[tracer.runner.models.scripted.Step]] = {name: [] for name in names}
    made = 0
    step = 0
    while made < turns - 2:
        name = names[step % len(names)]
        target = names[(step + 1) % len(names)]
        scripts[name].append(
            call_tools(
                tool_call("work", {"task": f"task {step}"}, call_id=f"w{step}"),
                input_tokens=500 + step % 9 * 37,
                output_tokens=24,
            )
        )
        scripts[name].append(
            call_tools(
                tool_call(f"transfer_to_{target.lower()}", call_id=f"h{step}"),
                input_tokens=540 + step % 9 * 37,
                output_tokens=16,
            )
        )
        made += 2
        step += 1
    last = names[step % len(names)]
    scripts[last].append(
        reply("The report is finished and reviewed.", input_tokens=610, output_tokens=12)
    )
    for index, name in enumerate(names):
        agent = agents[name]
        agent.model = tracer.ScriptedModel(scripts[name])
        agent.tools = [work]
        agent.handoffs = [
            tracer.handoff(agents[names[(index + 1) % len(names)]], input_filter=_recent)
        ]
    tracer.Runner.run_sync(
        agents["Planner"],
        "Write the quarterly support report.",
        max_turns=turns + 10,
        workflow_name="report",
        conversation_id="long-conversation",
    )


def content_off() -> None:
    """The support run again, recorded with content capture off (``tracer.setup(...,
    capture_content=False)``): agents, handoffs and timings, no messages."""
    tracer.Runner.run_sync(
        triage.build(call_ids="q"),
        triage.QUESTION,
        workflow_name="support",
        conversation_id="content-off",
    )


SCENARIOS: dict[str, Scenario] = {
    "support_triage": support_triage,
    "manager_specialists": manager_specialists,
    "hybrid_dispute": hybrid_dispute,
    "ping_pong": ping_pong,
    "tool_error": tool_error,
    "max_turns": max_turns,
    "three_messages": three_messages,
    "long_conversation": long_conversation,
    "content_off": content_off,
}
