"""The receiver bounds what one sender can cost it: time, connections, memory, log lines;
and its absorber survives anything."""

from __future__ import annotations

import json
import socket
import threading
import time
from pathlib import Path

import pytest
from collector_process import CollectorProcess, post, start_collector

TRACE = "5b8efff798038103d269b633813fc60c"


def body(count: int, first: int = 1, attribute: str = "x") -> bytes:
    spans = [
        {
            "traceId": TRACE,
            "spanId": f"{n:016x}",
            "name": f"span {n}",
            "startTimeUnixNano": "1700000000000000000",
            "endTimeUnixNano": "1700000001000000000",
            "attributes": [{"key": "note", "value": {"stringValue": attribute}}],
        }
        for n in range(first, first + count)
    ]
    return json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": spans}]}]}).encode()


def stored(collector: CollectorProcess) -> int:
    return int(collector.store.query("SELECT count(*) FROM spans").rows[0][0])


def port_of(collector: CollectorProcess) -> int:
    return int(collector.endpoint.rsplit(":", 1)[1])


def test_a_slow_body_gets_408_and_the_receiver_keeps_serving(tmp_path: Path) -> None:
    collector = start_collector(tmp_path / "s.duckdb", "--body-timeout", "1")
    try:
        slow = socket.create_connection(("127.0.0.1", port_of(collector)))
        slow.sendall(
            b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 1000\r\n\r\n{"
        )
        slow.settimeout(30)
        answer = slow.recv(4096).decode()
        assert answer.startswith("HTTP/1.1 408"), answer
        slow.close()
        ok = post(collector.url, body(3), {"Content-Type": "application/json"})
        assert ok.status_code == 200
    finally:
        code, _, err = collector.stop()
    assert code == 0 and "Traceback" not in err
    assert stored(collector) == 3


def test_an_aborted_upload_is_one_log_line(tmp_path: Path) -> None:
    collector = start_collector(tmp_path / "s.duckdb")
    for _ in range(3):
        cut = socket.create_connection(("127.0.0.1", port_of(collector)))
        cut.sendall(
            b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b'Content-Length: 100000\r\n\r\n{"resourceSpans": ['
        )
        cut.close()
    time.sleep(0.5)
    assert post(collector.url, body(2), {"Content-Type": "application/json"}).status_code == 200
    code, _, err = collector.stop()
    assert code == 0
    assert "Traceback" not in err
    assert err.count("disconnected before its request was complete") == 3
    assert stored(collector) == 2


@pytest.mark.skipif(not Path("/usr/bin/prlimit").exists(), reason="needs prlimit (util-linux)")
def test_the_absorber_survives_running_out_of_file_descriptors(tmp_path: Path) -> None:
    collector = start_collector(tmp_path / "s.duckdb", prefix=["prlimit", "--nofile=60:60"])
    try:
        assert post(collector.url, body(5), {"Content-Type": "application/json"}).status_code == 200
        idle = []
        for _ in range(80):  # more connections than the process has descriptors
            try:
                idle.append(socket.create_connection(("127.0.0.1", port_of(collector)), timeout=2))
            except OSError:
                break
        time.sleep(3)  # absorb rounds run (and fail) while no descriptor is free
        for sock in idle:
            sock.close()
        deadline = time.monotonic() + 60
        answer = None
        while time.monotonic() < deadline:
            try:
                answer = post(
                    collector.url, body(5, first=100), {"Content-Type": "application/json"}
                )
                if answer.status_code == 200:
                    break
            except OSError:
                pass
            time.sleep(0.5)
        assert answer is not None and answer.status_code == 200
        # The absorber, not a reader, empties incoming: it is still alive.
        while collector.store.pending_segments() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert collector.store.pending_segments() == []
        assert collector.process.poll() is None
    finally:
        _, _, err = collector.stop()
    assert "Traceback" not in err, err
    assert stored(collector) == 10


def peak_memory_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads peak memory from /proc")
def test_parallel_large_bodies_do_not_multiply_memory(tmp_path: Path) -> None:
    collector = start_collector(tmp_path / "s.duckdb")
    try:
        # About 18 MB of OTLP/JSON each, in many small spans: one Python object per value.
        spans_per_body = 64_000
        big = body(spans_per_body, attribute="y" * 40)
        assert 17_000_000 < len(big) < 20_000_000, len(big)
        baseline = peak_memory_mb(collector.process.pid)
        answers: list[int] = []

        bodies = [body(spans_per_body, first=n * 100_000, attribute="y" * 40) for n in range(1, 9)]

        def send(payload: bytes) -> None:
            answer = post(collector.url, payload, {"Content-Type": "application/json"})
            answers.append(answer.status_code)

        threads = [threading.Thread(target=send, args=(payload,)) for payload in bodies]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert answers == [200] * 8
        peak = peak_memory_mb(collector.process.pid)
    finally:
        code, _, err = collector.stop()
    assert code == 0, err
    assert stored(collector) == 8 * spans_per_body
    # Before the decoding slots, eight of these took the receiver from 150 MB to 2.3 GB.
    print(
        f"receiver peak memory: {baseline:.0f} MB idle, {peak:.0f} MB after 8 parallel 18 MB bodies"
    )
    assert peak - baseline < 1000
