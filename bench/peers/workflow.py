"""What every part of ``bench/bench_peers.py`` runs and measures, one tool per process.

Imports only the standard library, the Agents SDK and ``openai``, so it runs in baton's
venv and in each peer's (``bench/peers/setup.sh``). A part calls ``main(tool)`` with its
tool's setup, flush and query; it prints one JSON line with what it measured.

The workflow: Triage hands off to Billing, which calls a ``lookup`` tool and answers —
the real ``agents.Runner`` with its real ``OpenAIChatCompletionsModel`` over HTTP to the
scripted server that ``bench_peers.py`` runs on 127.0.0.1 (``tests/producers/
scripted_model.py``; an agent is recognised by the ``[agent:Name]`` in its instructions).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.metadata
import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import agents
from agents.tracing import Span, Trace, TracingProcessor, add_trace_processor
from openai import AsyncOpenAI

QUESTION = "What did I pay for order 7?"
ANSWER = "You paid 42 EUR for order 7 (invoice A7, card ending 4242)."
POLL_SECONDS = 0.25  # between two queries of a tool's store
QUIET_SECONDS = 30.0  # a count unchanged this long after the flush is final


def script(runs: int) -> dict[str, list[dict[str, Any]]]:
    """The scripted server's replies for ``runs`` runs, per agent, in order."""
    transfer = {"tool_calls": [{"name": "transfer_to_billing", "arguments": {}}]}
    lookup = {"tool_calls": [{"name": "lookup", "arguments": {"order_id": 7}}]}
    return {"Triage": [transfer] * runs, "Billing": [lookup, {"text": ANSWER}] * runs}


def lookup(order_id: int) -> str:
    """Look an order up.

    Args:
        order_id: The order's number.
    """
    return f"order {order_id}: 42 EUR, invoice A7, paid by card ending 4242"


def triage_agent(model_url: str) -> agents.Agent[Any]:
    client = AsyncOpenAI(base_url=model_url, api_key="sk-scripted-bench", max_retries=0)
    model = agents.OpenAIChatCompletionsModel(model="gpt-scripted", openai_client=client)
    billing = agents.Agent(
        name="Billing",
        instructions="[agent:Billing] Answer billing questions; look orders up.",
        model=model,
        tools=[agents.function_tool(lookup)],
    )
    return agents.Agent(
        name="Triage",
        instructions="[agent:Triage] Route the user to the right specialist.",
        model=model,
        handoffs=[billing],
    )


class CountingProcessor(TracingProcessor):
    """Counts the traces and spans the SDK ends: the truth each tool's store is held to."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.traces = 0
        self.spans = 0
        self.by_type: Counter[str] = Counter()  # ended spans by the SDK's span type

    def on_trace_start(self, trace: Trace) -> None:
        pass

    def on_trace_end(self, trace: Trace) -> None:
        with self._lock:
            self.traces += 1

    def on_span_start(self, span: Span[Any]) -> None:
        pass

    def on_span_end(self, span: Span[Any]) -> None:
        with self._lock:
            self.spans += 1
            self.by_type[span.span_data.type] += 1

    def shutdown(self) -> None:
        pass

    def force_flush(self) -> None:
        pass


@dataclass
class Tool:
    """One tool's side of the benchmark, done the way its documentation says."""

    name: str
    package: str  # whose version is reported
    flush: Callable[[], None]  # what a program calls before it reads what it recorded
    count: Callable[[], tuple[int, int]]  # (spans, traces) in the tool's store, by its own API
    # The spans a tool stores besides one per SDK span (a root per trace, one per model
    # call from its openai-client instrumentation), from what the SDK emitted.
    extra_spans: Callable[[CountingProcessor], int]
    extra_doc: str  # the same, said in words for the printout
    # A cheaper query of the trace count alone, polled before the full ``count``.
    count_traces: Callable[[], int] | None = None
    records: bool = True  # False for the floor: runs with nothing recording them


async def _run_all(runs: int, model_url: str) -> None:
    triage = triage_agent(model_url)
    for _ in range(runs):
        result = await agents.Runner.run(triage, QUESTION)
        if result.final_output != ANSWER:
            raise SystemExit(f"a run answered {result.final_output!r}, not the scripted answer")


def settle(
    count: Callable[[], tuple[int, ...]], expected: tuple[int, ...], started: float
) -> tuple[tuple[int, ...], float, int]:
    """Query until the store holds ``expected`` or its count stops changing; returns the
    last count, when a query first saw it (seconds after ``started``: the query's start,
    so a slow query does not count against the store), and how many queries it took."""
    last: tuple[int, ...] | None = None
    seen_at = time.perf_counter()
    queries = 0
    while True:
        asked = time.perf_counter()
        got = count()
        queries += 1
        if got != last:
            last, seen_at = got, asked
        if all(g >= e for g, e in zip(got, expected, strict=True)):
            break
        if time.perf_counter() - seen_at > QUIET_SECONDS:
            break
        time.sleep(POLL_SECONDS)
    return last, seen_at - started, queries


def main(setup: Callable[[argparse.Namespace], Tool]) -> None:
    """Parse the part's arguments, set the tool up, run, flush, query; print JSON."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, required=True)
    parser.add_argument("--model-url", required=True)
    parser.add_argument("--workdir", required=True, help="where the tool keeps its store")
    args = parser.parse_args()
    tool = setup(args)
    counter = CountingProcessor()
    add_trace_processor(counter)  # beside the tool's, whichever way it registered
    started, cpu = time.perf_counter(), time.process_time()
    asyncio.run(_run_all(args.runs, args.model_url))
    ran = time.perf_counter() - started
    tool.flush()
    flushed, cpu = time.perf_counter() - started, time.process_time() - cpu
    expected = (counter.spans + tool.extra_spans(counter), counter.traces)
    queries = more = spans = traces = 0
    queryable = flushed
    if tool.count_traces is not None and tool.records:
        count_traces = tool.count_traces
        _, _, queries = settle(lambda: (count_traces(),), expected[1:], started)
    if tool.records:
        (spans, traces), queryable, more = settle(tool.count, expected, started)
    print(
        json.dumps(
            {
                "tool": tool.name,
                "version": importlib.metadata.version(tool.package),
                "agents_version": importlib.metadata.version("openai-agents"),
                "runs": args.runs,
                "sdk_spans": counter.spans,
                "sdk_traces": counter.traces,
                "expected_spans": expected[0],
                "stored_spans": spans,
                "stored_traces": traces,
                "runs_seconds": ran,
                "flushed_seconds": flushed,
                "cpu_seconds": cpu,  # this process's, from the first run to the flush's end
                "queryable_seconds": queryable,
                "queries": queries + more,
                "extra_doc": tool.extra_doc,
                "sdk_spans_by_type": dict(sorted(counter.by_type.items())),
            }
        )
    )
