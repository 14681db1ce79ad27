"""Receiver throughput: ``baton collect`` fed by the standard OTLP/HTTP exporter from
another process in batches of 512, beside the in-process ``StoreExporter`` on the same
spans in the same run.

    python bench/bench_collect.py [--spans 100000]
    python bench/bench_collect.py --bursts 20000,200000,1000000 [--repeat 1]

(``--bursts``: only the receiver's peak resident memory, for each burst size. It rises
from 20k to ~200k spans, then stays flat: DuckDB's buffer pool, capped by the receiver's
ABSORB_MEMORY_LIMIT, fills as absorbs read and write the store's blocks and stops at the
cap. Measured on 2 shared cores, 128MB: 20k 272-273, 200k 345-372, 1M 393-433, 2M 419 MB;
peak RSS <= 440 MB whatever the burst.)

Figures, each beside the in-process ``StoreExporter.export`` on the same spans: spans/s
acknowledged by the receiver (an acknowledged batch is on disk), the CPU the
recording side spends per span (decoding, storing and absorbing into DuckDB included:
the figure that holds when other programs share the cores), the time the final
absorb takes (for the receiver: converting what its spool holds, then absorbing), and
the receiver's peak resident memory. Ratios are receiver / in-process. Runs alternate; medians
are shown, and the main ratios are the median of each round's own ratio (with their range).

Beside them, what this sender allows: its ceiling (the same sender against a receiver
that discards every body), one append + ``fdatasync`` of a batch's body on the same
disk, and the best a receiver that answers only once the body is durable could do (the
sender waits for each answer, so that is the ceiling with one sync added per batch);
the sender's wall time per batch beyond its own CPU time (waiting for the answer, or
for a core on a busy machine); and whether the 0.7x goal can be reached at all.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from statistics import median

BATCH = 512


def make_spans(count: int) -> list[object]:
    """Finished OpenTelemetry spans shaped like a multi-agent run's: agents, model calls
    with token counts and message content, tool calls with arguments and results."""
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "bench"}))
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("baton")
    made = 0
    while made < count:
        with tracer.start_as_current_span("invoke_agent Billing") as agent:
            agent.set_attributes(
                {
                    "gen_ai.operation.name": "invoke_agent",
                    "gen_ai.agent.name": "Billing",
                    "gen_ai.conversation.id": f"conv-{made // 100}",
                }
            )
            for turn in range(3):
                with tracer.start_as_current_span("chat gpt-4o") as chat:
                    chat.set_attributes(
                        {
                            "gen_ai.operation.name": "chat",
                            "gen_ai.request.model": "gpt-4o",
                            "gen_ai.response.model": "gpt-4o-2024-08-06",
                            "gen_ai.usage.input_tokens": 812 + turn,
                            "gen_ai.usage.output_tokens": 64,
                            "gen_ai.response.finish_reasons": ["tool_calls"],
                            "gen_ai.output.messages": json.dumps(
                                [{"role": "assistant", "parts": [{"type": "text",
                                  "content": "Let me look that invoice up for you. " * 4}]}]
                            ),
                        }
                    )  # fmt: skip
                with tracer.start_as_current_span("execute_tool lookup_invoice") as tool:
                    tool.set_attributes(
                        {
                            "gen_ai.operation.name": "execute_tool",
                            "gen_ai.tool.name": "lookup_invoice",
                            "gen_ai.tool.call.id": f"call_{made}_{turn}",
                            "gen_ai.tool.call.arguments": '{"invoice_id": "A1"}',
                            "gen_ai.tool.call.result": '{"amount": 42, "status": "paid"}',
                        }
                    )
        made += 7
    provider.shutdown()
    return list(memory.get_finished_spans())[:count]


def send(url: str, count: int) -> None:
    """The sender process: the standard exporter, batches of 512, one after another
    (as a BatchSpanProcessor's worker sends them). Prints its timing as JSON."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace.export import SpanExportResult

    spans = make_spans(count)
    exporter = OTLPSpanExporter(endpoint=url)
    exporter.export(spans[:BATCH])  # connect and warm up; not timed
    cpu = time.thread_time()
    start = time.perf_counter()
    for offset in range(0, len(spans), BATCH):
        if exporter.export(spans[offset : offset + BATCH]) is not SpanExportResult.SUCCESS:
            raise SystemExit("the receiver refused a batch")
    elapsed = time.perf_counter() - start
    cpu = time.thread_time() - cpu
    exporter.shutdown()
    batches = -(-len(spans) // BATCH)
    print(json.dumps({"spans": len(spans), "seconds": elapsed, "cpu": cpu, "batches": batches}))


@dataclass
class Run:
    spans_per_second: float
    cpu_us_per_span: float  # all CPU the recording side spent, absorbing included
    absorb_seconds: float
    peak_mb: float = 0.0  # the receiver's peak resident memory
    waited_ms: float = 0.0  # per batch, the sender's wall time beyond its own CPU time


def _waited_ms(result: dict[str, float]) -> float:
    """Per batch, the time the sender spent not computing: waiting for the answer (and
    for a core, when the machine is busy)."""
    return (result["seconds"] - result["cpu"]) / result["batches"] * 1e3


def receiver(count: int, workdir: Path, *, fsync: bool = True) -> Run:
    """``baton collect`` in its own process, fed by a sender process; ``fsync=False``
    runs it with BATON_FSYNC=0, to show what making each request durable costs."""
    store = workdir / f"collected-{time.time_ns()}.duckdb"
    env = {**os.environ, "BATON_FSYNC": "1" if fsync else "0"}
    collector = subprocess.Popen(
        [sys.executable, "-m", "tui", "collect", "--store", str(store), "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert collector.stdout is not None
    match = re.search(r"(http://127\.0\.0\.1:\d+/v1/traces)", collector.stdout.readline())
    if match is None:
        collector.kill()
        raise SystemExit("baton collect did not start")
    started_cpu = _cpu_seconds(collector.pid)  # start-up (imports) is not the receiver's work
    sender = subprocess.run(
        [sys.executable, __file__, "--send", match.group(1), "--spans", str(count)],
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(sender.stdout.strip().splitlines()[-1])
    stop = time.perf_counter()
    collector.send_signal(signal.SIGTERM)
    _, _, usage = os.wait4(collector.pid, 0)
    absorb = time.perf_counter() - stop
    collector.returncode = 0
    cpu = usage.ru_utime + usage.ru_stime - started_cpu
    _check(store, count)
    total = result["spans"] + BATCH  # the warm-up batch is received too
    peak = usage.ru_maxrss / 1024  # KiB on Linux
    rate = result["spans"] / result["seconds"]
    return Run(rate, cpu / total * 1e6, absorb, peak, _waited_ms(result))


def exporter_alone(count: int) -> tuple[float, float]:
    """spans/s of the same sender against a receiver that discards every body: the
    ceiling the exporter itself sets (it encodes each batch before sending it)."""
    import socket
    import threading

    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    async def discard(request: Request) -> Response:
        await request.body()
        return Response(b"", media_type="application/x-protobuf")

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    app = Starlette(routes=[Route("/v1/traces", discard, methods=["POST"])])
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        thread.join(0.01)
    try:
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/v1/traces"
        sender = subprocess.run(
            [sys.executable, __file__, "--send", url, "--spans", str(count)],
            capture_output=True,
            text=True,
            check=True,
        )
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
    result = json.loads(sender.stdout.strip().splitlines()[-1])
    return float(result["spans"] / result["seconds"]), _waited_ms(result)


def data_sync_ms(workdir: Path, size: int, times: int = 30) -> float:
    """Median time, on the disk the stores are on, to append ``size`` bytes to an open
    file and ``fdatasync`` it: the least a receiver that answers only once a body is
    durable adds to each request."""
    path = workdir / f"sync-probe-{time.time_ns()}"
    body = os.urandom(size)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    took = []
    try:
        for _ in range(times):
            start = time.perf_counter()
            os.write(fd, body)
            os.fdatasync(fd)
            took.append(time.perf_counter() - start)
    finally:
        os.close(fd)
        path.unlink()
    return median(took) * 1e3


def batch_bytes() -> int:
    """The size of one batch's protobuf body, as the exporter sends it."""
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

    return len(encode_spans(make_spans(BATCH)).SerializeToString())  # type: ignore[arg-type]


def in_process(count: int, workdir: Path) -> Run:
    """``StoreExporter.export`` called directly on the same spans, batch by batch."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tracer.capture.exporter import StoreExporter
    from tracer.store import Store

    spans = make_spans(count)
    store = Store(workdir / f"in-process-{time.time_ns()}.duckdb")
    exporter = StoreExporter(store, absorb_interval=2.0)
    cpu = time.process_time()
    start = time.perf_counter()
    for offset in range(0, len(spans), BATCH):
        exporter.export(spans[offset : offset + BATCH])  # type: ignore[arg-type]
    elapsed = time.perf_counter() - start
    stop = time.perf_counter()
    exporter.shutdown()
    absorb = time.perf_counter() - stop
    cpu = time.process_time() - cpu
    _check(store.path, count)
    return Run(len(spans) / elapsed, cpu / len(spans) * 1e6, absorb)


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _check(path: Path, at_least: int) -> None:
    import duckdb

    with duckdb.connect(str(path), read_only=True) as con:
        row = con.execute("SELECT count(*) FROM spans").fetchone()
    stored = row[0] if row else 0
    if stored < min(at_least, at_least - BATCH):
        raise SystemExit(f"only {stored} spans reached {path}")


def _paired(ratios: list[float]) -> str:
    """The median of the rounds' ratios, with their range when there are several."""
    if len(ratios) == 1:
        return f"{ratios[0]:.2f}"
    return f"{median(ratios):.2f} ({min(ratios):.2f}-{max(ratios):.2f})"


def peaks_by_burst(bursts: list[int], repeat: int) -> None:
    """The receiver's peak resident memory for bursts of each size, runs alternating:
    whether it grows with the burst."""
    print(f"receiver's peak resident memory by burst, {repeat} run(s) each, alternating")
    peaks: dict[int, list[float]] = {n: [] for n in bursts}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(repeat):
            for n in bursts:
                peaks[n].append(receiver(n, Path(tmp)).peak_mb)
                for stale in Path(tmp).glob("collected-*"):  # a 1M-span store is ~1 GB
                    shutil.rmtree(stale) if stale.is_dir() else stale.unlink()
    for n in bursts:
        runs = ", ".join(f"{p:.0f}" for p in peaks[n])
        label = f"peak memory, receiver, burst of {n:,} spans (MB)"
        print(f"  {label:<66}{max(peaks[n]):>10.0f}  (runs: {runs})")
    spread = max(max(p) for p in peaks.values()) - min(max(p) for p in peaks.values())
    print(f"  {'largest minus smallest (MB)':<66}{spread:>10.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spans", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each; medians shown")
    parser.add_argument("--send", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument(
        "--bursts",
        metavar="N,N,...",
        help="only the receiver's peak resident memory, for bursts of each size (spans)",
    )
    args = parser.parse_args()
    if args.send:
        send(args.send, args.spans)
        return
    if args.bursts:
        peaks_by_burst([int(n) for n in args.bursts.split(",")], args.repeat)
        return
    print(f"{args.spans} spans in batches of {BATCH}, {os.cpu_count()} cores, "
          f"median of {args.repeat} runs each, alternating")  # fmt: skip
    collected: list[Run] = []
    unsynced: list[Run] = []
    direct: list[Run] = []
    alone: list[tuple[float, float]] = []
    syncs: list[float] = []
    size = batch_bytes()
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.repeat):
            collected.append(receiver(args.spans, Path(tmp)))
            unsynced.append(receiver(args.spans, Path(tmp), fsync=False))
            direct.append(in_process(args.spans, Path(tmp)))
            alone.append(exporter_alone(args.spans))
            syncs.append(data_sync_ms(Path(tmp), size))
    rate = median(r.spans_per_second for r in collected)
    base = median(r.spans_per_second for r in direct)
    ceiling = median(a[0] for a in alone)
    # Each round's own ratios, of runs seconds apart: the host's speed drifts more than
    # that between rounds, so a ratio of two medians mixes several speeds.
    to_base = [
        c.spans_per_second / d.spans_per_second for c, d in zip(collected, direct, strict=True)
    ]
    to_ceiling = [c.spans_per_second / a[0] for c, a in zip(collected, alone, strict=True)]
    ceiling_to_base = [a[0] / d.spans_per_second for a, d in zip(alone, direct, strict=True)]
    sync_ms = median(syncs)
    # The sender waits for each answer before it encodes the next batch, so a receiver
    # that answers once the body is durable can do no better than the ceiling with one
    # data sync added to every batch.
    durable_best = BATCH / (BATCH / ceiling + sync_ms / 1e3)
    cpu = median(r.cpu_us_per_span for r in collected)
    base_cpu = median(r.cpu_us_per_span for r in direct)
    rows = [
        ("spans/s  baton collect (OTLP/HTTP, exporter in another process)", f"{rate:,.0f}"),
        ("spans/s  StoreExporter.export in-process (baseline)", f"{base:,.0f}"),
        ("         ratio (median of the rounds' ratios)", _paired(to_base)),
        ("spans/s  same exporter, receiver discarding (sender's ceiling)", f"{ceiling:,.0f}"),
        ("         ratio ceiling / in-process (rounds' median)", _paired(ceiling_to_base)),
        ("         ratio baton collect / ceiling (rounds' median)", _paired(to_ceiling)),
        (f"ms       one append + fdatasync of a batch's body ({size:,} bytes)", f"{sync_ms:.2f}"),
        ("spans/s  ceiling with that sync added per batch (best durable)", f"{durable_best:,.0f}"),
        ("         ratio best durable / in-process", f"{durable_best / base:.2f}"),
        ("         ratio baton collect / best durable", f"{rate / durable_best:.2f}"),
        (
            "ms/batch sender not computing: collect / no fsync / discard",
            " / ".join(
                f"{median(w):.1f}"
                for w in (
                    [r.waited_ms for r in collected],
                    [r.waited_ms for r in unsynced],
                    [a[1] for a in alone],
                )
            ),
        ),
        (
            "spans/s  baton collect without fsync (BATON_FSYNC=0)",
            f"{median(r.spans_per_second for r in unsynced):,.0f}",
        ),
        (
            "         ratio with fsync / without (what durability costs)",
            f"{rate / median(r.spans_per_second for r in unsynced):.2f}",
        ),
        ("CPU/span baton collect: decode, store, absorb (µs)", f"{cpu:.1f}"),
        ("CPU/span StoreExporter: convert, store, absorb (µs)", f"{base_cpu:.1f}"),
        ("         ratio", f"{cpu / base_cpu:.2f}"),
        ("final absorb, receiver (s)", f"{median(r.absorb_seconds for r in collected):.2f}"),
        ("final absorb, in-process (s)", f"{median(r.absorb_seconds for r in direct):.2f}"),
        ("peak memory, receiver (MB)", f"{max(r.peak_mb for r in collected):.0f}"),
    ]
    for label, value in rows:
        print(f"  {label:<66}{value:>18}")
    runs = ", ".join(f"{r.spans_per_second:,.0f}" for r in collected)
    print(
        f"  receiver runs: {runs} spans/s; goal >= 20,000: {'met' if rate >= 20_000 else 'NOT met'}"
    )
    goal = 0.7
    verdict = "met" if median(to_base) >= goal else "NOT met"
    print(f"  goal baton collect >= {goal}x in-process: {verdict} ({median(to_base):.2f}x)")
    if durable_best < goal * base:
        print(
            f"  the goal cannot be met with this sender: even a receiver costing nothing but "
            f"one data sync per batch would reach {durable_best:,.0f} spans/s, "
            f"{durable_best / base:.2f}x in-process (ceiling {ceiling:,.0f}, "
            f"sync {sync_ms:.2f} ms)"
        )


if __name__ == "__main__":
    main()
