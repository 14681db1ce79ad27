"""What the Agents SDK re-run (#14) costs: the test workflow of ``tests/capture`` (a
handoff, a tool, one agent used as a tool twice at once: 6 model calls) on the SDK's real
models over HTTP to the scripted server on 127.0.0.1, recorded by ``tracer.agents_sdk``,
then re-run offline from the recording.

    python bench/bench_sdk_rerun.py [--rounds 5]

Prints, per API and streaming: the characters the re-serve facts add to each model call's
span (and the whole span's attributes), the recorded run's time, the re-run's (scratch
store, comparison and all), and their ratio; medians over the rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent.parent / "tests" / "capture"))
from agents import Runner
from agents.tracing import set_trace_processors
from scripted_agents_server import agent_server
from sdk_rerun_agents import NOWHERE, SCRIPTS, build, model_for

import tracer.agents_sdk as baton_sdk
from replay.sdk_recording import load_sdk_recording
from replay.sdk_rerun import sdk_rerun
from tracer.store import Store


async def run(agent: Any, streamed: bool) -> None:
    if streamed:
        result = Runner.run_streamed(agent, "Is A1 paid?")
        async for _ in result.stream_events():
            pass
    else:
        await Runner.run(agent, "Is A1 paid?")


async def measure(api: str, streamed: bool, rounds: int, folder: Path) -> str:
    recorded, rerun_times, added, whole = [], [], [], []
    for n in range(rounds):
        store = Store(folder / f"{api}-{streamed}-{n}.duckdb")
        set_trace_processors([])
        with agent_server(SCRIPTS) as server:
            processor = baton_sdk.install(store)
            started = time.perf_counter()
            await run(build(model_for(api, server.base_url)), streamed)
            recorded.append(time.perf_counter() - started)
            baton_sdk.uninstall(processor)
        rows = store.query("SELECT attributes::VARCHAR FROM spans WHERE op = 'chat'").rows
        for (text,) in rows:
            attributes = json.loads(text)
            whole.append(len(text))
            added.append(
                sum(
                    len(k) + len(str(v))
                    for k, v in attributes.items()
                    if k.startswith("openai_agents.call.")
                )
            )
        (trace_id,) = store.query("SELECT DISTINCT trace_id FROM spans").rows[0]
        recording = load_sdk_recording(store, trace_id)
        started = time.perf_counter()
        report = await sdk_rerun(recording, build(model_for(api, NOWHERE)))
        rerun_times.append(time.perf_counter() - started)
        assert report.report.follows, report.report.divergence
    run_ms, rerun_ms = statistics.median(recorded) * 1000, statistics.median(rerun_times) * 1000
    return (
        f"{api:9}  streamed={streamed!s:5}  re-serve facts {min(added):,}-{max(added):,} chars "
        f"per call (span {min(whole):,}-{max(whole):,})  recorded run {run_ms:.0f} ms  "
        f"re-run {rerun_ms:.0f} ms  ratio {rerun_ms / run_ms:.1f}"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    rounds = parser.parse_args().rounds
    with tempfile.TemporaryDirectory(prefix="baton-bench-rerun-") as folder:
        for api in ("responses", "chat"):
            for streamed in (False, True):
                print(await measure(api, streamed, rounds, Path(folder)), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
