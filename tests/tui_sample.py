"""A small store of fixed conversations for the TUI's tests, snapshots and screenshots.

Spans follow baton's conventions and go through ``SpanRows`` and ``Store.ingest`` like
any recorded run; ids and times are fixed so every build is identical (snapshots compare
pixels). The conversations between them hit every part of the replay screen: a
Triage ⇄ Billing loop, a failing tool, an agent used as a tool, a long tool result, a run
recorded without content, and a conversation of two runs.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from tracer.capture.spanrows import SpanRows
from tracer.store import Store

START_NS = 1_773_478_800_000_000_000  # 2026-03-14 09:00:00 UTC
MODEL = "gpt-4.1-mini"

LOOPING = "support-7f3a"
SIMPLE = "orders-2b91"
NO_CONTENT = "quiet-9c04"
TWO_RUNS = "returns-e210"

CHARGES = {
    "order": "A-1017",
    "charges": [
        {"id": f"ch_{n}", "amount": 42.0, "currency": "EUR", "status": "captured"}
        for n in range(1, 7)
    ],
}


class SampleRun:
    """Builds one run's spans with a clock that moves 400 ms per span."""

    def __init__(
        self, rows: SpanRows, number: int, start_ns: int, conversation_id: str, *, content: bool
    ) -> None:
        self.rows = rows
        self.trace_id = f"{number:032x}"
        self.clock = start_ns
        self.count = 0
        self.content = content
        self.conversation_id = conversation_id
        self.history: list[dict[str, Any]] = []
        self.root = self.span(
            "invoke_workflow support",
            None,
            {
                "gen_ai.operation.name": "invoke_workflow",
                "gen_ai.workflow.name": "support",
                "gen_ai.conversation.id": conversation_id,
            },
        )

    def span(
        self,
        name: str,
        parent: str | None,
        attributes: dict[str, Any],
        *,
        error: str | None = None,
        millis: int = 400,
    ) -> str:
        self.count += 1
        self.clock += millis * 1_000_000
        span_id = f"{int(self.trace_id[-6:], 16):06x}{self.count:010x}"
        self.rows.add(
            trace_id=self.trace_id,
            span_id=span_id,
            parent_span_id=parent,
            name=name,
            kind="client" if name.startswith("chat") else "internal",
            start_ns=self.clock,
            end_ns=self.clock + (millis - 20) * 1_000_000,
            status="error" if error else "unset",
            status_message=error,
            attributes={**attributes, **({"error.type": error} if error else {})},
        )
        return span_id

    def agent(self, name: str, parent: str | None = None) -> str:
        return self.span(
            f"invoke_agent {name}",
            parent or self.root,
            {
                "gen_ai.operation.name": "invoke_agent",
                "gen_ai.agent.name": name,
                "gen_ai.conversation.id": self.conversation_id,
            },
        )

    def user(self, text: str) -> None:
        self.history.append({"role": "user", "parts": [{"type": "text", "content": text}]})

    def chat(
        self,
        parent: str,
        *,
        text: str | None = None,
        calls: Sequence[tuple[str, str, dict[str, Any]]] = (),
        system: str | None = None,
        tokens: tuple[int, int] = (320, 48),
        history: list[dict[str, Any]] | None = None,
    ) -> None:
        """A model call answering ``text`` and/or asking for ``calls`` (id, name, args)."""
        messages = self.history if history is None else history
        parts: list[dict[str, Any]] = []
        if text:
            parts.append({"type": "text", "content": text})
        for call_id, name, arguments in calls:
            parts.append({"type": "tool_call", "id": call_id, "name": name, "arguments": arguments})
        final = not calls
        output = {
            "role": "assistant",
            "parts": parts,
            "finish_reason": "stop" if final else "tool_calls",
        }
        attributes: dict[str, Any] = {
            "gen_ai.operation.name": "chat",
            "gen_ai.request.model": MODEL,
            "gen_ai.response.model": MODEL,
            "gen_ai.usage.input_tokens": tokens[0],
            "gen_ai.usage.output_tokens": tokens[1],
            "gen_ai.response.finish_reasons": ["stop"] if final else ["tool_calls"],
        }
        if self.content:
            attributes["gen_ai.input.messages"] = json.dumps(messages)
            attributes["gen_ai.output.messages"] = json.dumps([output])
            if system:
                attributes["gen_ai.system_instructions"] = json.dumps(
                    [{"type": "text", "content": system}]
                )
        self.span(f"chat {MODEL}", parent, attributes, millis=900)
        messages.append(output)

    def tool(
        self,
        parent: str,
        call_id: str,
        name: str,
        arguments: dict[str, Any],
        result: str,
        *,
        error: str | None = None,
        history: list[dict[str, Any]] | None = None,
    ) -> None:
        self.span(
            f"execute_tool {name}",
            parent,
            {
                "gen_ai.operation.name": "execute_tool",
                "gen_ai.tool.name": name,
                "gen_ai.tool.type": "function",
                "gen_ai.tool.call.id": call_id,
                "gen_ai.tool.call.arguments": json.dumps(arguments),
                "gen_ai.tool.call.result": result,
            },
            error=error,
        )
        self._respond(call_id, result, history)

    def handoff(self, parent: str, call_id: str, target: str) -> None:
        tool = f"transfer_to_{target.lower()}"
        self.span(
            f"execute_tool {tool} {target}",
            parent,
            {
                "gen_ai.operation.name": "execute_tool",
                "gen_ai.tool.name": tool,
                "gen_ai.tool.call.id": call_id,
                "gen_ai.transfer.mode": "pass_control",
                "gen_ai.transfer.target.name": target,
                "gen_ai.transfer.target.type": "agent",
            },
        )
        self._respond(call_id, json.dumps({"assistant": target}), None)

    def agent_tool(
        self, parent: str, call_id: str, name: str, target: str, question: str, answer: str
    ) -> str:
        """An agent called as a tool; returns the span the nested run goes under."""
        span = self.span(
            f"execute_tool {name} {target}",
            parent,
            {
                "gen_ai.operation.name": "execute_tool",
                "gen_ai.tool.name": name,
                "gen_ai.tool.call.id": call_id,
                "gen_ai.tool.call.arguments": json.dumps({"input": question}),
                "gen_ai.tool.call.result": answer,
                "gen_ai.transfer.mode": "return_to_caller",
                "gen_ai.transfer.target.name": target,
                "gen_ai.transfer.target.type": "agent",
            },
        )
        return span

    def _respond(self, call_id: str, result: str, history: list[dict[str, Any]] | None) -> None:
        (self.history if history is None else history).append(
            {
                "role": "tool",
                "parts": [{"type": "tool_call_response", "id": call_id, "response": result}],
            }
        )


