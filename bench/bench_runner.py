"""Benchmark: baton's runner against the OpenAI Agents SDK on one 3-turn workflow.

Triage hands off to Billing, Billing calls a lookup tool, Billing answers; every model
is scripted and in-process. Run in one process, in one event loop:

  (b) baton's runner, recording off (no ``tracer.setup``)
  (c) the OpenAI Agents SDK with ``agents.testing.ScriptedModel``, tracing to an
      in-memory processor
  (a) baton's runner recording to a store (``tracer.setup``: batch processor and
      segment files, as users run it)

Prints ms per run, the ratios, and what recording costs per span on the caller's
thread: the wall-clock difference (a) - (b) per span (it includes the exporter
thread's competition for the GIL), and the caller thread's CPU time difference.
Goals: (a) <= 0.25 x (c); recording <= 25 us per span.

    python bench/bench_runner.py [--runs 400] [--rounds 7]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import agents
from agents.testing import ScriptedModel as SdkScriptedModel
from agents.testing import assistant_message, function_call
from agents.tracing import TracingProcessor

import tracer
from tracer.runner.models import ScriptedModel, call_tools, reply, tool_call

ANSWER = "Order 7 was paid: 42.00 EUR on 3 May."


def lookup(order_id: int) -> str:
    """Find an order's invoice."""
    return f"order {order_id}: 42.00 EUR, paid 3 May"


# -- baton ---------------------------------------------------------------------------


def baton_workflow() -> tuple[tracer.Agent, Callable[[], None]]:
    triage_model = ScriptedModel(name="gpt-bench")
    billing_model = ScriptedModel(name="gpt-bench")
    billing = tracer.Agent(
        name="Billing",
        instructions="Answer billing questions.",
        model=billing_model,
        tools=[tracer.function_tool(lookup)],
    )
    triage = tracer.Agent(
        name="Triage", instructions="Route the user.", model=triage_model, handoffs=[billing]
    )
    handoff = call_tools(tool_call("transfer_to_billing", call_id="call_h"), input_tokens=20)
    lookup_call = call_tools(tool_call("lookup", {"order_id": 7}, call_id="call_l"))
    answer = reply(ANSWER, input_tokens=60, output_tokens=12)

    def script_one_run() -> None:
        triage_model.add(handoff)
        billing_model.add(lookup_call, answer)

    return triage, script_one_run


async def baton_runs(runs: int) -> tuple[float, float]:
    triage, script = baton_workflow()
    for _ in range(runs):
        script()
    wall, cpu = time.perf_counter(), time.thread_time()
    for _ in range(runs):
        result = await tracer.Runner.run(triage, "What did I pay for order 7?")
    wall, cpu = time.perf_counter() - wall, time.thread_time() - cpu
    assert result.final_output == ANSWER
    return wall / runs, cpu / runs


# -- the OpenAI Agents SDK -----------------------------------------------------------


class InMemoryProcessor(TracingProcessor):
    """Keeps finished traces and spans in a list, like a test exporter."""

    def __init__(self) -> None:
        self.items: list[Any] = []

    def on_trace_start(self, trace: Any) -> None:
        pass

    def on_trace_end(self, trace: Any) -> None:
        self.items.append(trace)

    def on_span_start(self, span: Any) -> None:
        pass

    def on_span_end(self, span: Any) -> None:
        self.items.append(span)

    def shutdown(self) -> None:
        pass

    def force_flush(self) -> None:
        pass


def sdk_workflow() -> tuple[agents.Agent[Any], Callable[[], None]]:
    model = SdkScriptedModel()
    billing = agents.Agent(
        name="Billing",
        instructions="Answer billing questions.",
        model=model,
        tools=[agents.function_tool(lookup)],
    )
    triage = agents.Agent(
        name="Triage", instructions="Route the user.", model=model, handoffs=[billing]
    )

    def script_one_run() -> None:
        model.extend(
            [
                [function_call("transfer_to_billing", {}, call_id="call_h")],
                [function_call("lookup", {"order_id": 7}, call_id="call_l")],
                [assistant_message(ANSWER)],
            ]
        )

    return triage, script_one_run


