"""Synthetic stores for benchmarks: many realistic conversations, or one very long one.

    python bench/synth.py OUT.duckdb --spans 1000000

Spans follow baton's conventions and go through ``SpanRows`` and ``Store.ingest`` like
real ones. Conversations vary: handoff chains, tool calls, agents used as tools, a
ping-pong loop in every seventh, an error in every eleventh.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

from tracer.capture.spanrows import SpanRows
from tracer.store import Store

AGENTS = ["Triage", "Billing", "Refunds", "Technical", "Sales"]
EPOCH_NS = 1_767_225_600_000_000_000  # 2026-01-01T00:00:00Z


class _Trace:
    """Builds the spans of one trace, advancing a clock so order is unambiguous."""

    def __init__(self, rows: SpanRows, trace_number: int, clock_ns: int, content: bool) -> None:
        self.rows = rows
        self.trace_id = f"{trace_number:032x}"
        self.clock = clock_ns
        self.counter = 0
        self.content = content
        self.turn = 0

    def span(
        self, name: str, parent: str | None, attributes: dict[str, object], *, error: bool = False
    ) -> str:
        self.counter += 1
        self.clock += 1_000_000
        span_id = f"{int(self.trace_id[-8:], 16):08x}{self.counter:08x}"
        self.rows.add(
            trace_id=self.trace_id,
            span_id=span_id,
            parent_span_id=parent,
            name=name,
            kind="client" if name.startswith("chat") else "internal",
            start_ns=self.clock,
            end_ns=self.clock + 800_000,
            status="error" if error else "unset",
            attributes=attributes,
        )
        return span_id

    def chat(self, parent: str, agent: str, *, final: bool, tool_call: str | None = None) -> None:
        self.turn += 1
        attributes: dict[str, object] = {
            "gen_ai.operation.name": "chat",
            "gen_ai.request.model": "gpt-4.1-mini",
            "gen_ai.response.model": "gpt-4.1-mini",
            "gen_ai.usage.input_tokens": 300 + 17 * self.turn,
            "gen_ai.usage.output_tokens": 40,
            "gen_ai.response.finish_reasons": ["stop"] if final else ["tool_calls"],
        }
        if self.content:
            parts: list[dict[str, object]] = (
                [{"type": "text", "content": f"{agent} answers turn {self.turn}."}]
                if final
                else [
                    {
                        "type": "tool_call",
                        "id": f"call_{self.turn}",
                        "name": tool_call,
                        "arguments": {},
                    }
                ]
            )
            attributes["gen_ai.input.messages"] = json.dumps(
                [{"role": "user", "parts": [{"type": "text", "content": f"question {self.turn}"}]}]
            )
            attributes["gen_ai.output.messages"] = json.dumps(
                [
                    {
                        "role": "assistant",
                        "parts": parts,
                        "finish_reason": "stop" if final else "tool_calls",
                    }
                ]
            )
        self.span("chat gpt-4.1-mini", parent, attributes)

    def tool(self, parent: str, name: str, *, error: bool = False) -> None:
        attributes: dict[str, object] = {
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": name,
            "gen_ai.tool.type": "function",
            "gen_ai.tool.call.id": f"call_{self.turn}",
            "gen_ai.tool.call.arguments": '{"id": "A-1"}',
            "gen_ai.tool.call.result": "boom" if error else '{"ok": true}',
        }
        if error:
            attributes["error.type"] = "ValueError"
        self.span(f"execute_tool {name}", parent, attributes, error=error)

    def handoff(self, parent: str, target: str) -> None:
        tool = f"transfer_to_{target.lower()}"
        self.span(
            f"execute_tool {tool} {target}",
            parent,
            {
                "gen_ai.operation.name": "execute_tool",
                "gen_ai.tool.name": tool,
                "gen_ai.tool.call.id": f"call_{self.turn}",
                "gen_ai.transfer.mode": "pass_control",
                "gen_ai.transfer.target.name": target,
                "gen_ai.transfer.target.type": "agent",
            },
        )

    def agent(self, parent: str, name: str, conversation_id: str) -> str:
        return self.span(
            f"invoke_agent {name}",
            parent,
            {
                "gen_ai.operation.name": "invoke_agent",
                "gen_ai.agent.name": name,
                "gen_ai.conversation.id": conversation_id,
            },
        )


def support_run(rows: SpanRows, number: int, clock_ns: int, rng: random.Random) -> int:
    """One run of a support conversation; returns the clock after it."""
    trace = _Trace(rows, number, clock_ns, content=True)
    conversation_id = f"conv-{number:07d}"
    root = trace.span(
        "invoke_workflow support",
        None,
        {
            "gen_ai.operation.name": "invoke_workflow",
            "gen_ai.workflow.name": "support",
            "gen_ai.conversation.id": conversation_id,
        },
    )
    path = ["Triage", rng.choice(AGENTS[1:])]
    if number % 7 == 0:
        path = ["Triage", "Billing", "Triage", "Billing", "Triage"]
    elif rng.random() < 0.4:
        path.append(rng.choice(AGENTS[1:]))
    for index, agent in enumerate(path):
        span = trace.agent(root, agent, conversation_id)
        last = index == len(path) - 1
        if not last and rng.random() < 0.5 and number % 7:
            trace.chat(span, agent, final=False, tool_call="lookup")
            trace.tool(span, "lookup", error=number % 11 == 0)
        if last:
            trace.chat(span, agent, final=True)
        else:
            target = path[index + 1]
            trace.chat(span, agent, final=False, tool_call=f"transfer_to_{target.lower()}")
            trace.handoff(span, target)
    return trace.clock


def many_conversations(store: Store, spans: int, seed: int = 7) -> int:
    """Fill ``store`` with about ``spans`` spans of short conversations; returns the count."""
    rng = random.Random(seed)
    rows = SpanRows()
    clock = EPOCH_NS
    total = 0
    number = 0
    while total + len(rows) < spans:
        number += 1
        clock = support_run(rows, number, clock, rng) + 1_000_000_000
        if len(rows) >= 100_000:
            total += len(rows)
            store.ingest(rows.to_arrow())
            rows = SpanRows()
    total += len(rows)
    store.ingest(rows.to_arrow())
    return total


def long_conversation(store: Store, turns: int, conversation_id: str = "long-conversation") -> str:
    """One trace of ``turns`` model calls, agents handing off and calling tools; returns its trace id."""
    rows = SpanRows()
    trace = _Trace(rows, 10**9 + turns, EPOCH_NS, content=True)
    root = trace.span(
        "invoke_workflow marathon",
        None,
        {"gen_ai.operation.name": "invoke_workflow", "gen_ai.conversation.id": conversation_id},
    )
    agent_index = 0
    while trace.turn < turns:
        agent = AGENTS[agent_index % len(AGENTS)]
        span = trace.agent(root, agent, conversation_id)
        trace.chat(span, agent, final=False, tool_call="lookup")
        trace.tool(span, "lookup")
        if trace.turn >= turns - 1:
            trace.chat(span, agent, final=True)
            break
        agent_index += 1
        target = AGENTS[agent_index % len(AGENTS)]
        trace.chat(span, agent, final=False, tool_call=f"transfer_to_{target.lower()}")
        trace.handoff(span, target)
    store.ingest(rows.to_arrow())
    return trace.trace_id


def main() -> None:
    parser = argparse.ArgumentParser(description="Build a synthetic baton store.")
    parser.add_argument("out", type=Path)
    parser.add_argument("--spans", type=int, default=1_000_000)
    parser.add_argument(
        "--long-turns", type=int, default=0, help="also one conversation of this many turns"
    )
    args = parser.parse_args()
    store = Store(args.out)
    started = time.perf_counter()
    count = many_conversations(store, args.spans)
    if args.long_turns:
        long_conversation(store, args.long_turns)
    print(f"{count} spans in {args.out} ({time.perf_counter() - started:.1f}s)")


if __name__ == "__main__":
    main()