TRIAGE = "You are Triage. Route billing questions to Billing and refunds to Refunds."


def looping_run(rows: SpanRows, number: int, start_ns: int) -> None:
    """Triage and Billing pass a double charge back and forth, then Refunds sorts it out,
    asks a Researcher agent, and one refund attempt fails."""
    run = SampleRun(rows, number, start_ns, LOOPING, content=True)
    run.user("I was charged twice for order A-1017. Please refund one of the charges.")
    hops = [
        ("Triage", "Billing"),
        ("Billing", "Triage"),
        ("Triage", "Billing"),
        ("Billing", "Triage"),
    ]
    lines = {
        "Triage": "This is about a charge, so Billing should take it.",
        "Billing": "A refund is not something I can issue; sending you back to Triage.",
    }
    for n, (agent, target) in enumerate(hops, start=1):
        span = run.agent(agent)
        call = f"call_hop{n}"
        run.chat(
            span,
            text=lines[agent],
            calls=[(call, f"transfer_to_{target.lower()}", {})],
            system=TRIAGE if agent == "Triage" else None,
        )
        run.handoff(span, call, target)
    span = run.agent("Triage")
    run.chat(
        span,
        text="Refunds handles exactly this.",
        calls=[("call_hop5", "transfer_to_refunds", {})],
        system=TRIAGE,
    )
    run.handoff(span, "call_hop5", "Refunds")
    span = run.agent("Refunds")
    run.chat(
        span,
        calls=[
            ("call_lookup", "lookup_charges", {"order": "A-1017"}),
            (
                "call_research",
                "ask_researcher",
                {"input": "Which charges on A-1017 are duplicates?"},
            ),
            ("call_refund", "refund_charge", {"charge": "ch_2"}),
        ],
        tokens=(1210, 96),
    )
    run.tool(span, "call_lookup", "lookup_charges", {"order": "A-1017"}, json.dumps(CHARGES))
    nested_parent = run.agent_tool(
        span,
        "call_research",
        "ask_researcher",
        "Researcher",
        "Which charges on A-1017 are duplicates?",
        "ch_2 is the duplicate of ch_1.",
    )
    inner: list[dict[str, Any]] = [
        {
            "role": "user",
            "parts": [{"type": "text", "content": "Which charges on A-1017 are duplicates?"}],
        }
    ]
    researcher = run.agent("Researcher", nested_parent)
    run.chat(
        researcher,
        text="ch_1 and ch_2 were captured a second apart for the same basket: ch_2 is the duplicate.",
        history=inner,
        tokens=(410, 31),
    )
    run._respond("call_research", "ch_2 is the duplicate of ch_1.", None)
    run.tool(
        span,
        "call_refund",
        "refund_charge",
        {"charge": "ch_2"},
        "card network timeout",
        error="TimeoutError",
    )
    run.chat(
        span,
        calls=[("call_refund2", "refund_charge", {"charge": "ch_2", "retry": True})],
        tokens=(1390, 40),
    )
    run.tool(
        span,
        "call_refund2",
        "refund_charge",
        {"charge": "ch_2", "retry": True},
        json.dumps({"refund": "re_88", "status": "succeeded"}),
    )
    run.chat(
        span,
        text="Done: I refunded the duplicate charge ch_2 (42.00 EUR). It reaches your card in 3–5 days.",
        tokens=(1460, 52),
    )