async def sdk_runs(runs: int, processor: InMemoryProcessor) -> tuple[float, float]:
    triage, script = sdk_workflow()
    for _ in range(runs):
        script()
    processor.items.clear()
    wall, cpu = time.perf_counter(), time.thread_time()
    for _ in range(runs):
        result = await agents.Runner.run(triage, "What did I pay for order 7?")
    wall, cpu = time.perf_counter() - wall, time.thread_time() - cpu
    assert result.final_output == ANSWER
    assert processor.items, "the Agents SDK traced nothing"
    return wall / runs, cpu / runs


# -- measuring ------------------------------------------------------------------------


class GcClock:
    """Total time the garbage collector paused the process (any thread)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._started = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._started


GC = GcClock()


async def measure(
    label: str, bench: Callable[[int], Awaitable[tuple[float, float]]], runs: int, rounds: int
) -> tuple[float, float, float]:
    """Median wall-clock and caller-thread CPU seconds per run over ``rounds`` rounds,
    and the garbage collector's pauses per run."""
    await bench(max(runs // 4, 20))  # warm up: imports, caches, schemas
    walls, cpus = [], []
    gc_before = GC.seconds
    for _ in range(rounds):
        wall, cpu = await bench(runs)
        walls.append(wall)
        cpus.append(cpu)
    gc_per_run = (GC.seconds - gc_before) / (runs * rounds)
    wall, cpu = statistics.median(walls), statistics.median(cpus)
    print(
        f"  {label:<40} {wall * 1e3:7.3f} ms/run  (caller CPU {cpu * 1e3:.3f} ms, "
        f"GC {gc_per_run * 1e3:.3f} ms)",
        flush=True,
    )
    return wall, cpu, gc_per_run


async def spans_per_run(store: tracer.Store) -> int:
    triage, script = baton_workflow()
    script()
    result = await tracer.Runner.run(triage, "What did I pay for order 7?")
    tracer.shutdown()
    rows = store.query("SELECT count(*) FROM spans WHERE trace_id = ?", [result.trace_id]).rows
    return int(rows[0][0])


async def main(runs: int, rounds: int) -> None:
    print(f"3-turn workflow (handoff, tool, answer); median of {rounds} rounds x {runs} runs")
    with tempfile.TemporaryDirectory() as tmp:
        store = tracer.Store(Path(tmp) / "bench.duckdb")
        off_wall, off_cpu, off_gc = await measure(
            "(b) baton runner, recording off", baton_runs, runs, rounds
        )
        processor = InMemoryProcessor()
        agents.set_trace_processors([processor])
        sdk_wall, _, _ = await measure(
            "(c) Agents SDK, in-memory tracing",
            lambda n: sdk_runs(n, processor),
            runs,
            rounds,
        )
        tracer.setup(store)
        on_wall, on_cpu, on_gc = await measure(
            "(a) baton runner, recording to a store", baton_runs, runs, rounds
        )
        started = time.perf_counter()
        tracer.shutdown()
        flush = time.perf_counter() - started
        tracer.setup(store)
        spans = await spans_per_run(store)
        recorded = store.query("SELECT count(*) FROM spans").rows[0][0]

    print()
    print(f"  (a) / (c) = {on_wall / sdk_wall:.3f}   goal <= 0.25")
    print(f"  (b) / (c) = {off_wall / sdk_wall:.3f}")
    print(f"  (a) / (b) = {on_wall / off_wall:.3f}")
    per_span_wall = (on_wall - off_wall) / spans * 1e6
    per_span_cpu = (on_cpu - off_cpu) / spans * 1e6
    per_span_gc = (on_gc - off_gc) / spans * 1e6
    print(f"  recording, per span ({spans} spans per run):")
    print(f"    caller thread CPU ((a) - (b)) / spans = {per_span_cpu:6.1f} us   goal <= 25")
    print(f"      of which garbage collection         = {per_span_gc:6.1f} us")
    print(f"    wall clock ((a) - (b)) / spans        = {per_span_wall:6.1f} us")
    print("      (wall includes the exporter thread's work, which holds the GIL)")
    print(f"  shutdown (flush and absorb {recorded} spans into DuckDB): {flush * 1e3:.0f} ms")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=400, help="runs per round")
    parser.add_argument("--rounds", type=int, default=7, help="rounds; the median counts")
    options = parser.parse_args()
    sys.exit(asyncio.run(main(options.runs, options.rounds)))
