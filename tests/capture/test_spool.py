"""The receiver's spool on its own: accepted requests appended durably to a log, one sync
each (shared when they arrive together), read back after a crash, and turned into
segments many at a time."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest
from test_capture_collect import protobuf_request

from tracer.otlp.spool import SPOOL_DIR, Spool
from tracer.otlp.spool_log import HEADER_SIZE, Frame, SpoolLog, frame_header
from tracer.store import Store
from tracer.store.private import private_dir
from tracer.store.sanitize import Limits


def test_requests_waiting_in_the_spool_become_one_segment(tmp_path: Path) -> None:
    store = Store(tmp_path / "spooled.duckdb")
    spool_dir = store.incoming / SPOOL_DIR
    spool_dir.mkdir(parents=True)
    names = [f"left {i}" for i in range(20)]
    for i, name in enumerate(names):  # as a killed receiver leaves them
        body = protobuf_request(name, bytes([i + 1]) * 8)
        (spool_dir / f"{i + 1:020d}-1-{i:012x}.pb").write_bytes(body)

    spool = Spool(store, Limits())
    spool.start()
    spool.stop()

    assert len(store.pending_segments()) == 1  # one file, one fsync, for all twenty
    assert list(spool_dir.iterdir()) == []
    assert sorted(store.query("SELECT name FROM spans").rows) == sorted((n,) for n in names)


class Syncs:
    """The spool's sync functions, counted (each still syncs for real)."""

    def __init__(self) -> None:
        self.files = 0
        self.folders = 0

    def file(self, fd: int) -> None:
        self.files += 1
        os.fdatasync(fd)

    def folder(self, fd: int) -> None:
        self.folders += 1
        os.fsync(fd)


def bodies(count: int) -> list[bytes]:
    return [protobuf_request(f"request {i}", (i + 1).to_bytes(8, "big")) for i in range(count)]


def test_each_request_costs_one_data_sync_and_the_folder_is_synced_only_for_a_new_log(
    tmp_path: Path,
) -> None:
    syncs = Syncs()
    log = SpoolLog(tmp_path, sync_file=syncs.file, sync_dir=syncs.folder)
    sent = bodies(20)
    frames = [log.append(body) for body in sent]

    assert (syncs.files, syncs.folders) == (20, 1)  # a file per request cost 20 and 20
    assert len(list(tmp_path.iterdir())) == 1  # one log, not a file per request
    assert [log.read(frame) for frame in frames] == sent
    log.converted(frames)
    log.close()
    assert list(tmp_path.iterdir()) == []  # all converted: deleted


def test_requests_arriving_during_a_sync_share_the_next_one(tmp_path: Path) -> None:
    """Group commit: while the first request's sync runs, seven more are appended; they
    wait, and one sync makes all seven durable."""
    sent = bodies(8)
    whole = sum(HEADER_SIZE + len(body) for body in sent)
    calls: list[int] = []

    def sync_file(fd: int) -> None:
        calls.append(fd)
        deadline = time.monotonic() + 120  # only a hang fails here
        while len(calls) == 1 and os.fstat(fd).st_size < whole:
            assert time.monotonic() < deadline, "the other requests were not appended"
            time.sleep(0.01)
        os.fdatasync(fd)

    log = SpoolLog(tmp_path, sync_file=sync_file, sync_dir=os.fsync)
    frames: dict[int, Frame] = {}
    first = threading.Thread(target=lambda: frames.setdefault(0, log.append(sent[0])))
    first.start()
    while not calls:
        time.sleep(0.001)
    others = [
        threading.Thread(target=lambda i=i: frames.setdefault(i, log.append(sent[i])))
        for i in range(1, 8)
    ]
    for thread in [*others]:
        thread.start()
    for thread in [first, *others]:
        thread.join(timeout=120)

    assert len(calls) == 2
    assert [log.read(frames[i]) for i in range(8)] == sent
    log.close()


def test_a_receivers_left_logs_are_read_back_and_deleted(tmp_path: Path) -> None:
    store = Store(tmp_path / "spooled.duckdb")
    left = SpoolLog(private_dir(store.incoming / SPOOL_DIR))
    for body in bodies(5):
        left.append(body)
    abandon(left)

    spool = Spool(store, Limits())
    spool.start()
    spool.stop()

    assert list(spool.directory.iterdir()) == []
    assert sorted(store.query("SELECT name FROM spans").rows) == [
        (f"request {i}",) for i in range(5)
    ]
    assert not (store.incoming / "corrupt").exists()
    assert not (store.incoming / "torn").exists()


def test_a_torn_tail_is_set_aside_named_and_the_whole_frames_converted(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = Store(tmp_path / "spooled.duckdb")
    left = SpoolLog(private_dir(store.incoming / SPOOL_DIR))
    for body in bodies(3):
        left.append(body)
    whole = os.fstat(left._current.fd).st_size  # type: ignore[union-attr]
    log_path = abandon(left)
    cut = bodies(4)[3]
    torn = frame_header(cut) + cut[: len(cut) // 2]  # a write a crash cut short
    with log_path.open("ab") as out:
        out.write(torn)

    spool = Spool(store, Limits())
    spool.start()
    spool.stop()

    assert sorted(store.query("SELECT name FROM spans").rows) == [
        (f"request {i}",) for i in range(3)
    ]
    aside = store.incoming / "torn" / f"{log_path.name}.at-{whole}"
    assert [p.name for p in aside.parent.iterdir()] == [aside.name]
    assert aside.read_bytes() == torn
    assert str(aside) in caplog.text and "torn tail" in caplog.text
    assert not (store.incoming / "corrupt").exists()
    assert list(spool.directory.iterdir()) == []


def test_a_frame_with_a_bad_checksum_costs_only_itself(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = Store(tmp_path / "spooled.duckdb")
    left = SpoolLog(private_dir(store.incoming / SPOOL_DIR))
    frames = [left.append(body) for body in bodies(3)]
    log_path = abandon(left)
    damaged = bytearray(log_path.read_bytes())
    damaged[frames[1].offset + 5] ^= 0xFF  # one byte of the second body
    log_path.write_bytes(bytes(damaged))

    spool = Spool(store, Limits())
    spool.start()
    spool.stop()

    assert sorted(store.query("SELECT name FROM spans").rows) == [("request 0",), ("request 2",)]
    start = frames[1].offset - HEADER_SIZE
    aside = store.incoming / "corrupt" / f"{log_path.name}.at-{start}"
    assert [p.name for p in aside.parent.iterdir()] == [aside.name]
    assert aside.read_bytes() == bytes(damaged[start : frames[1].offset + frames[1].size])
    assert str(aside) in caplog.text and "checksum" in caplog.text
    assert list(spool.directory.iterdir()) == []


def test_a_live_receivers_log_is_left_alone(tmp_path: Path) -> None:
    """Another receiver on the same store (its log locked) does not convert it twice."""
    store = Store(tmp_path / "spooled.duckdb")
    live = SpoolLog(private_dir(store.incoming / SPOOL_DIR))
    frame = live.append(bodies(1)[0])

    other = Spool(store, Limits())
    other.start()
    other.stop()

    assert store.pending_segments() == []
    assert live.read(frame) == bodies(1)[0]  # still there, still its own
    live.converted([frame])
    live.close()


def abandon(log: SpoolLog) -> Path:
    """Leave ``log``'s file as a killed receiver does: written, never converted, unlocked
    (a process's locks go with it)."""
    current = log._current
    assert current is not None
    os.close(current.fd)
    return current.path
