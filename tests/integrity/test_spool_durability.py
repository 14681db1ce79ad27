"""The receiver's spool with real processes and a real full disk: a request is answered
200 only once its spans are on the disk, and every acknowledged span is stored even if
the receiver is killed between writing a request and syncing it, or the disk fills."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from collector_process import post, start_collector
from filesystems import fill, small_filesystem
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from tracer.otlp.spool import SPOOL_DIR, Spool
from tracer.store import Store
from tracer.store.sanitize import Limits

TRACE = "5b8efff798038103d269b633813fc60c"
PROTOBUF = {"Content-Type": "application/x-protobuf"}

# A receiver's spool whose sync never returns: killed there, its request was written
# but neither synced nor acknowledged.
STUCK_IN_SYNC = textwrap.dedent(
    """
    import sys, time
    from tracer.otlp.protobuf import parse_protobuf
    from tracer.otlp.spool import Spool
    from tracer.store import Store
    from tracer.store.sanitize import Limits

    def stuck(fd):
        print("syncing", flush=True)
        time.sleep(600)

    body = sys.stdin.buffer.read()
    spool = Spool(Store(sys.argv[1]), Limits(), sync_file=stuck)
    spool.start()
    spool.put(body, parse_protobuf(body))
    print("acknowledged", flush=True)
    """
)


def request(ids: range) -> bytes:
    message = ExportTraceServiceRequest()
    scope = message.resource_spans.add().scope_spans.add()
    for n in ids:
        span = scope.spans.add()
        span.trace_id = bytes.fromhex(TRACE)
        span.span_id = n.to_bytes(8, "big")
        span.name = f"span {n}"
        span.start_time_unix_nano = 1_700_000_000_000_000_000 + n
        span.end_time_unix_nano = 1_700_000_001_000_000_000
    return bytes(message.SerializeToString())


def span_names(store: Store) -> list[str]:
    return sorted(row[0] for row in store.query("SELECT name FROM spans").rows)


def test_a_receiver_killed_between_writing_and_syncing_a_request_loses_nothing(
    tmp_path: Path,
) -> None:
    path = tmp_path / "killed.duckdb"
    receiver = subprocess.Popen(
        [sys.executable, "-c", STUCK_IN_SYNC, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=False,
    )
    assert receiver.stdin is not None and receiver.stdout is not None
    receiver.stdin.write(request(range(1, 51)))
    receiver.stdin.close()
    assert receiver.stdout.readline() == b"syncing\n"
    receiver.send_signal(signal.SIGKILL)
    receiver.wait(timeout=60)
    assert receiver.stdout.read() == b""  # never acknowledged

    store = Store(path)
    spool = Spool(store, Limits())
    spool.start()  # the killed one's log is no longer locked: read back whole
    spool.stop()
    assert span_names(store) == sorted(f"span {n}" for n in range(1, 51))
    assert list((store.incoming / SPOOL_DIR).iterdir()) == []
    assert not (store.incoming / "corrupt").exists()


def test_a_full_disk_refuses_requests_clearly_and_loses_no_acknowledged_span(
    tmp_path: Path,
) -> None:
    with small_filesystem(tmp_path / "full", "16m") as mount:
        path = mount / "collected.duckdb"
        collector = start_collector(path)
        acknowledged: list[str] = []
        ids = iter(range(1, 10_000))

        def send(count: int) -> int:
            numbers = [next(ids) for _ in range(count)]
            batch = range(numbers[0], numbers[-1] + 1)
            answer = post(collector.url, request(batch), PROTOBUF)
            if answer.status_code == 200:
                acknowledged.extend(f"span {n}" for n in batch)
            return answer.status_code

        assert [send(20) for _ in range(3)] == [200, 200, 200]
        fill(mount)
        refused = post(collector.url, request(range(5000, 5020)), PROTOBUF)
        assert refused.status_code == 503
        assert b"No space left on device" in refused.content
        (mount / "filler").unlink()
        assert send(20) == 200  # the receiver goes on once there is room again
        code, _, err = collector.stop()
        assert code == 0, err

        again = start_collector(path)  # whatever a conversion could not write, it kept
        code, _, err = again.stop()
        assert code == 0, err
        store = Store(path)
        assert span_names(store) == sorted(acknowledged)
        assert len(acknowledged) == 80
