"""What recording an OpenAI Agents SDK run with ``tracer.agents_sdk`` costs the run: the
same 3-turn workflow (a handoff, a tool call, an answer; scripted in-process model) with
the SDK's tracing going to a processor that does nothing (the floor), and to baton's.

    python bench/bench_sdk_recording.py [--runs 100] [--rounds 21]

Prints ms per run for both, the ratio (goal <= 1.1) and the caller thread's CPU per run,
the process's CPU, and the CPU of baton's conversion process (``tracer.capture.sdk_worker``,
where there is one: it runs beside the process, on another core if there is one).
Rounds alternate; medians are shown. The ratio is the median of each round pair's ratio
(a round of baton over the floor's round just before it), with their quartiles: on a
shared machine the speed of the host drifts from one second to the next, by more than
the difference measured, and a pair's two rounds see the same drift.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import agents
from agents.tracing import TracingProcessor, set_trace_processors

sys.path.insert(0, str(Path(__file__).parent))
from bench_runner import ANSWER, sdk_workflow

import tracer.agents_sdk as baton_sdk


class NoOp(TracingProcessor):
    def on_trace_start(self, trace: Any) -> None:
        pass

    def on_trace_end(self, trace: Any) -> None:
        pass

    def on_span_start(self, span: Any) -> None:
        pass

    def on_span_end(self, span: Any) -> None:
        pass

    def shutdown(self) -> None:
        pass

    def force_flush(self) -> None:
        pass


def helper_cpu(processor: TracingProcessor) -> float:
    """CPU seconds baton's conversion process has used so far (0 without one)."""
    helper = getattr(processor, "_helper", None)
    if helper is None:
        return 0.0
    try:
        with open(f"/proc/{helper.pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def runs(count: int, processor: TracingProcessor) -> tuple[float, float, float, float]:
    """Per run: wall seconds, the caller thread's CPU, the process's CPU (all threads:
    baton's flusher too), and the CPU of baton's conversion process."""
    set_trace_processors([processor])
    triage, script = sdk_workflow()
    for _ in range(count):
        script()
    helper = helper_cpu(processor)
    wall, cpu, process = time.perf_counter(), time.thread_time(), time.process_time()
    for _ in range(count):
        result = await agents.Runner.run(triage, "What did I pay for order 7?")
    wall, cpu = time.perf_counter() - wall, time.thread_time() - cpu
    # What the runs left to write is written now, not during the next round; its CPU
    # counts (the process's and the conversion process's), the wall time does not.
    processor.force_flush()
    process = time.process_time() - process
    helper = helper_cpu(processor) - helper
    assert result.final_output == ANSWER
    return wall / count, cpu / count, process / count, helper / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=21)
    args = parser.parse_args()
    floor: list[tuple[float, float, float, float]] = []
    baton: list[tuple[float, float, float, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        processor = baton_sdk.StoreTracingProcessor(Path(tmp) / "sdk.duckdb")
        asyncio.run(runs(20, NoOp()))  # warm-up: imports, first-call caches
        asyncio.run(runs(20, processor))
        for _ in range(args.rounds):
            floor.append(asyncio.run(runs(args.runs, NoOp())))
            baton.append(asyncio.run(runs(args.runs, processor)))
        processor.shutdown()
        stored = processor.store.query("SELECT count(*) FROM spans").rows[0][0]
    f_wall = statistics.median(r[0] for r in floor)
    b_wall = statistics.median(r[0] for r in baton)
    f_cpu = statistics.median(r[1] for r in floor)
    b_cpu = statistics.median(r[1] for r in baton)
    f_all = statistics.median(r[2] for r in floor)
    b_all = statistics.median(r[2] for r in baton)
    b_helper = statistics.median(r[3] for r in baton)
    paired = [b[0] / f[0] for f, b in zip(floor, baton, strict=True)]
    low, _, high = statistics.quantiles(paired, n=4) if len(paired) > 1 else paired * 3
    ratio = statistics.median(paired)
    print(f"{args.runs} runs x {args.rounds} rounds, medians; {stored:,} spans stored")
    print(f"  ms/run  SDK tracing to a no-op processor (floor)   {f_wall * 1000:7.2f}")
    print(f"  ms/run  tracer.agents_sdk recording                {b_wall * 1000:7.2f}")
    print(f"          ratio (goal <= 1.1)                        {ratio:7.2f}")
    print(f"          the round pairs' ratios: quartiles {low:.2f}-{high:.2f}, ", end="")
    print(f"range {min(paired):.2f}-{max(paired):.2f}")
    print(f"  caller CPU ms/run: floor {f_cpu * 1000:.2f}, baton {b_cpu * 1000:.2f}")
    print(
        f"  process CPU ms/run (all threads): floor {f_all * 1000:.2f}, "
        f"baton {b_all * 1000:.2f}, ratio {b_all / f_all:.2f}"
    )
    print(
        f"  conversion process CPU ms/run: {b_helper * 1000:.2f}; process + it, "
        f"ratio to the floor {(b_all + b_helper) / f_all:.2f}"
    )


if __name__ == "__main__":
    main()
