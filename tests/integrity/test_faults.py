"""Fault injection with real processes: recorders, the collector and readers killed with
SIGKILL at random moments, many times (bounded). Each round asserts exact counts: every
acknowledged span is stored, none twice, nothing stored that was never sent, no
traceback. The seed is printed so a failing round can be replayed (BATON_FAULT_SEED)."""

from __future__ import annotations

import http.client
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from collector_process import post, start_collector

from tracer.capture.spanrows import SpanRows
from tracer.store import Store

ROOT = Path(__file__).parent.parent
SEED = int(os.environ.get("BATON_FAULT_SEED") or random.randrange(1 << 30))
TRACE = "5b8efff798038103d269b633813fc60c"


@pytest.fixture
def rng() -> random.Random:
    print(f"fault seed {SEED} (BATON_FAULT_SEED={SEED} replays it)")
    return random.Random(SEED)


def span_ids(store: Store) -> list[str]:
    return [row[0] for row in store.query("SELECT span_id FROM spans").rows]


def assert_no_duplicates(store: Store) -> None:
    assert store.query(
        "SELECT count(*) FROM (SELECT trace_id, span_id FROM spans GROUP BY ALL HAVING count(*) > 1)"
    ).rows == [(0,)]


def test_recorders_killed_at_random_keep_every_flushed_span(
    store: Store, rng: random.Random
) -> None:
    kills = 6
    flushed_total = 0
    for round_ in range(kills):
        victim = subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "procs" / "recorder.py"),
                str(store.path),
                f"victim{round_}",
                "100000",
                "0.01",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert victim.stdout is not None
        flushed = 0
        target = rng.randrange(30, 300, 30)
        while flushed < target:
            line = victim.stdout.readline()
            assert line, victim.stderr.read() if victim.stderr else "recorder died"
            flushed = int(line.split()[1])
        time.sleep(rng.random() * 0.05)  # somewhere inside the next batch, or an absorb
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=30)
        counts = dict(
            store.query(
                "SELECT resource->>'$.\"service.name\"', count(*) FROM spans GROUP BY 1"
            ).rows
        )
        assert counts[f"victim{round_}"] >= flushed
        flushed_total += flushed
        assert_no_duplicates(store)
    print(f"{kills} recorders killed, {flushed_total} flushed spans, all stored, lost 0")


def json_request(ids: list[int]) -> bytes:
    spans = [
        {
            "traceId": TRACE,
            "spanId": f"{n:016x}",
            "name": f"span {n}",
            "startTimeUnixNano": "1700000000000000000",
            "endTimeUnixNano": "1700000001000000000",
        }
        for n in ids
    ]
    return json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": spans}]}]}).encode()


def protobuf_request(ids: list[int]) -> bytes:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    request = ExportTraceServiceRequest()
    scope = request.resource_spans.add().scope_spans.add()
    for n in ids:
        span = scope.spans.add()
        span.trace_id = bytes.fromhex(TRACE)
        span.span_id = n.to_bytes(8, "big")
        span.name = f"span {n}"
        span.start_time_unix_nano = 1_700_000_000_000_000_000
        span.end_time_unix_nano = 1_700_000_001_000_000_000
    return request.SerializeToString()


def test_the_collector_killed_under_concurrent_senders_loses_no_acknowledged_span(
    tmp_path: Path, rng: random.Random
) -> None:
    path = tmp_path / "collected.duckdb"
    acknowledged: set[int] = set()
    sent: set[int] = set()
    lock = threading.Lock()
    next_id = [1]
    kills = 5
    for _ in range(kills):
        collector = start_collector(path)
        stop = threading.Event()

        def sender(protobuf: bool, url: str, stop: threading.Event) -> None:
            while not stop.is_set():
                with lock:
                    ids = list(range(next_id[0], next_id[0] + 20))
                    next_id[0] += 20
                    sent.update(ids)
                body = protobuf_request(ids) if protobuf else json_request(ids)
                kind = "application/x-protobuf" if protobuf else "application/json"
                try:
                    answer = post(url, body, {"Content-Type": kind})
                except (OSError, http.client.HTTPException):
                    return  # the collector died under us, maybe mid-answer: not acknowledged
                if answer.status_code == 200:
                    with lock:
                        acknowledged.update(ids)

        senders = [
            threading.Thread(target=sender, args=(n % 2 == 0, collector.url, stop))
            for n in range(4)
        ]
        for thread in senders:
            thread.start()
        time.sleep(0.2 + rng.random() * 0.8)
        collector.process.send_signal(signal.SIGKILL)
        collector.process.wait(timeout=30)
        stop.set()
        for thread in senders:
            thread.join(timeout=60)
    final = start_collector(path)  # converts what the killed ones left in the spool
    code, _, err = final.stop()
    assert code == 0 and "Traceback" not in err, err
    store = Store(path)
    stored = {int(span_id, 16) for span_id in span_ids(store)}
    assert_no_duplicates(store)
    assert acknowledged <= stored, f"lost {len(acknowledged - stored)} acknowledged spans"
    assert stored <= sent
    assert not (store.incoming / "corrupt").exists()
    print(
        f"{kills} collectors killed; {len(acknowledged)} spans acknowledged, {len(stored)} stored "
        f"({len(stored) - len(acknowledged)} more that arrived unanswered), lost 0"
    )


def test_a_reader_killed_mid_absorb_leaves_every_span(store: Store, rng: random.Random) -> None:
    total = 0
    kills = 5
    for round_ in range(kills):
        for n in range(40):  # many segments, so an absorb takes a while
            rows = SpanRows()
            for k in range(25):
                span = round_ * 10_000 + n * 100 + k + 1
                rows.add(
                    trace_id=TRACE,
                    span_id=f"{span:016x}",
                    parent_span_id=None,
                    name="s",
                    kind="internal",
                    start_ns=1_700_000_000_000_000_000 + span,
                    end_ns=1_700_000_000_000_000_000 + span + 10,
                )
            store.write_segment(rows.to_arrow())
            total += 25
        reader = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tui",
                "sql",
                "--store",
                str(store.path),
                "select count(*) from spans",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        time.sleep(0.2 + rng.random() * 0.6)
        reader.send_signal(signal.SIGKILL)
        reader.wait(timeout=30)
    check = subprocess.run(
        [
            sys.executable,
            "-m",
            "tui",
            "sql",
            "--store",
            str(store.path),
            "--format",
            "json",
            "select count(*) as n, count(distinct span_id) as d from spans",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert check.returncode == 0 and "Traceback" not in check.stderr, check.stderr
    assert json.loads(check.stdout) == [{"n": total, "d": total}]
    assert store.pending_segments() == []
    print(f"{kills} readers killed mid-absorb; {total} spans in segments, {total} stored, lost 0")