def simple_run(rows: SpanRows, number: int, start_ns: int) -> None:
    run = SampleRun(rows, number, start_ns, SIMPLE, content=True)
    run.user("Do you ship to Norway?")
    span = run.agent("Triage")
    run.chat(span, calls=[("call_sales", "transfer_to_sales", {})], system=TRIAGE)
    run.handoff(span, "call_sales", "Sales")
    span = run.agent("Sales")
    run.chat(span, text="Yes: orders to Norway ship in 4 days, duties included.")


def quiet_run(rows: SpanRows, number: int, start_ns: int) -> None:
    """A producer with content capture off: timings and tools, no messages."""
    run = SampleRun(rows, number, start_ns, NO_CONTENT, content=False)
    span = run.agent("Triage")
    run.chat(span, calls=[("call_t", "transfer_to_technical", {})])
    run.handoff(span, "call_t", "Technical")
    span = run.agent("Technical")
    run.chat(span, calls=[("call_status", "service_status", {})])
    run.tool(span, "call_status", "service_status", {}, "all systems normal")
    run.chat(span)


def two_runs(rows: SpanRows, number: int, start_ns: int) -> None:
    """One conversation, two user messages, two runs sharing the conversation id."""
    for offset, question, answer in (
        (0, "Can I return shoes I wore once?", "Yes, within 30 days if they are clean."),
        (
            1,
            "And how do I send them back?",
            "Print the label from your order page and drop the box at any post office.",
        ),
    ):
        run = SampleRun(
            rows, number + offset, start_ns + offset * 60_000_000_000, TWO_RUNS, content=True
        )
        run.user(question)
        span = run.agent("Triage")
        run.chat(span, calls=[(f"call_r{offset}", "transfer_to_returns", {})], system=TRIAGE)
        run.handoff(span, f"call_r{offset}", "Returns")
        span = run.agent("Returns")
        run.chat(span, text=answer)


def build_sample_store(store: Store) -> Store:
    """Fill ``store`` with the sample conversations (oldest first: two runs, quiet, simple,
    looping); returns it."""
    rows = SpanRows()
    minute = 60_000_000_000
    two_runs(rows, 0x10, START_NS)
    quiet_run(rows, 0x20, START_NS + 5 * minute)
    simple_run(rows, 0x30, START_NS + 10 * minute)
    looping_run(rows, 0x40, START_NS + 15 * minute)
    store.ingest(rows.to_arrow())
    return store


def build_many(store: Store, count: int) -> Store:
    """``count`` short conversations ``bulk-0000``…, one minute apart, for paging."""
    rows = SpanRows()
    for n in range(count):
        run = SampleRun(
            rows, 0x1000 + n, START_NS + n * 60_000_000_000, f"bulk-{n:04d}", content=False
        )
        span = run.agent("Triage")
        run.chat(span)
    store.ingest(rows.to_arrow())
    return store
